using System.Net;
using NicBypass.Runtime.Accounting;
using NicBypass.Runtime.Stacks;

namespace NicBypass.Runtime.Classification;

/// <summary>
/// One rule programmed into a classifier: frames to <see cref="Mac"/> go to receive ring
/// <see cref="Ring"/>, on the way to the VNIC whose <see cref="Counters"/> they are charged to
/// (per-flow hardware accounting: a later drop, a full ring, is charged to the right VNIC).
/// The rest is what the VNIC declares — <see cref="Vlan"/> (0 = untagged), <see cref="Ips"/>,
/// <see cref="Ports"/> for <see cref="Protocols"/>, multicast <see cref="Groups"/> — and a
/// classifier matches the part its fields cover (<see cref="DestinationFilter"/>); the VNIC
/// checks the rest in software. <see cref="Flows"/> are the VNIC's: a classifier that matches
/// ports drops the blocked ones it can match.
/// </summary>
internal sealed record ClassifierRule(
    ulong Mac,
    int Vlan,
    int Ring,
    TrafficCounters Counters,
    IReadOnlyList<IPAddress>? Ips = null,
    IReadOnlyList<int>? Ports = null,
    StackProtocols Protocols = StackProtocols.None,
    IReadOnlyList<IPAddress>? Groups = null,
    IReadOnlyList<Flow>? Flows = null)
{
    /// <summary>
    /// The group MACs frames reach this rule's VNIC on (docs/architecture.md § Classification as advertised): broadcast, all-hosts,
    /// all-nodes, the solicited-node group of each IPv6 address, and each declared group.
    /// </summary>
    public IEnumerable<ulong> GroupMacs()
    {
        yield return GroupAddress.Broadcast;
        yield return GroupAddress.AllHosts;
        yield return GroupAddress.AllNodes;
        foreach (var ip in Ips ?? Array.Empty<IPAddress>())
        {
            if (ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6) yield return GroupAddress.SolicitedNode(ip);
        }
        foreach (var group in Groups ?? Array.Empty<IPAddress>()) yield return GroupAddress.Of(group);
    }
}
