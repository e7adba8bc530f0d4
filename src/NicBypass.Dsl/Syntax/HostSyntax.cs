using NicBypass.Dsl.Text;

namespace NicBypass.Dsl.Syntax;

/// <summary><c>host NAME { properties and declarations }</c>.</summary>
public sealed record HostSyntax(SyntaxToken Keyword, SyntaxToken Name, EquatableArray<PropertySyntax> Properties, EquatableArray<BlockSyntax> Blocks, TextSpan Span);
