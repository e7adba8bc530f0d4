namespace NicBypass.Runtime.Virtualization;

/// <summary>
/// What each stage of the datapath costs the processor that runs it, in nanoseconds — the cost
/// model of the simulation (docs/runtime.md). With costs, a processor that is busy makes work
/// wait: frames stay in their rings, rings fill and drop, and each processor reports how busy it
/// was. <see cref="Free"/> (the default of a host) charges nothing and runs every stage at once,
/// as functional tests want; <see cref="Default"/> is what <c>nicbypass simulate</c> uses.
/// </summary>
/// <param name="InterruptNanoseconds">Taking a hardware or software interrupt (entry, dispatch, exit).</param>
/// <param name="PollNanoseconds">One call of a ring's poll entry point.</param>
/// <param name="FrameNanoseconds">Moving one frame from a ring to its VNIC and on to the VM or VNS.</param>
/// <param name="CopyNanosecondsPerByte">Copying a frame's bytes (into VM memory, into a serialization queue).</param>
/// <param name="ClassifyNanoseconds">A software classifier's decision for one frame (a software ring).</param>
/// <param name="StackNanoseconds">The receiving stack's IP and transport work for one frame (a VM's guest or a VNS).</param>
/// <param name="TransmitNanoseconds">Sending one frame a stack built on a processor (a VNS's replies and segments, a VM guest's on its vCPU): its output work, the VNIC and the transmit ring. An application's own sends from its own thread are not charged to a modelled processor.</param>
public sealed record CostTable(
    long InterruptNanoseconds,
    long PollNanoseconds,
    long FrameNanoseconds,
    double CopyNanosecondsPerByte,
    long ClassifyNanoseconds,
    long StackNanoseconds,
    long TransmitNanoseconds = 0)
{
    /// <summary>No costs: every stage runs at once (the host's default).</summary>
    public static CostTable Free { get; } = new(0, 0, 0, 0, 0, 0);

    /// <summary>
    /// The default costs (docs/benchmarks.md says where each comes from): the frame hand-off
    /// (17 ns), software classification (12 ns) and the stack (60 ns) from this project's own
    /// BenchmarkDotNet figures; interrupt entry (1 µs), a poll (100 ns) and copying (0.05 ns a
    /// byte, 20 GB/s) are typical of server hardware, since a simulated interrupt or copy costs
    /// nothing like a real one. Sending a frame (200 ns) is the transmit-path benchmark's socket
    /// send, stack to wire.
    /// </summary>
    public static CostTable Default { get; } = new(
        InterruptNanoseconds: 1_000,
        PollNanoseconds: 100,
        FrameNanoseconds: 17,
        CopyNanosecondsPerByte: 0.05,
        ClassifyNanoseconds: 12,
        StackNanoseconds: 60,
        TransmitNanoseconds: 200);

    /// <summary>True when nothing costs anything: processors never wait.</summary>
    public bool IsFree => InterruptNanoseconds == 0 && PollNanoseconds == 0 && FrameNanoseconds == 0 && CopyNanosecondsPerByte == 0
                          && ClassifyNanoseconds == 0 && StackNanoseconds == 0 && TransmitNanoseconds == 0;
}
