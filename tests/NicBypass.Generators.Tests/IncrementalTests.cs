using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace NicBypass.Generators.Tests;

/// <summary>The pipeline stays cached when nothing it reads has changed (docs/architecture.md § The source generator).</summary>
public class IncrementalTests
{
    private static readonly string QuickStart = GeneratorHarness.Sample("QuickStart/web01.nicdsl");

    private static GeneratorDriver FirstRun(out Compilation compilation, AdditionalText file)
    {
        compilation = GeneratorHarness.Compilation("namespace Consumer { public static class Marker { } }");
        return GeneratorHarness.Driver(new[] { file }).RunGenerators(compilation);
    }

    [Fact]
    public void An_unrelated_csharp_edit_reruns_no_step()
    {
        var driver = FirstRun(out var compilation, new GeneratorHarness.InMemoryText(GeneratorHarness.ProjectDir + "web01.nicdsl", QuickStart));

        var edited = compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText("namespace Consumer { public static class Other { public static int X = 1; } }"));
        var result = driver.RunGenerators(edited).GetRunResult().Results.Single();

        foreach (var name in NicDslGenerator.AllTrackingNames)
        {
            var steps = result.TrackedSteps[name];
            Assert.All(steps.SelectMany(s => s.Outputs), output => Assert.True(
                output.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{name}: {output.Reason}"));
        }
        Assert.All(result.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs),
            output => Assert.Equal(IncrementalStepRunReason.Cached, output.Reason));
    }

    [Fact]
    public void A_comment_only_nicdsl_edit_leaves_the_generated_code_cached()
    {
        var path = GeneratorHarness.ProjectDir + "web01.nicdsl";
        var original = new GeneratorHarness.InMemoryText(path, QuickStart);
        var driver = FirstRun(out var compilation, original);

        // A new comment line shifts every line below it: locations move, the emitted code must not.
        var commented = QuickStart.Replace("host web01 {", "# a new comment line\nhost web01 { # and one more");
        driver = driver.ReplaceAdditionalText(original, new GeneratorHarness.InMemoryText(path, commented));
        var result = driver.RunGenerators(compilation).GetRunResult().Results.Single();

        Assert.Contains(result.TrackedSteps[TrackingNames.Files].SelectMany(s => s.Outputs), o => o.Reason == IncrementalStepRunReason.Modified);
        Assert.All(result.TrackedSteps[TrackingNames.Hosts].SelectMany(s => s.Outputs),
            o => Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, o.Reason.ToString()));
        Assert.All(result.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs),
            o => Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, o.Reason.ToString()));
    }

    [Fact]
    public void A_real_nicdsl_edit_regenerates()
    {
        var path = GeneratorHarness.ProjectDir + "web01.nicdsl";
        var original = new GeneratorHarness.InMemoryText(path, QuickStart);
        var driver = FirstRun(out var compilation, original);

        driver = driver.ReplaceAdditionalText(original, new GeneratorHarness.InMemoryText(path, QuickStart.Replace("cpus 8", "cpus 6")));
        var result = driver.RunGenerators(compilation).GetRunResult().Results.Single();

        Assert.Contains(result.TrackedSteps[TrackingNames.Hosts].SelectMany(s => s.Outputs), o => o.Reason == IncrementalStepRunReason.Modified);
        Assert.Contains("HostBuilder(\"web01\", cpus: 6, time)", result.GeneratedSources.Single().SourceText.ToString());
    }
}
