using System.ComponentModel;
using System.Diagnostics;
using System.CommandLine;
using NicBypass.Cli.Output;
using NicBypass.Dsl;

namespace NicBypass.Cli.Commands;

/// <summary>
/// <c>nicbypass graph FILE… [--out PATH]</c>: the placement as Graphviz DOT — on standard output,
/// or into PATH. PATH's extension picks the format: <c>.dot</c> and <c>.gv</c> are DOT text; any
/// output format Graphviz's <c>dot</c> knows (<c>.svg</c>, <c>.png</c>, <c>.pdf</c>, …) is rendered
/// by it where it is installed (a clear error where it is not); any other extension is refused
/// rather than filled with text of another format.
/// </summary>
internal static class GraphCommand
{
    /// <summary>The extensions written as DOT text.</summary>
    private static readonly string[] DotText = [".dot", ".gv"];

    /// <summary>Graphviz's output formats (<c>dot -T</c>) a file extension can name.</summary>
    private static readonly string[] Rendered = ["svg", "png", "pdf", "jpg", "jpeg", "gif", "bmp", "webp", "tif", "tiff", "ps", "eps", "json", "xdot", "plain", "imap", "cmapx"];

    public static Command Create(TextWriter output, TextWriter error)
    {
        var files = new Argument<string[]>("files") { Description = ".nicdsl files to draw", Arity = ArgumentArity.OneOrMore };
        var outPath = new Option<string?>("--out") { Description = "write to this file: DOT for .dot/.gv, or rendered by Graphviz for .svg, .png, .pdf and the other formats dot knows" };
        var command = new Command("graph", "Draw the placement as a Graphviz graph (DOT; SVG, PNG, PDF… where dot is installed).") { files, outPath };
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
            if (Directory.Exists(path))
            {
                error.WriteLine($"{path}: error: is a directory; --out names the file to write (its extension picks the format)");
                return NicBypassCli.ErrorExitCode;
            }
            try
            {
                var extension = Path.GetExtension(path).ToLowerInvariant();
                if (DotText.Contains(extension))
                {
                    File.WriteAllText(path, dot.ToString());
                    return 0;
                }
                var format = extension.TrimStart('.');
                if (!Rendered.Contains(format))
                {
                    error.WriteLine($"{path}: error: {(extension.Length == 0 ? "no extension" : $"unknown extension '{extension}'")} to pick a format from: use .dot or .gv for DOT text, or one Graphviz renders ({string.Join(", ", Rendered.Select(r => "." + r))})");
                    return NicBypassCli.ErrorExitCode;
                }
                return Render(dot.ToString(), format, path, error);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                error.WriteLine($"{path}: error: cannot write the file: {ex.Message}");
                return NicBypassCli.ErrorExitCode;
            }
        });
        return command;
    }

    private static int Render(string dot, string format, string path, TextWriter error)
    {
        var start = new ProcessStartInfo("dot", new[] { "-T" + format, "-o", path })
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
            error.WriteLine($"{path}: error: Graphviz 'dot' is not installed (or not on PATH), so no {format.ToUpperInvariant()}; write DOT with --out FILE.dot, or install graphviz");
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
