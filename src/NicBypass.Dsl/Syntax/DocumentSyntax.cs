namespace NicBypass.Dsl.Syntax;

/// <summary>The syntax tree of one .nicdsl file: its hosts, in order.</summary>
public sealed record DocumentSyntax(string Path, EquatableArray<HostSyntax> Hosts);
