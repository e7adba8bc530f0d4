using System.Collections.Immutable;
using System.Text;
using NicBypass.Dsl;
using NicBypass.Dsl.Binding;
using NicBypass.Dsl.Diagnostics;
using NicBypass.Dsl.Lowering;
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

        // Each valid host is generated; a host with an error of its own is skipped (its errors fail
        // the build), so one bad file does not take every other host away with it.
        var hostErrors = compilation.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        var hosts = new List<HostEmitModel>();
        var standIns = new List<StandInModel>();
        foreach (var host in compilation.Hosts)
        {
            var file = ordered.First(f => f.Path == host.Definition.Location.Path);
            var folder = file.RelativePath.Contains("/") ? file.RelativePath.Substring(0, file.RelativePath.LastIndexOf('/')) : "";
            if (hostErrors.Any(host.Definition.Encloses))
            {
                if (StandIn(host.Definition, SyntaxOf(compilation, host.Definition), Namespace(options.RootNamespace, folder), file.RelativePath) is { } standIn) standIns.Add(standIn);
                continue;
            }
            // The lowered build carries no source locations: moving lines leaves it equal.
            var build = HostLowering.Lower(host.Definition, host.Plan);
            hosts.Add(new HostEmitModel(Namespace(options.RootNamespace, folder), HintName(file.RelativePath, build.ClassName), file.Path, file.RelativePath, build));
        }
        // A stand-in never takes the place of a class another host makes in its namespace (the same
        // host in two files is NB0003 already, not a CS0101 as well), nor of another stand-in.
        // Nor of a file another host's source has: "a.b.nicdsl" and "a/b.nicdsl" give one hint name
        // (Roslyn compares them ignoring case), and a second AddSource of it fails the generator
        // (found by review).
        var classes = new HashSet<string>(hosts.Select(h => h.Namespace + "." + h.Build.ClassName), StringComparer.Ordinal);
        var hints = new HashSet<string>(hosts.Select(h => h.HintName), StringComparer.OrdinalIgnoreCase);
        standIns = standIns.Where(s => classes.Add(s.Namespace + "." + s.ClassName) && hints.Add(s.HintName)).ToList();
        return new GeneratorResult(hosts.ToEquatableArray(), compilation.Diagnostics) { StandIns = standIns.ToEquatableArray() };
    }

    // The host block a bound host came from (its name token is the host's location).
    private static Dsl.Syntax.HostSyntax? SyntaxOf(DslCompilation compilation, Dsl.Model.HostDefinition host) =>
        compilation.Documents.Where(d => d.Path == host.Location.Path)
            .SelectMany(d => d.Hosts).FirstOrDefault(h => h.Name.Span == host.Location.Span);

    // A host with errors of its own: its class, with a property for each NIC and VNIC declared in
    // it under a name no other member has (a clash is itself one of its errors) — those that
    // bound, then those whose block did not (a NIC of an unknown model, a VM on it: code that
    // uses them still compiles, the block's own error says what is wrong) — or none when its own
    // name cannot be a class (NB0024).
    private static StandInModel? StandIn(Dsl.Model.HostDefinition host, Dsl.Syntax.HostSyntax? syntax, string ns, string relativePath)
    {
        var className = Identifiers.ToPascalCase(host.Name);
        if (!Identifiers.IsValidName(host.Name) || Identifiers.Reserved.Contains(className)) return null;
        var taken = new HashSet<string>(Identifiers.Reserved, StringComparer.Ordinal) { className };
        var members = new List<StandInMember>();
        void Add(string name, string type, string summary)
        {
            var member = Identifiers.ToPascalCase(name);
            if (Identifiers.IsValidName(name) && taken.Add(member)) members.Add(new StandInMember(member, type, summary));
        }
        foreach (var nic in host.Nics) Add(nic.Name, "Virtualization.HostNic", $"NIC '{nic.Name}'.");
        foreach (var vnic in host.Vnics)
        {
            if (vnic.Kind == Dsl.Model.VnicKind.Vm) Add(vnic.Name, "Virtualization.VirtualMachine", $"VM '{vnic.Name}'.");
            else Add(vnic.Name, "Virtualization.VirtualNetworkStack", $"{vnic.Kind.ToString().ToLowerInvariant()} '{vnic.Name}': its virtual network stack.");
        }
        foreach (var block in syntax?.Blocks ?? default)
        {
            if (block.Name is not { } name) continue;
            switch (block.Keyword.Text)
            {
                case "nic": Add(name.Text, "Virtualization.HostNic", $"NIC '{name.Text}'."); break;
                case "vm": Add(name.Text, "Virtualization.VirtualMachine", $"VM '{name.Text}'."); break;
                case "container" or "service": Add(name.Text, "Virtualization.VirtualNetworkStack", $"{block.Keyword.Text} '{name.Text}': its virtual network stack."); break;
            }
        }
        return new StandInModel(ns, HintName(relativePath, className), relativePath, host.Name, className, members.ToEquatableArray());
    }

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
        // A folder named after a keyword ('class', 'event'): escaped, or the namespace line does
        // not parse (found by a new user's drive: CS1001 in generated code, nothing in .nicdsl terms).
        var identifier = builder.ToString();
        return Microsoft.CodeAnalysis.CSharp.SyntaxFacts.GetKeywordKind(identifier) != Microsoft.CodeAnalysis.CSharp.SyntaxKind.None ? "@" + identifier : identifier;
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
