using NicBypass.Dsl.Text;

namespace NicBypass.Dsl.Syntax;

/// <summary>
/// A declaration inside a host: <c>nic nge0 { … }</c>, <c>vm guest1 on nge0 { … }</c>,
/// <c>container web on nge0 { … }</c>, <c>service db on nge0 { … }</c>. The header is kept as
/// words (kind, name, <c>on</c>, NIC) so that a malformed header is reported on the right word.
/// </summary>
public sealed record BlockSyntax(EquatableArray<SyntaxToken> Header, EquatableArray<PropertySyntax> Properties, TextSpan OpenBrace, TextSpan Span)
{
    /// <summary>The first header word: nic, vm, container or service.</summary>
    public SyntaxToken Keyword => Header[0];

    /// <summary>The declared name, if the header has one.</summary>
    public SyntaxToken? Name => Header.Count > 1 ? Header[1] : null;
}
