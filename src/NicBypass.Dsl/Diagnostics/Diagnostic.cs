using System.Globalization;
using NicBypass.Dsl.Text;

namespace NicBypass.Dsl.Diagnostics;

/// <summary>
/// One reported problem, as plain data: ID, severity, the finished message, where it is and the
/// related places (the other duplicate, the VNICs that hold the rings). Value-equatable so the
/// generator can cache it; formatted exactly like compiler output by <see cref="ToString"/>.
/// </summary>
public sealed record Diagnostic(string Id, DiagnosticSeverity Severity, string Message, SourceLocation Location, EquatableArray<SourceLocation> RelatedLocations)
{
    /// <summary>Creates a diagnostic from its descriptor, filling the message template.</summary>
    public static Diagnostic Create(DiagnosticDescriptor descriptor, SourceLocation location, IEnumerable<SourceLocation>? related, params object[] args) =>
        new(descriptor.Id, descriptor.Severity, string.Format(CultureInfo.InvariantCulture, descriptor.MessageFormat, args), location,
            (related ?? Array.Empty<SourceLocation>()).ToEquatableArray());

    /// <summary><c>error</c>, <c>warning</c> or <c>info</c>, as MSBuild prints it.</summary>
    public string SeverityText => Severity switch
    {
        DiagnosticSeverity.Error => "error",
        DiagnosticSeverity.Warning => "warning",
        _ => "info",
    };

    /// <summary><c>path(line,col): error NB0007: message</c> — the format of <c>dotnet build</c>.</summary>
    public override string ToString() =>
        $"{Location.Path}({Location.Span.Line},{Location.Span.Column}): {SeverityText} {Id}: {Message}";
}
