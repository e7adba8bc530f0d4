using NicBypass.Dsl.Text;

namespace NicBypass.Dsl.Syntax;

/// <summary>One word of the source (a keyword, a name or a value) and where it is.</summary>
public sealed record SyntaxToken(string Text, TextSpan Span)
{
    public override string ToString() => Text;
}
