namespace NicBypass.Runtime.Virtualization;

/// <summary>
/// A VM's side of the boundary in a report (under the cost model): the fraction of the run its
/// vCPU was busy, the virtual interrupts it took, the most frames its guest receive ring held,
/// and the sends held back by its outbound allocation.
/// </summary>
public sealed record GuestTrafficReport(double Busy, long VirtualInterrupts, int GuestRingHighWater, long Blocked);
