using NicBypass.Dsl.Syntax;
using NicBypass.Dsl.Text;
using Sprache;

using NicBypass.Dsl.Parsing;

namespace NicBypass.Dsl.Tests;

/// <summary>
/// The grammar as it was written with Sprache's combinators only (a959f44), kept as the reference
/// the hand-written scanners of <see cref="DslGrammar"/> (a word, a terminator, a property line)
/// are held to: the same results, the same failures (GrammarEquivalenceTests).
/// </summary>
internal sealed class CombinatorGrammar
{
    private readonly LineMap _lines;

    public CombinatorGrammar(LineMap lines)
    {
        _lines = lines;


        // Trivia (same line) and gaps (between statements) are scanned directly: they run on
        // every token, and a per-character combinator loop dominated the parse time.
        Parser<int> trivia = input => Skip(input, newlines: false);
        Parser<int> gap = input => Skip(input, newlines: true);

        Parser<T> Token<T>(Parser<T> parser) => from value in parser from _ in trivia select value;

        var word = Token(Spanned((Parser<string>)WordText));
        var open = Token(Spanned(Parse.Char('{').Once().Text())).Named("'{'");
        var close = Token(Spanned(Parse.Char('}').Once().Text())).Named("'}'");
        var terminator = Token((Parser<int>)Terminator);

        var property =
            from name in word
            from values in word.Many()
            from _ in terminator
            select new PropertySyntax(name, values.ToEquatableArray(), Union(name.Span, values.LastOrDefault()?.Span));

        var block =
            from o in open
            from _ in gap
            from properties in property.Then(p => gap.Return(p)).XMany()
            from c in close
            select new BlockBody(o.Span, properties.ToEquatableArray(), c.Span);

        // A host item is a declaration if a block follows its words, else a host property.
        var item =
            from words in word.AtLeastOnce()
            from body in block.Select(b => (BlockBody?)b).XOr(terminator.Return((BlockBody?)null))
            select body is { } b
                ? (object)new BlockSyntax(words.ToEquatableArray(), b.Properties, b.Open, words.First().Span.Union(b.Close))
                : new PropertySyntax(words.First(), words.Skip(1).ToEquatableArray(), Union(words.First().Span, words.Last().Span));

        var host =
            from keyword in Keyword("host", word)
            from name in word.Named("host name")
            from o in open
            from _ in gap
            from items in item.Then(i => gap.Return(i)).XMany()
            from c in close
            select new HostSyntax(keyword, name,
                items.OfType<PropertySyntax>().ToEquatableArray(),
                items.OfType<BlockSyntax>().ToEquatableArray(),
                keyword.Span.Union(c.Span));

        Document =
            from _ in gap
            from hosts in host.Then(h => gap.Return(h)).XMany()
            from end in (Parser<int>)EndOfDocument
            select hosts.ToEquatableArray();
    }

    /// <summary>The whole-file parser: the hosts of a document.</summary>
    public Parser<EquatableArray<HostSyntax>> Document { get; }

    // Skips spaces, tabs and comments (and, for gaps, new lines and ';'); never fails.
    private static IResult<int> Skip(IInput input, bool newlines)
    {
        var source = input.Source;
        var end = input.Position;
        while (end < source.Length)
        {
            var c = source[end];
            if (c is ' ' or '\t' or '\f' or '\v' or '\uFEFF' || (newlines && c is '\r' or '\n' or ';') || (c > '\u007F' && char.IsWhiteSpace(c)))
            {
                end++;
            }
            else if (c == '#' || IsCommentStart(source, end))
            {
                while (end < source.Length && source[end] is not ('\r' or '\n')) end++;
            }
            else
            {
                break;
            }
        }
        return Result.Success(0, Jump(input, end));
    }

    // Moves to `position` in one step on our own input, else character by character.
    private static IInput Jump(IInput input, int position)
    {
        if (input is TextInput text) return text.At(position);
        while (input.Position < position) input = input.Advance();
        return input;
    }

    internal static bool IsWordChar(char c) => !char.IsWhiteSpace(c) && c != ';' && c != '{' && c != '}' && c != '#' && c != '\uFEFF';

    // A word: a run of characters that are not space, ';', braces or '#'; "//" starts a comment.
    private static IResult<string> WordText(IInput input)
    {
        var source = input.Source;
        var start = input.Position;
        var end = start;
        while (end < source.Length && IsWordChar(source[end]) && !(end == start && IsCommentStart(source, end))) end++;
        if (end == start)
        {
            return Result.Failure<string>(input, "expected a word", new[] { "a word" });
        }
        return Result.Success(source.Substring(start, end - start), Jump(input, end));
    }

    private static bool IsCommentStart(string source, int index) =>
        source[index] == '/' && index + 1 < source.Length && source[index + 1] == '/';

    // A statement ends at a new line (LF, CRLF or CR) or ';', or right before '}'
    // (`vm a on n { mac 02:… }`) or the end of the text, which are left for the block to take.
    private static IResult<int> Terminator(IInput input)
    {
        if (input.AtEnd || input.Current == '}') return Result.Success(0, input);
        var source = input.Source;
        var position = input.Position;
        switch (source[position])
        {
            case ';':
            case '\n':
                return Result.Success(0, Jump(input, position + 1));
            case '\r':
                return Result.Success(0, Jump(input, position + (position + 1 < source.Length && source[position + 1] == '\n' ? 2 : 1)));
            default:
                return Result.Failure<int>(input, "expected a new line or ';'", new[] { "new line or ';'" });
        }
    }

    private static IResult<int> EndOfDocument(IInput input) =>
        input.AtEnd
            ? Result.Success(0, input)
            : Result.Failure<int>(input, "expected 'host' or the end of the file", new[] { "'host'", "end of file" });

    private static Parser<SyntaxToken> Keyword(string keyword, Parser<SyntaxToken> word) => input =>
    {
        var result = word(input);
        if (result.WasSuccessful && result.Value.Text == keyword) return result;
        return Result.Failure<SyntaxToken>(input, $"expected '{keyword}'", new[] { $"'{keyword}'" });
    };

    private Parser<SyntaxToken> Spanned(Parser<string> parser) => input =>
    {
        var result = parser(input);
        if (!result.WasSuccessful) return Result.Failure<SyntaxToken>(result.Remainder, result.Message, result.Expectations);
        var span = _lines.Span(input.Position, result.Remainder.Position - input.Position);
        return Result.Success(new SyntaxToken(result.Value, span), result.Remainder);
    };

    private sealed record BlockBody(TextSpan Open, EquatableArray<PropertySyntax> Properties, TextSpan Close);

    private static TextSpan Union(TextSpan first, TextSpan? last) => last is { } l ? first.Union(l) : first;
}
