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
        if (compilation.HasErrors)
        {
            // A host named with --host runs when every error lies inside the other hosts' blocks,
            // as the generator still builds it beside them (it refused with only the other host's
            // errors: found by a new user's drive).
            if (hostName is null) return null;
            if (compilation.Host(hostName) is not { } named)
            {
                // A mistyped --host was drowned by another host's errors: said after them (found by a new user's drive).
                error.WriteLine($"{path}: error: no host named '{hostName}'; the file declares {string.Join(", ", compilation.Hosts.Select(h => h.Name))}");
                return null;
            }
            var errors = compilation.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
            var others = compilation.Hosts.Where(h => h.Name != hostName).Select(h => h.Definition).ToList();
            if (!errors.All(e => !named.Definition.Encloses(e) && others.Any(o => o.Encloses(e)))) return null;
            var broken = others.Where(o => errors.Any(o.Encloses)).Select(o => $"'{o.Name}'").ToList();
            error.WriteLine($"{path}: note: running '{hostName}', which has no errors of its own; {string.Join(", ", broken)} {(broken.Count == 1 ? "has errors and does not" : "have errors and do not")} build");
            return InterpretedHost.Build(named, time);
        }
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
