namespace NicBypass.Dsl.Diagnostics;

/// <summary>How serious a diagnostic is. Errors fail the build and <c>nicbypass check</c>.</summary>
public enum DiagnosticSeverity
{
    Info,
    Warning,
    Error,
}
