using NicBypass.Dsl.Text;

namespace NicBypass.Dsl.Model;

/// <summary>A checked host: its processors, NICs, VNICs and flows in declaration order.</summary>
public sealed record HostDefinition(
    string Name,
    int Cpus,
    EquatableArray<NicDefinition> Nics,
    EquatableArray<VnicDefinition> Vnics,
    SourceLocation Location,
    EquatableArray<FlowDefinition> Flows = default)
{
    public const int DefaultCpus = 1;

    /// <summary>The most processors a host may declare (each is a simulated processor with a thread in the threaded mode).</summary>
    public const int MaxCpus = 1024;

    /// <summary>The VNICs on <paramref name="nic"/>, in declaration order.</summary>
    public IEnumerable<VnicDefinition> VnicsOn(string nic) => Vnics.Where(v => v.Nic == nic);
}
