using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using NicBypass.Generators.Models;

namespace NicBypass.Generators;

/// <summary>
/// Turns the project's .nicdsl AdditionalFiles into build diagnostics and one host class per
/// host. The pipeline only wires steps; the work is in <see cref="NicDslGenerator.Parse"/>
/// (language → models) and <see cref="Emitter"/> (models → C#).
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed partial class NicDslGenerator : IIncrementalGenerator
{
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        // The project's root namespace and folder: generated classes live in RootNamespace plus
        // the .nicdsl file's folder.
        var options = context.AnalyzerConfigOptionsProvider
            .Select(static (provider, _) => ReadOptions(provider.GlobalOptions))
            .WithTrackingName(TrackingNames.Options);

        // Only .nicdsl files, read into plain records: nothing downstream holds Roslyn objects.
        var files = context.AdditionalTextsProvider
            .Where(static text => text.Path.EndsWith(".nicdsl", StringComparison.OrdinalIgnoreCase))
            .Combine(options)
            .Select(static (pair, cancellation) => ReadFile(pair.Left, pair.Right, cancellation))
            .WithTrackingName(TrackingNames.Files);

        // All files compile together: hosts may not repeat across files, and diagnostics are
        // sorted across the project — the same as `nicbypass check` on the same files.
        var result = files.Collect()
            .Combine(options)
            .Select(static (pair, cancellation) => Parse(pair.Left, pair.Right, cancellation))
            .WithTrackingName(TrackingNames.Compile);

        // Diagnostics and code go through separate outputs, so a change that only moves a
        // diagnostic does not regenerate code and vice versa.
        var diagnostics = result.Select(static (r, _) => r.Diagnostics).WithTrackingName(TrackingNames.Diagnostics);
        var hosts = result.SelectMany(static (r, _) => r.Hosts).WithTrackingName(TrackingNames.Hosts);
        var standIns = result.SelectMany(static (r, _) => r.StandIns).WithTrackingName(TrackingNames.StandIns);

        context.RegisterSourceOutput(diagnostics, static (spc, items) =>
        {
            foreach (var item in items) spc.ReportDiagnostic(DiagnosticMapper.ToRoslyn(item));
        });
        context.RegisterSourceOutput(hosts, static (spc, host) => Emit(spc, host));
        context.RegisterSourceOutput(standIns, static (spc, standIn) => spc.AddSource(standIn.HintName, Emitter.EmitStandIn(standIn)));
    }

    private static void Emit(SourceProductionContext context, HostEmitModel host)
    {
        Microsoft.CodeAnalysis.Text.SourceText source;
        try
        {
            source = Emitter.EmitText(host);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            context.ReportDiagnostic(DiagnosticMapper.InternalError(host.FilePath, ex));
            return;
        }
        context.AddSource(host.HintName, source);
    }

    private static NicDslFile ReadFile(Microsoft.CodeAnalysis.AdditionalText text, ProjectOptions options, CancellationToken cancellation)
    {
        var content = text.GetText(cancellation)?.ToString() ?? "";
        return new NicDslFile(text.Path, RelativePath(text.Path, options.ProjectDirectory), content);
    }

    // The path below the project folder (a linked file outside it counts as being at its root).
    internal static string RelativePath(string path, string projectDirectory)
    {
        var normalized = Normalize(path);
        var directory = Normalize(projectDirectory);
        if (directory.Length > 0 && !directory.EndsWith("/", StringComparison.Ordinal)) directory += "/";
        return directory.Length > 0 && normalized.StartsWith(directory, StringComparison.OrdinalIgnoreCase)
            ? normalized.Substring(directory.Length)
            : normalized.Substring(normalized.LastIndexOf('/') + 1);
    }

    // Resolves "." and ".." segments without touching the file system (generators may not).
    private static string Normalize(string path)
    {
        var rooted = path.StartsWith("/", StringComparison.Ordinal);
        var parts = new List<string>();
        foreach (var part in path.Replace('\\', '/').Split('/'))
        {
            if (part.Length == 0 || part == ".") continue;
            if (part == ".." && parts.Count > 0 && parts[parts.Count - 1] != "..") parts.RemoveAt(parts.Count - 1);
            else parts.Add(part);
        }
        return (rooted ? "/" : "") + string.Join("/", parts);
    }

    private static ProjectOptions ReadOptions(Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptions options)
    {
        options.TryGetValue("build_property.RootNamespace", out var rootNamespace);
        options.TryGetValue("build_property.ProjectDir", out var projectDirectory);
        return new ProjectOptions(string.IsNullOrWhiteSpace(rootNamespace) ? "NicBypass.Generated" : rootNamespace!, projectDirectory ?? "");
    }

    internal static ImmutableArray<string> AllTrackingNames => ImmutableArray.Create(
        TrackingNames.Options, TrackingNames.Files, TrackingNames.Compile, TrackingNames.Diagnostics, TrackingNames.Hosts);
    // (TrackingNames.StandIns runs only for a host with errors: no step to look at for a valid one.)
}
