namespace NicBypass.Runtime.Rings;

/// <summary>A receive ring of a software ring (SRR), fed by its software classifier; raises software interrupts.</summary>
public sealed class SoftwareReceiveRing(string softwareRing, int index, int capacity) : ReceiveRing(softwareRing + "/srr" + index, capacity)
{
    public int Index { get; } = index;

    internal override InterruptKind InterruptKind => InterruptKind.Software;
}
