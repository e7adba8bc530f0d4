using NicBypass.Dsl.Diagnostics;
using NicBypass.Dsl.Model;
using NicBypass.Dsl.Planning;
using NicBypass.Dsl.Syntax;

namespace NicBypass.Dsl;

/// <summary>
/// Everything the language knows about a set of .nicdsl files: syntax trees, checked hosts,
/// their placements and all diagnostics, sorted by file and position.
/// </summary>
public sealed record DslCompilation(
    EquatableArray<DocumentSyntax> Documents,
    EquatableArray<HostDefinition> Hosts,
    EquatableArray<HostPlan> Plans,
    EquatableArray<Diagnostic> Diagnostics)
{
    /// <summary>True when any diagnostic is an error: the build (and <c>nicbypass check</c>) fails.</summary>
    public bool HasErrors => Diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error);
}
