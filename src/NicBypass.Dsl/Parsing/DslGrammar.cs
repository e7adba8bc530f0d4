using NicBypass.Dsl.Syntax;
using NicBypass.Dsl.Text;
using Sprache;

namespace NicBypass.Dsl.Parsing;

/// <summary>
/// The Sprache grammar of .nicdsl, built per file so spans come from that file's line map.
///
/// The language is line-oriented: a property ends at a new line, at ';' or before '}'.
/// Whitespace and comments ('#' anywhere, '//' at the start of a word) after a token are
/// consumed with it (the local Token helper), but new lines are not: they are statement
/// separators. Repetitions use XMany so that an item that started and then failed reports its
/// own error (at the right place) instead of being silently skipped.
///
/// <code>
/// document := gap (host gap)* END
/// host     := 'host' word '{' gap (item gap)* '}'
/// item     := word+ (block | terminator)          — a declaration or a host property
/// block    := '{' gap (property gap)* '}'
/// property := word+ terminator
/// </code>
/// Word meaning (names, kinds, values) is the binder's job, so a bad value is reported on its
/// own token with its own diagnostic ID.
/// </summary>
internal sealed class DslGrammar
{
    private readonly LineMap _lines;

    public DslGrammar(LineMap lines)
    {
        _lines = lines;


        // Trivia (same line) and gaps (between statements) are scanned directly: they run on
        // every token, and a per-character combinator loop dominated the parse time.
        Parser<int> trivia = input => Skip(input, newlines: false);
        Parser<int> gap = input => Skip(input, newlines: true);

        Parser<T> Token<T>(Parser<T> parser) => from value in parser from _ in trivia select value;

        // The two tokens of every line, scanned directly with their trivia (as Token(Spanned(…))
        // would, without a combinator's closures and results for each).
        Parser<SyntaxToken> word = WordToken;
        var open = Token(Spanned(Parse.Char('{').Once().Text())).Named("'{'");
        var close = Token(Spanned(Parse.Char('}').Once().Text())).Named("'}'");
        Parser<int> terminator = input =>
        {
            var ended = Terminator(input);
            return ended.WasSuccessful ? Skip(ended.Remainder, newlines: false) : ended;
        };

        // property := word+ terminator, the commonest line, scanned as `word, word.Many(),
        // terminator` would be (the same results and failures, without their closures).
        Parser<PropertySyntax> property = input =>
        {
            var name = WordToken(input);
            if (!name.WasSuccessful) return Result.Failure<PropertySyntax>(name.Remainder, name.Message, name.Expectations);
            var values = new List<SyntaxToken>();
            var rest = name.Remainder;
            for (var value = WordToken(rest); value.WasSuccessful; value = WordToken(rest))
            {
                values.Add(value.Value);
                rest = value.Remainder;
            }
            var ended = terminator(rest);
            if (!ended.WasSuccessful) return Result.Failure<PropertySyntax>(ended.Remainder, ended.Message, ended.Expectations);
            var last = values.Count > 0 ? values[values.Count - 1].Span : (TextSpan?)null;
            return Result.Success(new PropertySyntax(name.Value, values.ToEquatableArray(), Union(name.Value.Span, last)), ended.Remainder);
        };

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
            // Any other Unicode white space (a no-break space pasted from a web page) is a space
            // too, as docs/dsl.md's words say: it stopped the parse and dropped the whole host,
            // its other errors unreported (found by a new user's drive).
            if (IsBlank(c) || (newlines && c is '\r' or '\n' or ';'))
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

    // A word and the trivia after it.
    private IResult<SyntaxToken> WordToken(IInput input)
    {
        var text = WordText(input);
        if (!text.WasSuccessful) return Result.Failure<SyntaxToken>(text.Remainder, text.Message, text.Expectations);
        var token = new SyntaxToken(text.Value, _lines.Span(input.Position, text.Remainder.Position - input.Position));
        return Result.Success(token, Skip(text.Remainder, newlines: false).Remainder);
    }

    /// <summary>
    /// White space within a line: spaces, tabs, a byte order mark, and any other Unicode white
    /// space but a line end (a no-break space pasted from a web page). The parser's recovery
    /// uses the same test, so a host after a no-break space is found there too (review).
    /// </summary>
    internal static bool IsBlank(char c) => c is ' ' or '\t' or '\f' or '\v' or '\uFEFF' || (c > '\u007F' && char.IsWhiteSpace(c));

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
