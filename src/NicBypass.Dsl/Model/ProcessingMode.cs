namespace NicBypass.Dsl.Model;

/// <summary>How a VNIC's receive ring is drained: the VSQ polls it (bandwidth enforced) or the
/// ring raises interrupts. VMs are always interrupt-driven.</summary>
public enum ProcessingMode
{
    Polling,
    Interrupt,
}
