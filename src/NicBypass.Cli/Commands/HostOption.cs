using System.CommandLine;

namespace NicBypass.Cli.Commands;

/// <summary>The <c>--host NAME</c> option every command that takes a TOPOLOGY takes (README.md § A short tour).</summary>
internal static class HostOption
{
    public static Option<string?> Create() =>
        new("--host") { Description = "the host to build (default: the first host in the file)" };
}
