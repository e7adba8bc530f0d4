using NicBypass.Dsl.Text;

namespace NicBypass.Dsl.Syntax;

/// <summary>
/// A property line: its name and the words after it (<c>ip 192.168.10.11/24</c>,
/// <c>protocols tcp udp</c>). Values stay text here; the binder gives them meaning, so a bad
/// value is reported on its own token.
/// </summary>
public sealed record PropertySyntax(SyntaxToken Name, EquatableArray<SyntaxToken> Values, TextSpan Span);
