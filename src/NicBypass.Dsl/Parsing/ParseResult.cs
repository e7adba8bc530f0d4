using NicBypass.Dsl.Diagnostics;
using NicBypass.Dsl.Syntax;

namespace NicBypass.Dsl.Parsing;

/// <summary>A syntax tree and the syntax errors (NB0001) found while building it.</summary>
public sealed record ParseResult(DocumentSyntax Document, EquatableArray<Diagnostic> Diagnostics)
{
    public bool HasErrors => Diagnostics.Count > 0;
}
