using NicBypass.Dsl.Binding;
using NicBypass.Dsl.Diagnostics;
using NicBypass.Dsl.Syntax;
using NicBypass.Dsl.Text;
using Sprache;

namespace NicBypass.Dsl.Parsing;

/// <summary>
/// Parses one .nicdsl file into a <see cref="DocumentSyntax"/>. Never throws: a syntax error
/// becomes an NB0001 diagnostic on the offending token, saying what was expected. The host block
/// holding a syntax error is left out and the rest of the file parsed again, so the file's other
/// hosts still reach later stages (and the generator), and every broken host block gets its own
/// error.
/// </summary>
public static class DslParser
{
    public static ParseResult Parse(SourceFile file)
    {
        var grammar = new DslGrammar(file.Lines);
        IResult<EquatableArray<HostSyntax>> result;
        try
        {
            result = grammar.Document(TextInput.Start(file.Text, file.Lines));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Sprache is not expected to throw from TryParse; if it ever does, the user still
            // gets a located error instead of a crashed build.
            var error = Diagnostic.Create(DiagnosticDescriptors.SyntaxError, file.Location(0, 0), null, "the parser failed: " + ex.Message, "a well-formed .nicdsl file");
            return new ParseResult(new DocumentSyntax(file.Path, EquatableArray<HostSyntax>.Empty), new[] { error }.ToEquatableArray());
        }

        if (result.WasSuccessful)
        {
            return new ParseResult(new DocumentSyntax(file.Path, result.Value), EquatableArray<Diagnostic>.Empty);
        }

        // Recovery: blank out the host block that holds the error (keeping every line break, so
        // positions stay those of the file) and parse again, as often as there are broken blocks.
        var diagnostics = new List<Diagnostic>();
        var text = file.Text;
        var blanked = (Start: -1, End: -1);
        while (true)
        {
            var position = result.Remainder.Position;
            var (start, end) = BlockToLeaveOut(file, text, position);
            // An error again in the block just left out: nothing more to learn from this file.
            if (start == blanked.Start && end == blanked.End) break;
            diagnostics.Add(Describe(file, text, position, result.Expectations));
            if (end <= start) break;
            text = Blank(text, start, end);
            blanked = (start, end);
            result = grammar.Document(TextInput.Start(text, file.Lines));
            if (result.WasSuccessful)
            {
                return new ParseResult(new DocumentSyntax(file.Path, result.Value), diagnostics.ToEquatableArray());
            }
            if (diagnostics.Count >= MaxSyntaxErrors)
            {
                // One more broken block than the bound: said, where it is, not left silent (with
                // exactly the bound's errors the file's other hosts are still generated).
                var next = Math.Min(result.Remainder.Position, text.Length);
                diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.SyntaxError, file.Location(next, 0), null,
                    $"more than {MaxSyntaxErrors} syntax errors in this file: its hosts are left out until there are fewer", "the errors above fixed first"));
                break;
            }
        }
        return new ParseResult(new DocumentSyntax(file.Path, EquatableArray<HostSyntax>.Empty), diagnostics.ToEquatableArray());
    }

    // After a word: spaces, a name, spaces and '{' on the same line ("hots b {").
    private static bool LooksLikeHeader(string text, int at)
    {
        var i = at;
        while (i < text.Length && DslGrammar.IsBlank(text[i])) i++;
        var name = i;
        while (i < text.Length && DslGrammar.IsWordChar(text[i])) i++;
        if (i == name || name == at) return false;
        while (i < text.Length && DslGrammar.IsBlank(text[i])) i++;
        return i < text.Length && text[i] == '{';
    }

    /// <summary>Syntax errors reported for one file at most (one per broken host block); past that one more error says so and the file yields no hosts.</summary>
    public const int MaxSyntaxErrors = 20;

    // What to leave out for an error at <paramref name="position"/>: the host of a block left open
    // further up (where the error really is), else the host of the outermost block still open
    // there, else — at the top level: a misspelt 'host', a stray '}' or word — the text from the
    // error's line to the next host — from the error itself when a '}' comes right before it (a
    // stray '}' or word after the '}' that closed a host, on its line, leaves that host). A valid
    // host before or after is never touched.
    private static (int Start, int End) BlockToLeaveOut(SourceFile file, string text, int position)
    {
        if (OpenBlockBehind(file, text, position) is { } brace) return HostBlockAt(text, brace);
        var open = OpenBraces(text, Math.Min(position, text.Length));
        if (open.Count > 0) return HostBlockAt(text, open[0]);
        var line = position;
        while (line > 0 && text[line - 1] is not ('\r' or '\n')) line--;
        var last = position - 1; // the last character before the error on its line, past blanks
        while (last >= line && DslGrammar.IsBlank(text[last])) last--;
        return (last >= line && text[last] == '}' ? position : line, NextHostAfter(text, position));
    }

    // Where the next host starts after <paramref name="position"/>: a 'host' word at the start of
    // a line or right after a '}' (`}} host b {` on one line), or the end of the file.
    private static int NextHostAfter(string text, int position)
    {
        for (var i = position + 1; i + 4 <= text.Length; i++)
        {
            if (string.CompareOrdinal(text, i, "host", 0, 4) != 0 || (i + 4 < text.Length && DslGrammar.IsWordChar(text[i + 4]))) continue;
            var j = i - 1;
            while (j >= 0 && DslGrammar.IsBlank(text[j])) j--;
            if (j < 0 || text[j] is '\r' or '\n' or '}') return i;
        }
        return text.Length;
    }

    // The host block around <paramref name="position"/>: from the 'host' that starts the last
    // line-leading 'host' word at or before it (or the file's start) to the next one (or the end).
    // Hosts do not nest, so a line that starts with 'host' begins a new block even when the block
    // before it lost its '}'.
    private static (int Start, int End) HostBlockAt(string text, int position)
    {
        var start = 0;
        var end = text.Length;
        for (var i = 0; i < text.Length; i++)
        {
            while (i < text.Length && DslGrammar.IsBlank(text[i])) i++;
            var startsHost = string.CompareOrdinal(text, i, "host", 0, 4) == 0 && (i + 4 == text.Length || !DslGrammar.IsWordChar(text[i + 4]));
            if (startsHost)
            {
                if (i <= position) start = i;
                else
                {
                    end = i;
                    break;
                }
            }
            while (i < text.Length && text[i] is not ('\r' or '\n')) i++;
        }
        return (start, end);
    }

    private static string Blank(string text, int start, int end)
    {
        var chars = text.ToCharArray();
        for (var i = start; i < end; i++)
        {
            if (chars[i] is not ('\r' or '\n')) chars[i] = ' ';
        }
        return new string(chars);
    }

    // "unexpected X; expected Y", located on X. At the end of the file with a block still open,
    // point at the '{' that was never closed: that is where the user has to look.
    // <paramref name="text"/> is the file's text as parsed (broken host blocks blanked out); locations come from the file.
    private static Diagnostic Describe(SourceFile file, string text, int position, IEnumerable<string> expectations)
    {
        var expected = string.Join(" or ", expectations.Where(e => !string.IsNullOrEmpty(e)).Distinct());
        if (expected.Length == 0) expected = "something else";

        if (position >= text.Length)
        {
            var unclosed = FindUnclosedBrace(text);
            if (unclosed >= 0)
            {
                var header = HeaderBefore(text, unclosed);
                return Diagnostic.Create(DiagnosticDescriptors.SyntaxError, file.Location(unclosed, 1), new[] { file.Location(text.Length, 0) },
                    $"unterminated block: '{header}{{' opened here has no matching '}}' before the end of the file", "'}'");
            }
            return Diagnostic.Create(DiagnosticDescriptors.SyntaxError, file.Location(text.Length, 0), null,
                "unexpected end of file", expected);
        }

        if (OpenBlockBehind(file, text, position) is { } unclosedBlock)
        {
            var header = HeaderBefore(text, unclosedBlock);
            // A host opened inside it is where it should have closed: name that, not a block inside that host.
            var innerHost = OpenBraces(text, position).Where(b => b > unclosedBlock).Select(b => (int?)b)
                .FirstOrDefault(b => HeaderBefore(text, b!.Value).StartsWith("host ", StringComparison.Ordinal));
            if (innerHost is { } hostBrace)
            {
                var hostLine = file.Location(hostBrace, 1).Span.Line;
                var hostHeader = HeaderBefore(text, hostBrace);
                return Diagnostic.Create(DiagnosticDescriptors.SyntaxError, file.Location(unclosedBlock, 1), new[] { file.Location(hostBrace, 1) },
                    $"unclosed block: '{header}{{' has no '}}' before '{hostHeader}{{' on line {hostLine}", $"'}}' to close '{header}{{'");
            }
            // Located on the block left open (its host is the one with the error), pointing on to where it showed.
            var line = file.Location(position, 1).Span.Line;
            return Diagnostic.Create(DiagnosticDescriptors.SyntaxError, file.Location(unclosedBlock, 1), new[] { file.Location(position, 1) },
                $"unclosed block: '{header}{{' has no '}}' before the '{text[position]}' on line {line}", $"'}}' to close '{header}{{'");
        }

        var length = 1;
        string unexpected;
        var c = text[position];
        if (c is '\r' or '\n')
        {
            unexpected = "end of line";
            length = 0;
        }
        else if (DslGrammar.IsWordChar(c))
        {
            while (position + length < text.Length && DslGrammar.IsWordChar(text[position + length])) length++;
            var word = text.Substring(position, length);
            unexpected = $"'{word}'";
            // A declaration outside every block: the host before it was closed early.
            if (word is "nic" or "vm" or "container" or "service" or "flow" && position > 0 && text.LastIndexOf('}', position - 1) >= 0 && OpenBraces(text, position).Count == 0)
            {
                return Diagnostic.Create(DiagnosticDescriptors.SyntaxError, file.Location(position, length), null,
                    $"unexpected '{word}' outside any host: a '}}' before it closed the host early (one '}}' too many?)", "'host NAME {' or the end of the file");
            }
            // A misspelt 'host' where a host may start ('hots b {'), as a misspelt keyword inside one
            // gets: one edit away, and shaped as a host's header (a stray 'port 80' after a '}' too
            // many is no host; found by review).
            if (OpenBraces(text, position).Count == 0 && word != "host" && NameSuggestions.Distance(word.ToLowerInvariant(), "host") <= 1
                && LooksLikeHeader(text, position + length))
            {
                return Diagnostic.Create(DiagnosticDescriptors.SyntaxError, file.Location(position, length), null,
                    $"unexpected '{word}' (did you mean 'host'?)", expected);
            }
        }
        else
        {
            unexpected = $"'{c}'";
        }
        return Diagnostic.Create(DiagnosticDescriptors.SyntaxError, file.Location(position, length), null,
            $"unexpected {unexpected}", expected);
    }

    // The brace of a block left open on an earlier line that explains an error at <paramref name="position"/>
    // (only for a block opened on an earlier line: a stray '{' on the block's own line is just that).
    private static int? OpenBlockBehind(SourceFile file, string text, int position) =>
        position < text.Length && UnclosedBlockAt(text, position) is { } brace && file.Location(brace, 1).Span.Line < file.Location(position, 1).Span.Line
            ? brace
            : null;

    // A '{' (or a 'host' block) where no block may open, with a block left open before it: a
    // host holds blocks one level deep, so a block opened inside a NIC, VM, container or service,
    // or a host inside a host, means the block around it lost its '}'. Returns that block's brace.
    private static int? UnclosedBlockAt(string text, int position)
    {
        // Only a '{' that opens a declaration ('vm a on n0 {'): a stray one after a property is just that.
        if (text[position] != '{') return null;
        var opener = HeaderBefore(text, position);
        var keyword = new string(opener.TakeWhile(c => !DslGrammar.IsBlank(c)).ToArray()); // up to any blank, a no-break space too (review)
        if (keyword is not ("host" or "nic" or "vm" or "container" or "service" or "flow")) return null;
        var open = OpenBraces(text, position);
        for (var depth = 1; depth < open.Count; depth++)
        {
            if (HeaderBefore(text, open[depth]).StartsWith("host ", StringComparison.Ordinal)) return open[depth - 1];
        }
        return open.Count >= 2 ? open[open.Count - 1] : null;
    }

    private static int FindUnclosedBrace(string text)
    {
        var open = OpenBraces(text, text.Length);
        return open.Count > 0 ? open[open.Count - 1] : -1;
    }

    // The braces still open at <paramref name="end"/>, outermost first (comments skipped).
    private static List<int> OpenBraces(string text, int end)
    {
        var open = new List<int>();
        for (var i = 0; i < end; i++)
        {
            var c = text[i];
            var startsComment = c == '#' || (c == '/' && i + 1 < text.Length && text[i + 1] == '/' && (i == 0 || !DslGrammar.IsWordChar(text[i - 1])));
            if (startsComment)
            {
                while (i < text.Length && text[i] is not ('\r' or '\n')) i++;
            }
            else if (c == '{')
            {
                open.Add(i);
            }
            else if (c == '}' && open.Count > 0)
            {
                open.RemoveAt(open.Count - 1);
            }
        }
        return open;
    }

    private static string HeaderBefore(string text, int brace)
    {
        var start = brace;
        while (start > 0 && text[start - 1] is not ('\r' or '\n' or ';' or '{' or '}')) start--;
        var header = text.Substring(start, brace - start).Trim();
        return header.Length == 0 ? "" : header + " ";
    }
}
