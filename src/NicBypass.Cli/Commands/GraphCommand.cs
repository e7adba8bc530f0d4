using System.ComponentModel;
using System.Diagnostics;
using System.CommandLine;
using NicBypass.Cli.Output;
using NicBypass.Dsl;

namespace NicBypass.Cli.Commands;

/// <summary>
/// <c>nicbypass graph FILE… [--out PATH]</c>: the placement as Graphviz DOT — on standard output,
/// or into PATH; a PATH ending in <c>.svg</c> is rendered by Graphviz's <c>dot</c> where it is
/// installed (a clear error where it is not).
/// </summary>
internal static class GraphCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var files = new Argument<string[]>("files") { Description = ".nicdsl files to draw", Arity = ArgumentArity.OneOrMore };
        var outPath = new Option<string?>("--out") { Description = "write the DOT (or, for a .svg path, the SVG rendered by Graphviz) to this file" };
        var command = new Command("graph", "Draw the placement as a Graphviz graph (DOT; SVG where dot is installed).") { files, outPath };
        command.SetAction(parse =>
        {
            var compilation = SourceLoader.CompileOrReport(parse.GetValue(files) ?? Array.Empty<string>(), error);
            if (compilation is null) return NicBypassCli.ErrorExitCode;

            var dot = new StringWriter();
            PlanGraphWriter.Write(compilation, dot);
            var path = parse.GetValue(outPath);
            if (path is null)
            {
                output.Write(dot.ToString());
                return 0;
            }
            try
            {
                if (!path.EndsWith(".svg", StringComparison.OrdinalIgnoreCase))
                {
                    File.WriteAllText(path, dot.ToString());
                    return 0;
                }
                return RenderSvg(dot.ToString(), path, error);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                error.WriteLine($"{path}: error: cannot write the file: {ex.Message}");
                return NicBypassCli.ErrorExitCode;
            }
        });
        return command;
    }

    private static int RenderSvg(string dot, string path, TextWriter error)
    {
        var start = new ProcessStartInfo("dot", new[] { "-Tsvg", "-o", path })
        {
            RedirectStandardInput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        Process? process;
        try
        {
            process = Process.Start(start);
        }
        catch (Win32Exception)
        {
            process = null;
        }
        if (process is null)
        {
            error.WriteLine($"{path}: error: Graphviz 'dot' is not installed (or not on PATH), so no SVG; write DOT with --out FILE.dot, or install graphviz");
            return NicBypassCli.ErrorExitCode;
        }
        using (process)
        {
            process.StandardInput.Write(dot);
            process.StandardInput.Close();
            var problems = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode == 0) return 0;
            error.WriteLine($"{path}: error: dot failed (exit {process.ExitCode}): {problems.Trim()}");
            return NicBypassCli.ErrorExitCode;
        }
    }
}
