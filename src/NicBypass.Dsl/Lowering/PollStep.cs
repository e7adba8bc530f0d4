namespace NicBypass.Dsl.Lowering;

/// <summary>Put VNIC <paramref name="Vnic"/>'s ring in polling mode: interrupts off, its VSQ pulls frames as its allocation allows.</summary>
public sealed record PollStep(string Vnic) : HostBuildStep
{
    public override string Describe() => $"{Vnic}: polling mode (bandwidth enforced by the rate of polling)";
}
