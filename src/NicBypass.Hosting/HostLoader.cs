using NicBypass.Dsl;
using NicBypass.Dsl.Diagnostics;
using NicBypass.Dsl.Text;
using NicBypass.Runtime.Virtualization;

namespace NicBypass.Hosting;

/// <summary>Compiles .nicdsl sources and, when they are free of errors, builds the interpreted host of one of them.</summary>
public static class HostLoader
{
    /// <summary>The compilation, and the host named <paramref name="hostName"/> (default: the first) when there are no errors.</summary>
    public static (DslCompilation Compilation, NetworkHost? Host) Load(IEnumerable<SourceFile> files, string? hostName = null, TimeProvider? time = null)
    {
        var compilation = DslCompiler.Compile(files);
        if (compilation.HasErrors || compilation.Hosts.Count == 0) return (compilation, null);
        var host = hostName is null ? compilation.Hosts[0] : compilation.Host(hostName);
        return (compilation, host is null ? null : InterpretedHost.Build(host, time));
    }

    public static IEnumerable<Diagnostic> Errors(DslCompilation compilation) =>
        compilation.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error);
}
