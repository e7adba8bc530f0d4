using NicBypass.Dsl.Binding;
using NicBypass.Dsl.Diagnostics;
using NicBypass.Dsl.Parsing;
using NicBypass.Dsl.Planning;
using NicBypass.Dsl.Text;

namespace NicBypass.Dsl;

/// <summary>
/// The language pipeline in one call: parse each file → bind and validate all hosts → plan each
/// host. The CLI, the source generator and the interpreted host all go through here, so every
/// shell reports the same diagnostics at the same places.
/// </summary>
public static class DslCompiler
{
    public static DslCompilation Compile(IEnumerable<SourceFile> files)
    {
        var diagnostics = new List<Diagnostic>();
        var documents = new List<Syntax.DocumentSyntax>();
        foreach (var file in files)
        {
            var parsed = DslParser.Parse(file);
            documents.Add(parsed.Document);
            diagnostics.AddRange(parsed.Diagnostics);
            if (parsed.Document.Hosts.Count == 0 && parsed.Diagnostics.Count == 0)
            {
                // Empty, or only comments: nothing is built from it (a file whose syntax errors
                // left its hosts out has said why already).
                diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.NoHostDeclared, file.Location(0, 0), null));
            }
        }

        var bound = Binder.Bind(documents);
        diagnostics.AddRange(bound.Diagnostics);

        var hosts = new List<CompiledHost>();
        foreach (var host in bound.Hosts)
        {
            var planned = Planner.Plan(host);
            hosts.Add(new CompiledHost(host, planned.Plan));
            // A host with errors of its own is not built: no summary of a placement that will not
            // run beside them (found by a new user's drive), but what the planner found wrong stays.
            var broken = planned.Diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error)
                || diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error && host.Encloses(d));
            diagnostics.AddRange(broken ? planned.Diagnostics.Where(d => d.Id != DiagnosticDescriptors.PlacementSummary.Id) : planned.Diagnostics);
        }

        var sorted = diagnostics
            .OrderBy(d => d.Location.Path, StringComparer.Ordinal)
            .ThenBy(d => d.Location.Span.Start)
            .ThenBy(d => d.Id, StringComparer.Ordinal)
            .ThenBy(d => d.Message, StringComparer.Ordinal)
            .ToEquatableArray();
        return new DslCompilation(documents.ToEquatableArray(), hosts.ToEquatableArray(), sorted);
    }

    /// <summary>Compiles a single text, named <paramref name="path"/> in diagnostics.</summary>
    public static DslCompilation Compile(string path, string text) => Compile(new[] { new SourceFile(path, text) });
}
