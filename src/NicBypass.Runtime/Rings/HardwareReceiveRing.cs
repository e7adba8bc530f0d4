namespace NicBypass.Runtime.Rings;

/// <summary>A receive ring on the NIC (HRR), fed by the hardware classifier; raises hardware interrupts on its MSI vector.</summary>
public sealed class HardwareReceiveRing(int index, int capacity, int msiVector) : ReceiveRing("hrr" + index, capacity)
{
    public int Index { get; } = index;

    /// <summary>The MSI vector this ring raises (rings share vectors when there are fewer vectors than rings).</summary>
    public int MsiVector { get; internal set; } = msiVector;

    internal override InterruptKind InterruptKind => InterruptKind.Hardware;
}
