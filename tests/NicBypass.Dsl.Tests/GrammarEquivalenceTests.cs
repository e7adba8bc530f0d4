using CsCheck;
using NicBypass.Dsl.Parsing;
using NicBypass.Dsl.Text;
using Sprache;

namespace NicBypass.Dsl.Tests;

/// <summary>
/// The grammar scans a word, a terminator and a property line by hand (a 4,000-VNIC file parses
/// without a combinator's closures and results for each token). Held to the combinator grammar
/// it replaced (<see cref="CombinatorGrammar"/>) over random documents: the same syntax trees
/// and spans on success, the same failure (position, message, expectations) otherwise — so the
/// diagnostics a user sees cannot have moved.
/// </summary>
public class GrammarEquivalenceTests
{
    // Pieces of .nicdsl, well-formed and not: words, braces, every statement separator, comments
    // of both kinds (and a '/' that starts none), a byte-order mark, CR and CRLF line ends.
    private static readonly string[] Pieces =
    {
        "host", "h", "nic", "e0", "vm", "a", "on", "model", "simnic-10g", "mac", "02:00:00:00:00:01",
        "ip", "10.0.0.1/24", "ports", "80,443", "x//y", "/", "{", "}", ";", "\n", "\r\n", "\r", " ", "\t",
        "# note\n", "// note\n", "#", "//", "\uFEFF", "\f", "\u00A0", "\u2003",
    };

    // Mostly-valid documents with random damage: a host, some properties and blocks, separators.
    private static readonly Gen<string> Structured =
        Gen.Select(
            Gen.OneOf<string>("host h {\n", "host h {", "host {\n", "host h\n{\n", "hosts h {\n", "host h { "),
            Gen.Select(
                Gen.OneOf<string>("cpus 2", "nic e0", "vm a on e0", "mac 02:00:00:00:00:01", "ip 10.0.0.1", "x", "a b c d"),
                Gen.OneOf<string>("\n", ";", " ;", "\r\n", " # c\n", " // c\n", "", " }", " {", "{ mac 1 }\n", "{\n ip 2\n}\n", "{ a; b }\n", "{ a b\n"),
                (line, end) => line + end).Array[0, 12].Select(string.Concat),
            Gen.OneOf<string>("}\n", "}", "", "}}\n", "} host g { }\n", "}\nhost g {\n x\n}\n", "} x"),
            (head, body, tail) => head + body + tail);

    private static readonly Gen<string> Scrambled = Gen.OneOf<string>(Pieces).Array[0, 40].Select(string.Concat);

    private static readonly Gen<string> Documents = Gen.OneOf<string>(Structured, Scrambled);

    [Fact]
    public void The_hand_written_scanners_parse_and_fail_exactly_as_the_combinator_grammar_did()
    {
        Documents.Sample(text =>
        {
            var file = new SourceFile("t.nicdsl", text);
            var expected = new CombinatorGrammar(file.Lines).Document(TextInput.Start(file.Text, file.Lines));
            var actual = new DslGrammar(file.Lines).Document(TextInput.Start(file.Text, file.Lines));

            Assert.Equal(expected.WasSuccessful, actual.WasSuccessful);
            Assert.Equal(expected.Remainder.Position, actual.Remainder.Position);
            if (expected.WasSuccessful)
            {
                Assert.Equal(expected.Value, actual.Value);
            }
            else
            {
                Assert.Equal(expected.Message, actual.Message);
                Assert.Equal(expected.Expectations, actual.Expectations);
            }
        }, iter: 20_000);
    }

    [Fact]
    public void The_generated_documents_reach_both_outcomes()
    {
        // A check on the generator: a test that only ever saw failures (or successes) would hold
        // the two grammars to nothing on the other side.
        var outcomes = Documents.Array[2_000].Single().Select(text =>
        {
            var file = new SourceFile("t.nicdsl", text);
            return new DslGrammar(file.Lines).Document(TextInput.Start(file.Text, file.Lines)).WasSuccessful;
        }).ToList();

        Assert.Contains(true, outcomes);
        Assert.Contains(false, outcomes);
    }
}
