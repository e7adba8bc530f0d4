namespace NicBypass.Dsl.Lowering;

/// <summary>Bind software receive ring <paramref name="Ring"/> of software ring <paramref name="SoftwareRing"/> to VNIC <paramref name="Vnic"/>: its software interrupts go to the VNIC's processor.</summary>
public sealed record BindSoftwareReceiveRingStep(string Nic, string SoftwareRing, int Ring, string Vnic) : HostBuildStep
{
    public override string Describe() => $"{SoftwareRing}/srr{Ring} → {Vnic}";
}
