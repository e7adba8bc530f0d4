namespace NicBypass.Runtime.Virtualization;

/// <summary>
/// One flow's counters in a report (README.md § A short tour <c>flows</c>): frames selected,
/// delivered, delivered bytes, drops by reason, and frames still waiting in its own queue:
/// <c>Received = Delivered + Σ Dropped + Queued</c>.
/// </summary>
public sealed record FlowTrafficReport(string Name, long Received, long Delivered, long DeliveredBytes, IReadOnlyList<KeyValuePair<string, long>> Dropped, long Queued = 0);
