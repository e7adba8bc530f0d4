namespace NicBypass.Dsl.Diagnostics;

/// <summary>
/// The fixed facts about one diagnostic ID: severity, title, message template, a description of
/// when it fires and why it matters, and where the documentation explains it. Instances live in
/// <see cref="DiagnosticDescriptors"/> only.
/// </summary>
public sealed record DiagnosticDescriptor(string Id, DiagnosticSeverity Severity, string Title, string MessageFormat, string Description)
{
    /// <summary>Where docs/diagnostics.md is published: the project's repository.</summary>
    public const string DocumentationUri = "https://github.com/nicbypass/nicbypass/blob/main/docs/diagnostics.md";

    /// <summary>Absolute link to this ID's section of docs/diagnostics.md (IDEs open it from the error list).</summary>
    public string HelpLink => DocumentationUri + "#" + Id.ToLowerInvariant();
}
