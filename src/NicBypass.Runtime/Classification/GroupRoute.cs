using NicBypass.Runtime.Accounting;

namespace NicBypass.Runtime.Classification;

/// <summary>
/// Where a group-addressed frame in one VLAN goes: one copy per receive ring that serves a VNIC
/// in that VLAN, and for each ring the VNICs behind it (whose counters the copy is charged to).
/// </summary>
internal sealed class GroupRoute(int[] rings, TrafficCounters[][] targets)
{
    public int[] Rings { get; } = rings;

    public TrafficCounters[][] Targets { get; } = targets;
}
