namespace NicBypass.Dsl.Lowering;

/// <summary>Check the wiring and enable the NICs: the host is ready for traffic.</summary>
public sealed record StartStep() : HostBuildStep
{
    public override string Describe() => "check the wiring and enable the NICs";
}
