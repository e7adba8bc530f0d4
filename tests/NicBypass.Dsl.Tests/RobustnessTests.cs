using NicBypass.Dsl.Text;

namespace NicBypass.Dsl.Tests;

/// <summary>
/// Bad input never crashes the language: random mutations of valid files (characters and lines
/// deleted, duplicated, swapped, replaced; control characters, huge words and numbers, deep
/// braces, whole hosts repeated) go through parse → bind → plan → lower without an exception,
/// every diagnostic points inside the file it names, and no input allocates out of proportion
/// to its size. CI runs 50,000 with a fixed seed; <c>NICBYPASS_FUZZ_FILES</c> and
/// <c>NICBYPASS_FUZZ_SEED</c> run more by hand (docs/architecture.md § Fuzzing). An input that
/// fails is written to a file named in the failure: add it to FuzzCorpus/, whose every file is a
/// regression test.
/// </summary>
public class RobustnessTests
{
    private static readonly string[] Seeds =
    {
        TestSources.FullExample,
        TestSources.Host(string.Concat(Enumerable.Range(0, 9).Select(i => TestSources.Vm("v" + i, i + 1, i % 2 == 0 ? "ring hardware; bandwidth 1G" : "ip 10.0.0." + (i + 1)))),
            rings: 3, nicExtra: "soft-ring-width 3; msi 2"),
        "host a {\r\n\tnic e0 { model simnic-1g; rx-rings 2 }\r\n\tservice s on e0 { mac 02:00:00:00:00:09; protocols tcp; ports 22 }\r\n}\r\n",
    };

    private const string Alphabet = "{};#/ \n\r\t:.-0123456789abcdefxyzGMK";

    internal static string Mutate(string text, Random random)
    {
        var mutations = random.Next(1, 4);
        for (var m = 0; m < mutations && text.Length > 0; m++)
        {
            var i = random.Next(text.Length);
            switch (random.Next(12))
            {
                case 7: text = text.Insert(i, ((char)random.Next(0, 32)).ToString()); break;                       // a control character
                case 8: text = text.Insert(i, new string((char)('a' + random.Next(26)), random.Next(1_000, 100_000))); break; // a huge word
                case 9: text = text.Insert(i, new string('9', random.Next(10, 40))); break;                         // a number past every type
                case 10: text = text.Insert(i, string.Concat(Enumerable.Repeat(random.Next(2) == 0 ? "{" : "nic x {", random.Next(10, 500)))); break; // deep braces
                case 11: text += "\n" + text; break;                                                             // every host again (names collide)
                case 0: text = text.Remove(i, 1); break;
                case 1: text = text.Insert(i, text[i].ToString()); break;
                case 2:
                    var j = random.Next(text.Length);
                    var chars = text.ToCharArray();
                    (chars[i], chars[j]) = (chars[j], chars[i]);
                    text = new string(chars);
                    break;
                case 3: text = text.Insert(i, Alphabet[random.Next(Alphabet.Length)].ToString()); break;
                case 4: text = MutateLines(text, random, (lines, a, _) => lines.RemoveAt(a)); break;
                case 5: text = MutateLines(text, random, (lines, a, _) => lines.Insert(a, lines[a])); break;
                default: text = MutateLines(text, random, (lines, a, b) => (lines[a], lines[b]) = (lines[b], lines[a])); break;
            }
        }
        return text;
    }

    private static string MutateLines(string text, Random random, Action<List<string>, int, int> change)
    {
        var lines = text.Split('\n').ToList();
        change(lines, random.Next(lines.Count), random.Next(lines.Count));
        return string.Join("\n", lines);
    }

    [Fact]
    public async Task Mutated_files_never_throw_stay_in_proportion_and_every_diagnostic_is_inside_its_file()
    {
        var files = int.TryParse(Environment.GetEnvironmentVariable("NICBYPASS_FUZZ_FILES"), out var n) ? n : 50_000;
        var seed = int.TryParse(Environment.GetEnvironmentVariable("NICBYPASS_FUZZ_SEED"), out var given) ? given : 20261125;
        var random = new Random(seed);
        var failures = new List<string>();
        var withDiagnostics = 0;
        for (var iteration = 0; iteration < files; iteration++)
        {
            var text = Mutate(Seeds[iteration % Seeds.Length], random);
            // On a thread of its own, so an input that hangs a stage fails the run (after a
            // minute: far past any input's work, not a speed limit) instead of hanging it.
            var run = Task.Run(() =>
            {
                var before = GC.GetAllocatedBytesForCurrentThread();
                var compiled = TestSources.Compile(text, "m.nicdsl");
                // The generator's next step: every host without an error lowers to its build steps.
                foreach (var host in compiled.Hosts.Where(h => !compiled.Diagnostics.Any(d => d.Severity == Diagnostics.DiagnosticSeverity.Error)))
                {
                    Lowering.HostLowering.Lower(host.Definition, host.Plan);
                }
                return (Compilation: compiled, Allocated: GC.GetAllocatedBytesForCurrentThread() - before);
            });
            DslCompilation compilation;
            long allocated;
            try
            {
                (compilation, allocated) = await run.WaitAsync(TimeSpan.FromMinutes(1));
            }
            catch (TimeoutException)
            {
                Assert.Fail($"an input hung the language pipeline for a minute (saved as {Save(text)})");
                throw;
            }
            catch (Exception ex)
            {
                failures.Add($"threw {ex.GetType().Name}: {ex.Message} (input saved as {Save(text)})\n{ex.StackTrace}");
                continue;
            }
            // Bounded work: no input allocates more than 64 MB plus 4 KB per character of it.
            if (allocated > 64_000_000 + 4_000L * text.Length) failures.Add($"{allocated:N0} bytes allocated for a {text.Length:N0}-character input (saved as {Save(text)})");

            if (compilation.Diagnostics.Count > 0) withDiagnostics++;
            var lines = new LineMap(text);
            foreach (var d in compilation.Diagnostics)
            {
                foreach (var location in new[] { d.Location }.Concat(d.RelatedLocations))
                {
                    var s = location.Span;
                    var inside = location.Path == "m.nicdsl" && s.Start >= 0 && s.Length >= 0 && s.End <= text.Length
                                 && lines.Position(s.Start) == (s.Line, s.Column) && lines.Position(s.End) == (s.EndLine, s.EndColumn);
                    if (!inside) failures.Add($"{d} has span {s} outside the text of length {text.Length}:\n{text}");
                }
                if (string.IsNullOrWhiteSpace(d.Message)) failures.Add($"{d.Id} without a message");
            }
        }

        Assert.True(failures.Count == 0, $"seed {seed}: " + string.Join("\n----\n", failures.Take(5)));
        Assert.True(withDiagnostics > files / 2, $"only {withDiagnostics} of {files} mutations produced diagnostics: the mutator is too gentle");
    }

    /// <summary>Every input in FuzzCorpus/ (inputs that once crashed, hung or blew up a stage, and the attacks of issue #14) compiles without an exception, its diagnostics inside it.</summary>
    [Theory]
    [MemberData(nameof(Corpus))]
    public void Every_input_of_the_fuzz_corpus_compiles_without_an_exception(string name)
    {
        var text = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "FuzzCorpus", name));

        var compilation = TestSources.Compile(text, name);

        foreach (var d in compilation.Diagnostics) Assert.True(d.Location.Span.End <= text.Length, d.ToString());
        Assert.NotEmpty(compilation.Diagnostics); // each one is a broken or hostile file
    }

    public static TheoryData<string> Corpus()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "FuzzCorpus"), "*.nicdsl").Order()) data.Add(Path.GetFileName(file));
        return data;
    }

    private static string Save(string text)
    {
        var path = Path.Combine(Path.GetTempPath(), $"nicbypass-fuzz-{Guid.NewGuid():N}.nicdsl");
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void A_name_with_terminal_escape_sequences_is_shown_escaped_never_raw()
    {
        // ESC ] 0 ; title BEL would retitle the user's terminal; ESC [ 2 J would clear it.
        var text = "host h {\n nic n { model simnic-10g; rx-rings 1 }\n vm a\u001b]0;pwned\u0007\u001b[2J on n { mac 02:00:00:00:00:01 }\n}\n";

        var compilation = TestSources.Compile(text);

        Assert.NotEmpty(compilation.Diagnostics);
        foreach (var d in compilation.Diagnostics) Assert.DoesNotContain(d.ToString(), c => char.IsControl(c));
        Assert.Contains(compilation.Diagnostics, d => d.Message.Contains("\\u001B", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("\u200B", "\\u200B")] // a zero-width space, which shows as nothing (a no-break space or a line separator is now a space: ParserTests)
    [InlineData("\u2060", "\\u2060")] // a word joiner, likewise
    [InlineData("\u202E", "\\u202E")] // a right-to-left override, which reverses what follows
    [InlineData("\U000E0041", "\\U000E0041")] // a tag character (outside the basic plane), which shows as nothing
    public void Invisible_characters_in_a_message_are_shown_escaped(string hidden, string escaped)
    {
        var text = $"host h {{\n nic n {{ model simnic-10g; rx-rings 1 }}\n vm a on n {{ mac 02:00:00:00:00:01{hidden} }}\n}}\n";

        var message = Assert.Single(TestSources.Compile(text).Errors()).Message;

        Assert.DoesNotContain(hidden, message, StringComparison.Ordinal); // ordinal: a culture-aware search ignores invisible characters
        Assert.Contains(escaped, message);
    }

    [Fact]
    public void A_ten_megabyte_word_does_not_become_a_ten_megabyte_message()
    {
        var word = new string('x', 10_000_000);
        var text = "host h {\n nic n { model " + word + "; rx-rings 1 }\n}\n";

        var compilation = TestSources.Compile(text);

        var diagnostic = Assert.Single(compilation.Errors(), d => d.Message.Contains("xxxx", StringComparison.Ordinal));
        Assert.True(diagnostic.Message.Length < 1_000, $"{diagnostic.Message.Length} characters");
        Assert.Contains("10,000,000 characters", diagnostic.Message);
    }
}
