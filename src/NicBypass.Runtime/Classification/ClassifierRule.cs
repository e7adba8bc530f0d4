using System.Net;
using NicBypass.Runtime.Accounting;

namespace NicBypass.Runtime.Classification;

/// <summary>
/// One rule programmed into a classifier: frames to <see cref="Mac"/> in <see cref="Vlan"/>
/// (0 = untagged) go to receive ring <see cref="Ring"/>. <see cref="Counters"/> are the counters
/// of the VNIC the rule leads to: the classifier counts a frame there when it picks that VNIC,
/// so a later drop (a full ring) is charged to the right VNIC (per-flow hardware accounting).
/// IPs and ports qualify the rule where the classifier matches them; with unique MACs per NIC
/// they never change which ring a frame goes to, and the VNS judges layer-3 addressing.
/// </summary>
internal sealed record ClassifierRule(
    ulong Mac,
    int Vlan,
    int Ring,
    TrafficCounters Counters,
    IReadOnlyList<IPAddress>? Ips = null,
    IReadOnlyList<int>? Ports = null);
