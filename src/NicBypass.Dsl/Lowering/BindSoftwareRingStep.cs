namespace NicBypass.Dsl.Lowering;

/// <summary>
/// Stack software ring <paramref name="Id"/> with <paramref name="Rings"/> software receive rings
/// on NIC <paramref name="Nic"/>: on hardware receive ring <paramref name="Ring"/> when
/// <paramref name="Parent"/> is null, else on software receive ring <paramref name="Ring"/> of
/// software ring <paramref name="Parent"/> (software rings nest).
/// </summary>
public sealed record BindSoftwareRingStep(string Nic, string? Parent, int Ring, string Id, int Rings) : HostBuildStep
{
    public override string Describe() =>
        $"{(Parent is null ? "hrr" + Ring : Parent + "/srr" + Ring)} → software ring {Id} ({Rings} software receive rings)";
}
