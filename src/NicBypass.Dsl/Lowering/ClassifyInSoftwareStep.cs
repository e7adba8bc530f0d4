namespace NicBypass.Dsl.Lowering;

/// <summary>
/// Crossbow's fallback when the hardware classifier has too few entries (docs/architecture.md § Classification as advertised): NIC
/// <paramref name="Nic"/> sends what its hardware classifier does not match to hardware ring
/// <paramref name="Ring"/>, whose software ring classifies it in software.
/// </summary>
public sealed record ClassifyInSoftwareStep(string Nic, int Ring) : HostBuildStep
{
    public override string Describe() => $"what the hardware classifier does not match → hrr{Ring}, classified in software";
}
