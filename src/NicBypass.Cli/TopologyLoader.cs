using NicBypass.Dsl.Diagnostics;
using NicBypass.Hosting;
using NicBypass.Runtime.Virtualization;

namespace NicBypass.Cli;

/// <summary>Loads a topology file into an interpreted host, printing diagnostics the way <c>check</c> does.</summary>
internal static class TopologyLoader
{
    /// <summary>The host of the first host block, or null after printing why there is none.</summary>
    public static NetworkHost? Load(string path, TextWriter error, TimeProvider? time = null)
    {
        var sources = SourceLoader.Load(new[] { path }, error);
        if (sources is null) return null;
        var (compilation, host) = HostLoader.Load(sources, time: time);
        foreach (var diagnostic in compilation.Diagnostics.Where(d => d.Severity != DiagnosticSeverity.Info)) error.WriteLine(diagnostic.ToString());
        if (host is null && !compilation.HasErrors) error.WriteLine($"{path}: error: the file declares no host");
        return host;
    }
}
