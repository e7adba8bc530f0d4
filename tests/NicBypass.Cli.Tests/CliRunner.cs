using NicBypass.Cli;

namespace NicBypass.Cli.Tests;

/// <summary>Runs the real command line in-process and captures what it prints.</summary>
internal static class CliRunner
{
    public static (int ExitCode, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter { NewLine = "\n" };
        var error = new StringWriter { NewLine = "\n" };
        var exit = NicBypassCli.Run(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }

    /// <summary>Writes <paramref name="text"/> to a fresh temporary .nicdsl file and returns its path.</summary>
    public static string TempFile(string text, string name = "input.nicdsl")
    {
        var directory = Path.Combine(Path.GetTempPath(), "nicbypass-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, name);
        File.WriteAllText(path, text);
        return path;
    }

    public static string Sample(string relative) => Path.Combine(AppContext.BaseDirectory, "samples", relative);
}
