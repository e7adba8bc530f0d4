using System.CommandLine;
using NicBypass.Cli.Commands;

namespace NicBypass.Cli;

/// <summary>
/// The <c>nicbypass</c> command line (README.md § A short tour). Output goes to the writers passed in, so
/// tests run the real commands in-process and compare exact text and exit codes.
/// </summary>
public static class NicBypassCli
{
    /// <summary>Exit code when the input has errors (or a file cannot be read; a capture has its own, below).</summary>
    public const int ErrorExitCode = 1;

    /// <summary>Exit code when a capture is damaged or crafted (its format is wrong at a byte offset the message names), or cannot be opened.</summary>
    public const int BadCaptureExitCode = 2;

    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        // Messages echo what the user typed: escape control characters, cut huge lines.
        error = new Output.SafeTextWriter(error) { NewLine = error.NewLine };
        var root = new RootCommand("NicBypass: compile .nicdsl host descriptions into virtualized host networking.")
        {
            CheckCommand.Create(output, error),
            PlanCommand.Create(output, error),
            ReplayCommand.Create(output, error),
            SimulateCommand.Create(output, error),
            GraphCommand.Create(output, error),
            TraceCommand.Create(output, error),
            RunCommand.Create(output, error),
        };
        return root.Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
    }
}
