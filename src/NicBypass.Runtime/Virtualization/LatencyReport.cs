namespace NicBypass.Runtime.Virtualization;

/// <summary>A VNIC's latency in a report (<c>latencyMicroseconds</c>): from a frame's last bit on the wire to its delivery, in microseconds.</summary>
public sealed record LatencyReport(double P50, double P99, double Max);
