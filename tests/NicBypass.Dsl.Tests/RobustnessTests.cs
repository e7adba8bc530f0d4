using NicBypass.Dsl.Text;

namespace NicBypass.Dsl.Tests;

/// <summary>
/// Bad input never crashes the language: thousands of random mutations of valid files
/// (characters and lines deleted, duplicated, swapped, replaced) must compile without an
/// exception, and every diagnostic must point inside the file it names.
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
            switch (random.Next(7))
            {
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
    public void Ten_thousand_mutated_files_never_throw_and_every_diagnostic_is_inside_its_file()
    {
        var random = new Random(20261125);
        var failures = new List<string>();
        var withDiagnostics = 0;
        for (var iteration = 0; iteration < 10_000; iteration++)
        {
            var text = Mutate(Seeds[iteration % Seeds.Length], random);
            DslCompilation compilation;
            try
            {
                compilation = TestSources.Compile(text, "m.nicdsl");
            }
            catch (Exception ex)
            {
                failures.Add($"threw {ex.GetType().Name}: {ex.Message} on:\n{text}");
                continue;
            }

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

        Assert.True(failures.Count == 0, string.Join("\n----\n", failures.Take(5)));
        Assert.True(withDiagnostics > 5_000, $"only {withDiagnostics} mutations produced diagnostics: the mutator is too gentle");
    }
}
