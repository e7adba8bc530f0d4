using System.Net;

namespace NicBypass.Runtime.Virtualization;

/// <summary>How a VNIC is set up: its NIC, addresses, VLAN and the processor its interrupts go to.</summary>
/// <param name="Vlan">VLAN id 1..4094, or 0 for untagged.</param>
/// <param name="Cpu">Processor bound to its interrupts; none = spread by VNIC number.</param>
/// <param name="Bandwidth">Inbound allocation in bits per second, if any.</param>
/// <param name="OutboundBandwidth">Outbound allocation in bits per second, if any.</param>
/// <param name="Multicast">Multicast groups it joins (224.0.0.0/4, ff00::/8), beyond broadcast, all-hosts, all-nodes and its solicited-node groups.</param>
/// <param name="Cpus">Processors a container's or service's VSQ worker runs on, from its <paramref name="Cpu"/> on (<c>cpu 2-3</c> is 2 from 2): a UDP-only VNS spreads its work over them, a TCP one runs on one at a time.</param>
/// <param name="PrefixLengths">The prefix length of each of <paramref name="Ips"/> (its subnet); null: host routes. Only routing reads them.</param>
/// <param name="Dhcp">Its stack learns an IPv4 address, subnet and router by DHCP (<c>ip dhcp</c>; RFC 2131), and IPv6 addresses and a router by SLAAC (RFC 4862), from when the host starts.</param>
/// <param name="Gateways">Its routers, at most one per family, each on one of its subnets: off-link traffic goes to them. None: every destination is on-link.</param>
public sealed record VnicSettings(
    string Name,
    string Nic,
    IReadOnlyList<ulong> Macs,
    IReadOnlyList<IPAddress>? Ips = null,
    int Vlan = 0,
    int? Cpu = null,
    long? Bandwidth = null,
    long? OutboundBandwidth = null,
    int Cpus = 1,
    IReadOnlyList<IPAddress>? Multicast = null,
    IReadOnlyList<int>? PrefixLengths = null,
    IReadOnlyList<IPAddress>? Gateways = null,
    bool Dhcp = false);
