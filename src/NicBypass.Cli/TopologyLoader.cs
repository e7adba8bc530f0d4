using NicBypass.Dsl.Diagnostics;
using NicBypass.Hosting;
using NicBypass.Runtime.Virtualization;

namespace NicBypass.Cli;

/// <summary>Loads the host a command runs from a TOPOLOGY file, printing diagnostics as the build does.</summary>
internal static class TopologyLoader
{
    /// <summary>
    /// The host named <paramref name="hostName"/> (default: the first host block), or null after
    /// printing why there is none. When the file holds several hosts and none is named, says on
    /// <paramref name="error"/> which one runs.
    /// </summary>
    public static NetworkHost? Load(string path, TextWriter error, TimeProvider? time = null, string? hostName = null)
    {
        var sources = SourceLoader.Load(new[] { path }, error);
        if (sources is null) return null;
        var (compilation, host) = HostLoader.Load(sources, hostName, time);
        foreach (var diagnostic in compilation.Diagnostics.Where(d => d.Severity != DiagnosticSeverity.Info)) error.WriteLine(diagnostic.ToString());
        if (compilation.HasErrors) return null;
        if (compilation.Hosts.Count == 0)
        {
            error.WriteLine($"{path}: error: the file declares no host");
            return null;
        }
        if (host is null)
        {
            error.WriteLine($"{path}: error: no host named '{hostName}'; the file declares {string.Join(", ", compilation.Hosts.Select(h => h.Name))}");
            return null;
        }
        if (hostName is null && compilation.Hosts.Count > 1)
        {
            error.WriteLine($"{path}: note: the file declares {compilation.Hosts.Count} hosts ({string.Join(", ", compilation.Hosts.Select(h => h.Name))}); running '{host.Name}' (choose with --host)");
        }
        return host;
    }
}
