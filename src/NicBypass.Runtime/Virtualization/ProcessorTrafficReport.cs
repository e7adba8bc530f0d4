namespace NicBypass.Runtime.Virtualization;

/// <summary>
/// One processor in a report (the <c>cpus</c> entries of README.md § A short tour): the fraction of the run's
/// time it spent on datapath work under the cost model, the interrupts it took and the polls it ran.
/// </summary>
public sealed record ProcessorTrafficReport(int Id, double Busy, long HardwareInterrupts, long SoftwareInterrupts, long Polls);
