using NicBypass.Runtime.Rings;

namespace NicBypass.Runtime.Virtualization;

/// <summary>
/// One MSI vector of a NIC, as the host routes it: the hardware receive rings that raise it and
/// the processor the host assigned it to (from the <c>cpu</c> of the first VNIC bound to one of
/// its rings). Rings that share a vector share its interrupt: while one of them is being
/// serviced, another's frames join the same handler pass instead of interrupting again.
/// Reassigning the vector (<see cref="HostNic.AssignVector"/>) moves the interrupts.
/// </summary>
public sealed class MsiVector : IInterruptTarget
{
    private int _outstanding; // rings of this vector waiting in the handler pass

    internal MsiVector(int index, Processor processor)
    {
        Index = index;
        Processor = processor;
    }

    public int Index { get; }

    /// <summary>The processor its interrupts go to.</summary>
    public Processor Processor { get; internal set; }

    /// <summary>Interrupts it raised (a handler pass may serve several rings).</summary>
    public long Interrupts { get; private set; }

    void IInterruptTarget.RaiseInterrupt(ReceiveRing ring)
    {
        // Only the first ring to need service raises the interrupt; the others join its pass.
        if (Interlocked.Increment(ref _outstanding) == 1)
        {
            Interrupts++;
            Processor.RaiseInterrupt(ring);
        }
        else
        {
            Processor.JoinInterrupt(ring);
        }
    }

    void IInterruptTarget.InterruptServiced(ReceiveRing ring) => Interlocked.Decrement(ref _outstanding);

    void IInterruptTarget.ChargeClassification(int frames) => ((IInterruptTarget)Processor).ChargeClassification(frames);

    void IInterruptTarget.FrameArrived(ReceiveRing ring) => ((IInterruptTarget)Processor).FrameArrived(ring);

    public override string ToString() => $"msi{Index} → {Processor}";
}
