namespace NicBypass.Dsl.Lowering;

/// <summary>Bind NIC <paramref name="Nic"/>'s hardware receive ring <paramref name="Ring"/> to VNIC <paramref name="Vnic"/>: its interrupts go to the VNIC's processor.</summary>
public sealed record BindHardwareRingStep(string Nic, int Ring, string Vnic) : HostBuildStep
{
    public override string Describe() => $"hrr{Ring} → {Vnic}";
}
