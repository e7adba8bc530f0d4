namespace NicBypass.Runtime.Rings;

/// <summary>Where a ring's interrupts go: the processor bound to the VM, VSQ or software ring it serves.</summary>
internal interface IInterruptTarget
{
    void RaiseInterrupt(ReceiveRing ring);
}
