namespace NicBypass.Generators;

/// <summary>Names of the pipeline steps, so tests can assert which stayed cached.</summary>
internal static class TrackingNames
{
    public const string Options = nameof(Options);
    public const string Files = nameof(Files);
    public const string Compile = nameof(Compile);
    public const string Diagnostics = nameof(Diagnostics);
    public const string Hosts = nameof(Hosts);
    public const string StandIns = nameof(StandIns);
}
