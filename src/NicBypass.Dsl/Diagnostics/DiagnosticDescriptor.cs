namespace NicBypass.Dsl.Diagnostics;

/// <summary>
/// The fixed facts about one diagnostic ID: severity, title, message template and where the
/// documentation explains it. Instances live in <see cref="DiagnosticDescriptors"/> only.
/// </summary>
public sealed record DiagnosticDescriptor(string Id, DiagnosticSeverity Severity, string Title, string MessageFormat)
{
    /// <summary>Link to this ID's section of docs/diagnostics.md.</summary>
    public string HelpLink => "docs/diagnostics.md#" + Id.ToLowerInvariant();
}
