using NicBypass.Dsl.Diagnostics;
using NicBypass.Dsl.Model;
using NicBypass.Dsl.Syntax;
using NicBypass.Dsl.Text;

namespace NicBypass.Dsl.Binding;

/// <summary>
/// Binds syntax trees to checked host definitions: gives every word its meaning, fills in
/// defaults and reports every misconfiguration that does not depend on placement (docs/diagnostics.md).
/// Placement-dependent checks (NB0017, NB0022, NB0027) are the planner's.
///
/// Binding is best effort: a bad property is reported and skipped, and the rest of the host is
/// still checked, so one build shows all the problems at once.
/// </summary>
public static class Binder
{
    public static BindResult Bind(IEnumerable<DocumentSyntax> documents)
    {
        var diagnostics = new List<Diagnostic>();
        var hosts = new List<HostDefinition>();
        var names = new Dictionary<string, SourceLocation>(StringComparer.Ordinal);
        var identifiers = new Dictionary<string, (string Name, SourceLocation Location)>(StringComparer.Ordinal);

        foreach (var document in documents)
        {
            foreach (var hostSyntax in document.Hosts)
            {
                var location = new SourceLocation(document.Path, hostSyntax.Name.Span);
                var name = hostSyntax.Name.Text;
                if (!Identifiers.IsValidName(name))
                {
                    diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.SyntaxError, location, null, InvalidName(name), ValidName));
                }
                else if (names.TryGetValue(name, out var first))
                {
                    // Where the first one is, on the console too (the related location reaches only
                    // a SARIF log): which file a build reports depends on the order it lists them.
                    var where = first.Path == document.Path ? "this file" : $"this project (in {first.Path})";
                    diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.DuplicateName, location, new[] { first }, "host", name, where));
                }
                else
                {
                    names.Add(name, location);
                    var identifier = Identifiers.ToPascalCase(name);
                    if (identifiers.TryGetValue(identifier, out var other))
                    {
                        diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.IdentifierCollision, location, new[] { other.Location }, "host", other.Name, $"'{name}'", identifier));
                    }
                    else
                    {
                        identifiers.Add(identifier, (name, location));
                    }
                }
                hosts.Add(new HostBinder(document.Path, diagnostics).Bind(hostSyntax));
            }
        }
        return new BindResult(hosts.ToEquatableArray(), diagnostics.ToEquatableArray());
    }

    // NB0001's two parts for a name that breaks the naming rule.
    internal static string InvalidName(string name) => name.Length > Identifiers.MaxNameLength
        ? string.Format(System.Globalization.CultureInfo.InvariantCulture, "a name of {0:N0} characters", name.Length)
        : $"'{name}' is not a valid name";

    internal const string ValidName = "a name: an ASCII letter (a-z, A-Z), then ASCII letters, digits and '-', at most 255 characters";
}
