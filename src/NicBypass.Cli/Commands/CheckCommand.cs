using System.CommandLine;
using NicBypass.Dsl;

namespace NicBypass.Cli.Commands;

/// <summary><c>nicbypass check FILE…</c>: diagnostics exactly as the build prints them; exit 1 on any error.</summary>
internal static class CheckCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var files = new Argument<string[]>("files") { Description = ".nicdsl files to check", Arity = ArgumentArity.OneOrMore };
        var command = new Command("check", "Report every diagnostic in the given .nicdsl files, as the build does.") { files };
        command.SetAction(parse =>
        {
            var sources = SourceLoader.Load(parse.GetValue(files) ?? Array.Empty<string>(), error);
            if (sources is null) return NicBypassCli.ErrorExitCode;
            var compilation = DslCompiler.Compile(sources);
            foreach (var diagnostic in compilation.Diagnostics) output.WriteLine(diagnostic.ToString());
            return compilation.HasErrors ? NicBypassCli.ErrorExitCode : 0;
        });
        return command;
    }
}
