using NicBypass.Dsl.Model;
using NicBypass.Dsl.Values;

namespace NicBypass.Dsl.Planning;

/// <summary>
/// One classifier rule: frames to <see cref="Mac"/> in <see cref="Vlan"/>, to one of
/// <see cref="Ips"/> (none: any) and to one of <see cref="Ports"/> of <see cref="Protocols"/>
/// (none: any) go to receive ring <see cref="Ring"/>, on the way to <see cref="Vnic"/>. It holds
/// everything the VNIC declares; the classifier matches the fields its model advertises
/// (<see cref="ClassifierProgram.Fields"/>) and the VNIC checks the rest in software (docs/architecture.md § Classification as advertised).
/// </summary>
/// <param name="Vlan">VLAN id, or 0 for untagged (or priority-tagged).</param>
/// <param name="Ips">Its declared addresses; empty with <c>ip dhcp</c> (classified on the MAC alone).</param>
public sealed record ClassifierEntry(
    MacAddress Mac,
    int Vlan,
    EquatableArray<IpAddress> Ips,
    EquatableArray<int> Ports,
    TransportProtocols Protocols,
    int Ring,
    string Vnic);
