using NicBypass.Dsl.Diagnostics;
using NicBypass.Dsl.Syntax;

namespace NicBypass.Dsl;

/// <summary>
/// Everything the language knows about a set of .nicdsl files: syntax trees, checked hosts,
/// each with its placement, and all diagnostics, sorted by file and position.
/// </summary>
public sealed record DslCompilation(
    EquatableArray<DocumentSyntax> Documents,
    EquatableArray<CompiledHost> Hosts,
    EquatableArray<Diagnostic> Diagnostics)
{
    /// <summary>The host named <paramref name="name"/>, or null.</summary>
    public CompiledHost? Host(string name) => Hosts.FirstOrDefault(h => h.Name == name);

    /// <summary>True when any diagnostic is an error: the build (and <c>nicbypass check</c>) fails.</summary>
    public bool HasErrors => Diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error);
}
