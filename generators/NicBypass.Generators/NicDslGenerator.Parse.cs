using System.Collections.Immutable;
using System.Text;
using NicBypass.Dsl;
using NicBypass.Dsl.Binding;
using NicBypass.Dsl.Diagnostics;
using NicBypass.Dsl.Model;
using NicBypass.Dsl.Planning;
using NicBypass.Dsl.Text;
using NicBypass.Generators.Models;

namespace NicBypass.Generators;

public sealed partial class NicDslGenerator
{
    /// <summary>
    /// Pure: files → the language pipeline → emit models and diagnostics. Never throws: a
    /// failure becomes an NB0030 diagnostic on the file (an exception escaping a generator would
    /// turn into CS8785 and silently drop all its output).
    /// </summary>
    internal static GeneratorResult Parse(ImmutableArray<NicDslFile> files, ProjectOptions options, CancellationToken cancellation)
    {
        var ordered = files.OrderBy(f => f.RelativePath, StringComparer.Ordinal).ThenBy(f => f.Path, StringComparer.Ordinal).ToList();
        DslCompilation compilation;
        try
        {
            compilation = DslCompiler.Compile(ordered.Select(f => new SourceFile(f.Path, f.Text)));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            var errors = ordered.Select(f => Diagnostic.Create(DiagnosticDescriptors.InternalError, new SourceLocation(f.Path, default), null, ex.GetType().Name + ": " + ex.Message));
            return new GeneratorResult(EquatableArray<HostEmitModel>.Empty, errors.ToEquatableArray());
        }
        cancellation.ThrowIfCancellationRequested();

        if (compilation.HasErrors) return new GeneratorResult(EquatableArray<HostEmitModel>.Empty, compilation.Diagnostics);

        var hosts = new List<HostEmitModel>();
        for (var i = 0; i < compilation.Hosts.Count; i++)
        {
            var host = compilation.Hosts[i];
            var file = ordered.First(f => f.Path == host.Location.Path);
            var folder = file.RelativePath.Contains("/") ? file.RelativePath.Substring(0, file.RelativePath.LastIndexOf('/')) : "";
            var className = Identifiers.ToPascalCase(host.Name);
            hosts.Add(new HostEmitModel(
                Namespace(options.RootNamespace, folder),
                HintName(file.RelativePath, className),
                file.Path,
                file.RelativePath,
                WithoutLocations(host),
                compilation.Plans[i]));
        }
        return new GeneratorResult(hosts.ToEquatableArray(), compilation.Diagnostics);
    }

    // Locations change when lines move; the generated code does not depend on them.
    private static HostDefinition WithoutLocations(HostDefinition host) => host with
    {
        Location = default,
        Nics = host.Nics.Select(n => n with { Location = default }).ToEquatableArray(),
        Vnics = host.Vnics.Select(v => v with { Location = default, RingLocation = null }).ToEquatableArray(),
    };

    // RootNamespace plus the file's folders, each made a valid identifier.
    private static string Namespace(string root, string folder)
    {
        var parts = new List<string> { root };
        parts.AddRange(folder.Split(new[] { '/' }, StringSplitOptions.RemoveEmptyEntries).Select(SafeIdentifier));
        return string.Join(".", parts);
    }

    private static string SafeIdentifier(string text)
    {
        var builder = new StringBuilder();
        foreach (var c in text) builder.Append(char.IsLetterOrDigit(c) || c == '_' ? c : '_');
        if (builder.Length == 0 || char.IsDigit(builder[0])) builder.Insert(0, '_');
        return builder.ToString();
    }

    // Unique per file and host, derived from the relative path (duplicate hint names would make
    // the generator fail and drop all its output).
    private static string HintName(string relativePath, string className)
    {
        var withoutExtension = relativePath.EndsWith(".nicdsl", StringComparison.OrdinalIgnoreCase) ? relativePath.Substring(0, relativePath.Length - 7) : relativePath;
        var builder = new StringBuilder();
        foreach (var c in withoutExtension) builder.Append(c == '/' ? '.' : char.IsLetterOrDigit(c) || c is '_' or '-' or '.' ? c : '_');
        return builder + "." + className + ".g.cs";
    }
}
