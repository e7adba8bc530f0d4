using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using NicBypass.Dsl.Diagnostics;
using DslDiagnostic = NicBypass.Dsl.Diagnostics.Diagnostic;
using DslSeverity = NicBypass.Dsl.Diagnostics.DiagnosticSeverity;
using RoslynDescriptor = Microsoft.CodeAnalysis.DiagnosticDescriptor;
using RoslynDiagnostic = Microsoft.CodeAnalysis.Diagnostic;
using RoslynSeverity = Microsoft.CodeAnalysis.DiagnosticSeverity;

namespace NicBypass.Generators;

/// <summary>
/// Language diagnostics (plain data) → Roslyn diagnostics located in the .nicdsl file, so the
/// build prints <c>path(line,col): error NB0007: …</c> exactly as <c>nicbypass check</c> does.
/// </summary>
internal static class DiagnosticMapper
{
    private static readonly Dictionary<string, RoslynDescriptor> ById = RoslynDescriptors.All.ToDictionary(d => d.Id);

    public static RoslynDiagnostic ToRoslyn(DslDiagnostic diagnostic)
    {
        var descriptor = ById[diagnostic.Id];
        // The severity is the diagnostic's: one ID may be a warning or an error (NB0018).
        return RoslynDiagnostic.Create(descriptor, ToLocation(diagnostic.Location), Severity(diagnostic.Severity),
            diagnostic.RelatedLocations.Select(ToLocation), properties: null, diagnostic.Message);
    }

    public static RoslynDiagnostic InternalError(string path, Exception exception) =>
        ToRoslyn(DslDiagnostic.Create(DiagnosticDescriptors.InternalError, new Dsl.Text.SourceLocation(path, default), null,
            exception.GetType().Name + ": " + exception.Message));

    private static RoslynSeverity Severity(DslSeverity severity) => severity switch
    {
        DslSeverity.Error => RoslynSeverity.Error,
        DslSeverity.Warning => RoslynSeverity.Warning,
        _ => RoslynSeverity.Info,
    };

    private static Location ToLocation(Dsl.Text.SourceLocation location)
    {
        var span = location.Span;
        // The language counts lines and columns from 1, Roslyn from 0.
        var lines = new LinePositionSpan(new LinePosition(Math.Max(0, span.Line - 1), Math.Max(0, span.Column - 1)),
            new LinePosition(Math.Max(0, span.EndLine - 1), Math.Max(0, span.EndColumn - 1)));
        return Location.Create(location.Path, new TextSpan(span.Start, span.Length), lines);
    }

}
