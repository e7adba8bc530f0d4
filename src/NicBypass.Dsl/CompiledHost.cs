using NicBypass.Dsl.Model;
using NicBypass.Dsl.Planning;

namespace NicBypass.Dsl;

/// <summary>One host of a compilation: its checked definition and its placement, always together.</summary>
public sealed record CompiledHost(HostDefinition Definition, HostPlan Plan)
{
    public string Name => Definition.Name;
}
