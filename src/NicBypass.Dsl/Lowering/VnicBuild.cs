namespace NicBypass.Dsl.Lowering;

/// <summary>A VNIC's settings in the runtime's terms.</summary>
/// <param name="Member">The generated class's property for what is behind it (the VM, container or service).</param>
/// <param name="Kind">The keyword that declared it: vm, container or service.</param>
/// <param name="Macs">48-bit MAC values.</param>
/// <param name="Ips">Addresses in canonical text (<c>10.0.0.1</c>, <c>fd00::1</c>); empty with <c>ip dhcp</c> alone.</param>
/// <param name="Vlan">VLAN id, 0 for untagged.</param>
/// <param name="Bandwidth">Inbound allocation in bits per second.</param>
/// <param name="OutboundBandwidth">Outbound allocation in bits per second.</param>
/// <param name="Multicast">Multicast groups it joins, in canonical text.</param>
/// <param name="PrefixLengths">The prefix length of each of <paramref name="Ips"/>.</param>
/// <param name="Gateways">Its routers (one per family), in canonical text.</param>
/// <param name="Dhcp">True with <c>ip dhcp</c>: its stack learns an IPv4 address, subnet and router by DHCP.</param>
/// <param name="Cpus">Processors a destination's VSQ worker runs on, from <paramref name="Cpu"/> on (<c>cpu 2-3</c>: 2).</param>
public sealed record VnicBuild(
    string Name,
    string Member,
    string Kind,
    string Nic,
    EquatableArray<ulong> Macs,
    EquatableArray<string> Ips,
    int Vlan,
    int? Cpu,
    ulong? Bandwidth,
    ulong? OutboundBandwidth,
    int Cpus = 1,
    EquatableArray<string> Multicast = default,
    EquatableArray<int> PrefixLengths = default,
    EquatableArray<string> Gateways = default,
    bool Dhcp = false)
{
    /// <summary>True when some address has a prefix shorter than its family's width: the stack then knows its subnets (routing, subnet broadcast).</summary>
    public bool HasSubnets => PrefixLengths.Select((length, i) => length < (Ips[i].IndexOf(':') >= 0 ? 128 : 32)).Any(shorter => shorter);
}
