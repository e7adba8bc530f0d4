using NicBypass.Dsl;
using NicBypass.Dsl.Diagnostics;

namespace NicBypass.Generators.Models;

/// <summary>What the language made of all the project's .nicdsl files: hosts to emit and diagnostics to report.</summary>
internal sealed record GeneratorResult(EquatableArray<HostEmitModel> Hosts, EquatableArray<Diagnostic> Diagnostics)
{
    /// <summary>The hosts with errors of their own, as stand-ins (<see cref="StandInModel"/>).</summary>
    public EquatableArray<StandInModel> StandIns { get; init; } = EquatableArray<StandInModel>.Empty;
}
