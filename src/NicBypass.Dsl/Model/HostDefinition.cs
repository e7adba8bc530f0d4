using NicBypass.Dsl.Text;

namespace NicBypass.Dsl.Model;

/// <summary>A checked host: its processors, NICs, VNICs and flows in declaration order.</summary>
/// <param name="Extent">The whole <c>host NAME { … }</c> block, for telling which diagnostics are this host's.</param>
public sealed record HostDefinition(
    string Name,
    int Cpus,
    EquatableArray<NicDefinition> Nics,
    EquatableArray<VnicDefinition> Vnics,
    SourceLocation Location,
    EquatableArray<FlowDefinition> Flows = default,
    SourceLocation? Extent = null)
{
    /// <summary>True when <paramref name="diagnostic"/> is located inside this host's block (<see cref="Extent"/>).</summary>
    public bool Encloses(Diagnostics.Diagnostic diagnostic) =>
        Extent is { } extent && diagnostic.Location.Path == extent.Path
        && diagnostic.Location.Span.Start >= extent.Span.Start && diagnostic.Location.Span.Start <= extent.Span.End;

    public const int DefaultCpus = 1;

    /// <summary>The most processors a host may declare (each is a simulated processor with a thread in the threaded mode).</summary>
    public const int MaxCpus = 1024;

    /// <summary>The most NICs a host may declare (NB0037).</summary>
    public const int MaxNics = 256;

    /// <summary>The most VMs, containers and services a host may declare together (NB0037).</summary>
    public const int MaxVnics = 16_384;

    /// <summary>The most flows a host may declare (NB0037); overlaps are checked pairwise per VNIC.</summary>
    public const int MaxFlows = 1024;

    /// <summary>The VNICs on <paramref name="nic"/>, in declaration order.</summary>
    public IEnumerable<VnicDefinition> VnicsOn(string nic) => Vnics.Where(v => v.Nic == nic);
}
