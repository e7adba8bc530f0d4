namespace NicBypass.Runtime.Virtualization;

/// <summary>One flow's counters in a report (README.md § A short tour <c>flows</c>): frames selected, delivered, delivered bytes, drops by reason.</summary>
public sealed record FlowTrafficReport(string Name, long Received, long Delivered, long DeliveredBytes, IReadOnlyList<KeyValuePair<string, long>> Dropped);
