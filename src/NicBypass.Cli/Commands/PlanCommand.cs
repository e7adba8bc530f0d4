using System.CommandLine;
using NicBypass.Cli.Output;
using NicBypass.Dsl;

namespace NicBypass.Cli.Commands;

/// <summary>
/// <c>nicbypass plan FILE… [--format text|json]</c>: the placement. Diagnostics go to standard
/// error; with any error there is no plan and the exit code is 1.
/// </summary>
internal static class PlanCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var files = new Argument<string[]>("files") { Description = ".nicdsl files to plan", Arity = ArgumentArity.OneOrMore };
        var format = FormatOption.Create();
        var command = new Command("plan", "Show which receive ring serves which VNIC.") { files, format };
        command.SetAction(parse =>
        {
            var compilation = SourceLoader.CompileOrReport(parse.GetValue(files) ?? Array.Empty<string>(), error);
            if (compilation is null) return NicBypassCli.ErrorExitCode;
            if (parse.GetValue(format) == "json") PlanJsonWriter.Write(compilation, output);
            else PlanTextWriter.Write(compilation, output);
            return 0;
        });
        return command;
    }
}
