namespace NicBypass.Generators.Models;

/// <summary>One .nicdsl AdditionalFile: its full path (for diagnostics), its path relative to the project (for namespaces and hint names) and its text.</summary>
internal sealed record NicDslFile(string Path, string RelativePath, string Text);
