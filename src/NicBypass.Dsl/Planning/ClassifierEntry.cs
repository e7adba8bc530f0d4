using NicBypass.Dsl.Model;
using NicBypass.Dsl.Values;

namespace NicBypass.Dsl.Planning;

/// <summary>
/// One classifier rule: frames to <see cref="Mac"/> (and, where the classifier matches them, to
/// one of <see cref="Ips"/>, in <see cref="Vlan"/>, to one of <see cref="Ports"/>) go to
/// receive ring <see cref="Ring"/>, on the way to <see cref="Vnic"/>.
/// Fields the classifier does not match are left empty.
/// </summary>
/// <param name="Vlan">VLAN id, or 0 for untagged. Always set: where the hardware cannot match VLANs, the driver's receive path checks it.</param>
public sealed record ClassifierEntry(
    MacAddress Mac,
    int Vlan,
    EquatableArray<IpAddress> Ips,
    EquatableArray<int> Ports,
    TransportProtocols Protocols,
    int Ring,
    string Vnic);
