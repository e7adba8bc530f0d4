using Spectre.Console;

namespace NicBypass.Cli.Output;

/// <summary>
/// A long run's progress on standard error when it is a terminal (simulate, replay): the work
/// gets a callback taking the fraction done; elsewhere (a pipe, a file, a test) it runs with none.
/// </summary>
internal static class ProgressBar
{
    public static void Run(TextWriter error, bool wanted, string title, Action<Action<double>?> work)
    {
        if (!wanted || !SafeTextWriter.IsTerminal(error))
        {
            work(null);
            return;
        }
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        console.Progress().Start(context =>
        {
            var task = context.AddTask(title, maxValue: 1);
            work(done => task.Value = done);
        });
    }
}
