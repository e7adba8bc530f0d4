using System.CommandLine;

namespace NicBypass.Cli.Commands;

/// <summary>The <c>--format text|json</c> option every reporting command takes.</summary>
internal static class FormatOption
{
    public static Option<string> Create()
    {
        var format = new Option<string>("--format") { Description = "text or json", DefaultValueFactory = _ => "text" };
        format.AcceptOnlyFromAmong("text", "json");
        return format;
    }
}
