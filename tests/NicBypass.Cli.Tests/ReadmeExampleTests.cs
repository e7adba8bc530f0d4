namespace NicBypass.Cli.Tests;

/// <summary>The README's examples are what the command prints: a change that moves a number moves the README with it.</summary>
public class ReadmeExampleTests
{
    [Fact]
    public void The_readmes_simulate_example_is_what_simulate_prints_for_the_quick_start_sample()
    {
        // The README showed 1,052,083 frames for a build that printed 1,038,151, and worked its
        // arithmetic on the old numbers (found by a new user's drive).
        const string command = "$ dotnet run -c Release --project src/NicBypass.Cli -- simulate samples/QuickStart/web01.nicdsl\n";
        var readme = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "README.md")).ReplaceLineEndings("\n");
        var start = readme.IndexOf(command, StringComparison.Ordinal);
        Assert.True(start >= 0, "the README shows the command");
        start += command.Length;
        var shown = readme[start..readme.IndexOf("```", start, StringComparison.Ordinal)];

        var (exit, output, _) = CliRunner.Run("simulate", CliRunner.Sample("QuickStart/web01.nicdsl"));

        Assert.Equal(0, exit);
        Assert.Equal(shown, output);
    }
}
