using NicBypass.Dsl.Text;
using NicBypass.Dsl.Values;

namespace NicBypass.Dsl.Model;

/// <summary>
/// A checked <c>vm</c>, <c>container</c> or <c>service</c>: the VNIC that serves it and what is
/// behind it. Every VNIC acts like a NIC of its own: MACs, IPs, VLAN, ports and protocols.
/// </summary>
/// <param name="Vlan">VLAN id 1..4094, or 0 for untagged.</param>
/// <param name="Dhcp">True when one of its <c>ip</c> lines is <c>dhcp</c>: the address is learned at run time.</param>
/// <param name="DeclarationIndex">Position among the host's VNICs, the last placement tie-breaker.</param>
/// <param name="RingLocation">Where <c>ring hardware</c> was written, for NB0017.</param>
/// <param name="Multicast">Multicast groups it joins (<c>multicast 224.0.0.251</c>), beyond the ones every VNIC is in (docs/architecture.md § Classification as advertised).</param>
/// <param name="Gateways">Its routers (<c>gateway 192.168.10.1</c>), at most one per family, each inside one of its subnets: off-link traffic goes to them.</param>
public sealed record VnicDefinition(
    string Name,
    VnicKind Kind,
    string Nic,
    EquatableArray<MacAddress> Macs,
    EquatableArray<IpPrefix> Ips,
    bool Dhcp,
    int Vlan,
    TransportProtocols Protocols,
    EquatableArray<int> Ports,
    BitRate? Bandwidth,
    BitRate? OutboundBandwidth,
    ProcessingMode Mode,
    int? Cpu,
    RingPolicy Ring,
    PacketTransform Transform,
    int DeclarationIndex,
    SourceLocation Location,
    SourceLocation? RingLocation,
    int CpuCount = 1,
    EquatableArray<IpAddress> Multicast = default,
    EquatableArray<IpAddress> Gateways = default)
{
    /// <summary>The keyword that declared it: vm, container or service.</summary>
    public string KindKeyword => Kind switch
    {
        VnicKind.Vm => "vm",
        VnicKind.Container => "container",
        _ => "service",
    };

    public override string ToString() => $"{KindKeyword} '{Name}'";
}
