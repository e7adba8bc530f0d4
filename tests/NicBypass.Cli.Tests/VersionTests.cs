using System.Reflection;
using System.Text.RegularExpressions;

namespace NicBypass.Cli.Tests;

/// <summary>The nicbypass tool and the NicBypass package ship at one version (Directory.Build.props' NicBypassVersion).</summary>
public class VersionTests
{
    [Fact]
    public void The_tool_carries_the_version_the_package_is_packed_with()
    {
        var props = File.ReadAllText(Path.Combine(RepositoryRoot(), "Directory.Build.props"));
        var version = Regex.Match(props, "<NicBypassVersion>([^<]+)</NicBypassVersion>").Groups[1].Value;
        var package = File.ReadAllText(Path.Combine(RepositoryRoot(), "src", "NicBypass", "NicBypass.csproj"));

        Assert.NotEmpty(version);
        Assert.Contains("<Version>$(NicBypassVersion)</Version>", package);
        var informational = typeof(NicBypassCli).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;
        Assert.StartsWith(version + "+", informational + "+"); // what `nicbypass --version` prints, before the commit
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "NicBypass.sln"))) directory = directory.Parent;
        return directory?.FullName ?? throw new InvalidOperationException("NicBypass.sln not found above " + AppContext.BaseDirectory);
    }
}
