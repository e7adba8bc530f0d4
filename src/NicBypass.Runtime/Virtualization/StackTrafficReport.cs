namespace NicBypass.Runtime.Virtualization;


/// <summary>A VNS: frames it received (its VNIC's delivered), handed to sockets, answered itself (ARP, echo), sent, and dropped by reason.</summary>
public sealed record StackTrafficReport(long Received, long Delivered, long Answered, long Sent, IReadOnlyList<KeyValuePair<string, long>> Dropped, long SynQueueOverflows = 0);
