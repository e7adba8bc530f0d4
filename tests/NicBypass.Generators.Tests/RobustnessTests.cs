using Microsoft.CodeAnalysis;

namespace NicBypass.Generators.Tests;

/// <summary>
/// Bad input never crashes the generator: a crash would be CS8785 and silently drop all output.
/// Mutated files go through the whole generator, emission included, and what it emits must
/// compile. CI runs 1,000 (each compiles its output, so they cost milliseconds apiece);
/// <c>NICBYPASS_FUZZ_GENERATOR</c> and <c>NICBYPASS_FUZZ_SEED</c> run more by hand.
/// </summary>
public class RobustnessTests
{
    [Fact]
    public void Mutated_files_never_make_the_generator_throw_and_what_it_emits_compiles()
    {
        var seeds = new[] { GeneratorHarness.Sample("QuickStart/web01.nicdsl"), GeneratorHarness.Sample("Oversubscribed/edge.nicdsl"), GeneratorHarness.Sample("Stacks/services.nicdsl"), GeneratorHarness.Sample("MultiNic/lab.nicdsl") };
        var files = int.TryParse(Environment.GetEnvironmentVariable("NICBYPASS_FUZZ_GENERATOR"), out var n) ? n : 1000;
        var random = new Random(int.TryParse(Environment.GetEnvironmentVariable("NICBYPASS_FUZZ_SEED"), out var seed) ? seed : 1125);
        var compilation = GeneratorHarness.Compilation("namespace Consumer { public static class Marker { } }");
        for (var i = 0; i < files; i++)
        {
            var text = Mutate(seeds[i % seeds.Length], random);
            var driver = GeneratorHarness.Driver(new[] { new GeneratorHarness.InMemoryText(GeneratorHarness.ProjectDir + "m.nicdsl", text) });
            driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var diagnostics);
            var result = driver.GetRunResult().Results.Single();

            Assert.True(result.Exception is null, $"generator threw {result.Exception} on:\n{text}");
            Assert.DoesNotContain(diagnostics, d => d.Id is "CS8785" or "NB0030");
            // Whatever the generator emits must compile: an error is only ever reported in the .nicdsl file.
            if (result.GeneratedSources.Length > 0)
            {
                var errors = output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
                Assert.True(errors.Count == 0, $"generated code does not compile for:\n{text}\n{string.Join("\n", errors)}");
            }
        }
    }

    private static string Mutate(string text, Random random)
    {
        for (var m = random.Next(1, 4); m > 0 && text.Length > 0; m--)
        {
            var i = random.Next(text.Length);
            text = random.Next(4) switch
            {
                0 => text.Remove(i, 1),
                1 => text.Insert(i, text[i].ToString()),
                2 => text.Insert(i, "{};#-0x9aG\n"[random.Next(11)].ToString()),
                _ => SwapLines(text, random),
            };
        }
        return text;
    }

    private static string SwapLines(string text, Random random)
    {
        var lines = text.Split('\n');
        var (a, b) = (random.Next(lines.Length), random.Next(lines.Length));
        (lines[a], lines[b]) = (lines[b], lines[a]);
        return string.Join("\n", lines);
    }
}
