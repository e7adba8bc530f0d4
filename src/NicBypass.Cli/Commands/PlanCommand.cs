using System.CommandLine;
using NicBypass.Cli.Diff;
using NicBypass.Cli.Output;
using NicBypass.Dsl;

namespace NicBypass.Cli.Commands;

/// <summary>
/// <c>nicbypass plan FILE… [--format text|json]</c>: the placement. Diagnostics go to standard
/// error; with any error there is no plan and the exit code is 1. <c>--diff OLD NEW</c> and
/// <c>--baseline FILE.json</c> print what moved instead (exit code 0 whether or not anything did).
/// </summary>
internal static class PlanCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var files = new Argument<string[]>("files") { Description = ".nicdsl files to plan (with --diff: OLD.nicdsl NEW.nicdsl)", Arity = ArgumentArity.OneOrMore };
        var format = FormatOption.Create();
        var diff = new Option<bool>("--diff") { Description = "Compare two versions of a topology, OLD.nicdsl NEW.nicdsl: which VNIC lost its hardware ring, which software ring grew" };
        var baseline = new Option<string?>("--baseline") { Description = "Compare the files with a plan saved earlier by 'plan --format json'", HelpName = "FILE.json" };
        var command = new Command("plan", "Show which receive ring serves which VNIC, or what moved between two versions.") { files, format, diff, baseline };
        command.SetAction(parse =>
        {
            var paths = parse.GetValue(files) ?? Array.Empty<string>();
            var json = parse.GetValue(format) == "json";
            if (parse.GetValue(diff) || parse.GetValue(baseline) is not null)
            {
                return Compare(paths, parse.GetValue(diff), parse.GetValue(baseline), json, output, error);
            }
            var compilation = SourceLoader.CompileOrReport(paths, error);
            if (compilation is null) return NicBypassCli.ErrorExitCode;
            if (json) PlanJsonWriter.Write(compilation, output);
            else PlanTextWriter.Write(compilation, output);
            return 0;
        });
        return command;
    }

    private static int Compare(string[] paths, bool diff, string? baseline, bool json, TextWriter output, TextWriter error)
    {
        if (diff && baseline is not null)
        {
            error.WriteLine("error: use --diff OLD.nicdsl NEW.nicdsl or --baseline FILE.json, not both");
            return NicBypassCli.ErrorExitCode;
        }
        if (diff && paths.Length != 2)
        {
            error.WriteLine($"error: --diff compares two files, OLD.nicdsl NEW.nicdsl; got {paths.Length}");
            return NicBypassCli.ErrorExitCode;
        }
        PlacementSnapshot before;
        if (baseline is not null)
        {
            if (baseline.Length == 0)
            {
                error.WriteLine("error: --baseline needs the file `plan --format json` wrote; got an empty name");
                return NicBypassCli.ErrorExitCode;
            }
            if (Directory.Exists(baseline))
            {
                error.WriteLine($"{baseline}: error: is a directory; --baseline takes the file `plan --format json` wrote");
                return NicBypassCli.ErrorExitCode;
            }
            try
            {
                var (text, refusal) = SourceLoader.Read(baseline, "a plan's JSON");
                if (refusal is not null)
                {
                    error.WriteLine($"{baseline}: error: {refusal}");
                    return NicBypassCli.ErrorExitCode;
                }
                before = PlacementSnapshot.Parse(text!, baseline);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or ArgumentException or NotSupportedException)
            {
                error.WriteLine(ex is FormatException ? "error: " + ex.Message : $"error: cannot read {baseline}: {ex.Message}");
                return NicBypassCli.ErrorExitCode;
            }
        }
        else
        {
            var old = SourceLoader.CompileOrReport(new[] { paths[0] }, error);
            if (old is null) return NicBypassCli.ErrorExitCode;
            before = PlacementSnapshot.Of(old);
        }
        var current = SourceLoader.CompileOrReport(diff ? new[] { paths[1] } : paths, error);
        if (current is null) return NicBypassCli.ErrorExitCode;
        var changes = PlacementDiff.Compare(before, PlacementSnapshot.Of(current));
        if (json) PlanDiffWriter.WriteJson(changes, output);
        else PlanDiffWriter.WriteText(changes, output);
        return 0;
    }
}
