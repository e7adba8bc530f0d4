using NicBypass.Dsl.Diagnostics;
using NicBypass.Dsl.Model;
using NicBypass.Dsl.Syntax;
using NicBypass.Dsl.Text;

namespace NicBypass.Dsl.Binding;

/// <summary>
/// Binds one host: its own properties, then each declaration — header
/// (<see cref="DeclarationHeader"/>), names, identifiers, and its properties
/// (<see cref="NicBinder"/>, <see cref="VnicBinder"/>, each property bound through its rule) —
/// then the checks that look across declarations (NIC references, processors, and per NIC
/// <see cref="NicChecks"/>). Best effort: a bad property is reported and skipped, so one build
/// shows every problem.
/// </summary>
internal sealed class HostBinder
{
    private static readonly string[] BlockKeywords = { "nic", "vm", "container", "service", "flow" };

    private readonly BindingContext _context;
    private readonly ValueReader _values;
    private readonly PropertyChecks _properties;
    private readonly NicBinder _nics;
    private readonly VnicBinder _vnics;
    private readonly FlowBinder _flows;
    private readonly NicChecks _nicChecks;

    public HostBinder(string path, List<Diagnostic> diagnostics)
    {
        _context = new BindingContext(path, diagnostics);
        _values = new ValueReader(_context);
        _properties = new PropertyChecks(_context);
        _nics = new NicBinder(_context, _values, _properties);
        _vnics = new VnicBinder(_context, _values, _properties);
        _flows = new FlowBinder(_context, _values, _properties);
        _nicChecks = new NicChecks(_context);
    }

    public HostDefinition Bind(HostSyntax host)
    {
        var owner = $"host '{host.Name.Text}'";
        var cpus = HostDefinition.DefaultCpus;
        var cpusGiven = false;
        var cpusRefused = false; // a 'cpus' with its error already: no range checks against the default beside it
        var seen = new Dictionary<string, PropertySyntax>(StringComparer.Ordinal);
        foreach (var property in host.Properties)
        {
            if (_properties.Check(property, BlockKind.Host, owner, seen) is not { } rule) continue;
            if (rule.Name != "cpus") continue;
            var token = _values.Single(property);
            if (_values.Count(token, "cpus") is not { } n)
            {
                cpusRefused = true;
                continue;
            }
            if (n > HostDefinition.MaxCpus)
            {
                _context.Report(DiagnosticDescriptors.MalformedNumber, token.Span, null, token.Text, "cpus", $"a host has at most {HostDefinition.MaxCpus} processors");
                cpusRefused = true;
                continue;
            }
            cpus = n;
            cpusGiven = true;
        }

        var names = new Dictionary<string, (string Kind, SourceLocation Location)>(StringComparer.Ordinal);
        var identifiers = new Dictionary<string, (string Name, SourceLocation Location)>(StringComparer.Ordinal);
        var className = Identifiers.ToPascalCase(host.Name.Text);
        if (Identifiers.Reserved.Contains(className))
        {
            // The class would hold a member of its own name (CS0542): 'host dispose' → Dispose.Dispose().
            _context.Report(DiagnosticDescriptors.IdentifierCollision, host.Name.Span, null, "host", host.Name.Text, "a member every generated host class has", className);
        }
        var declaredNics = new HashSet<string>(StringComparer.Ordinal);
        var nics = new List<NicDefinition>();
        var vnics = new List<VnicDraft>();
        // The NICs that refused declarations (a bad name, a name used twice) were meant to be on.
        var rejectedOn = new HashSet<string>(StringComparer.Ordinal);
        void Rejected(BlockSyntax block, string keyword)
        {
            // Any word of a refused VNIC's header may be the NIC it meant: `vm a on n0 {`, or `vm a n0 {` without its 'on'.
            if (keyword is not ("nic" or "flow")) foreach (var word in block.Header.Skip(1)) rejectedOn.Add(word.Text);
        }
        var flows = new List<(FlowDefinition Flow, SyntaxToken Target, bool Whole)>();
        // Declarations left out past a bound (NB0037): what names them is not "unknown" as well.
        var leftOutNics = new HashSet<string>(StringComparer.Ordinal);
        var leftOutVnics = new HashSet<string>(StringComparer.Ordinal);

        int nicCount = 0, vnicCount = 0, flowCount = 0;
        foreach (var block in host.Blocks)
        {
            var keyword = block.Keyword.Text;
            if (Array.IndexOf(BlockKeywords, keyword) < 0)
            {
                _context.Report(DiagnosticDescriptors.SyntaxError, block.Keyword.Span, null,
                    $"unexpected '{keyword}'", $"a nic, vm, container, service or flow block{NameSuggestions.Hint(keyword, BlockKeywords)}");
                // A misspelt 'vm' (or any refused block) meant to be on its NIC: no "has no VNICs" beside it (found by a drive).
                foreach (var word in block.Header.Skip(1)) rejectedOn.Add(word.Text);
                continue;
            }
            // Bounded counts (NB0037): reported once, at the first declaration past the bound; the rest are left out.
            var (count, limit, what) = keyword switch
            {
                "nic" => (++nicCount, HostDefinition.MaxNics, "NICs"),
                "flow" => (++flowCount, HostDefinition.MaxFlows, "flows"),
                _ => (++vnicCount, HostDefinition.MaxVnics, "VMs, containers and services"),
            };
            if (count > limit)
            {
                if (count == limit + 1) _context.Report(DiagnosticDescriptors.TooManyDeclarations, block.Keyword.Span, null, owner, limit, what);
                if (block.Header.Count >= 2 && keyword != "flow") (keyword == "nic" ? leftOutNics : leftOutVnics).Add(block.Header[1].Text);
                continue;
            }
            if (!DeclarationHeader.Check(_context, block, keyword))
            {
                Rejected(block, keyword);
                continue;
            }

            var name = block.Name!;
            var location = _context.Location(name.Span);
            if (names.TryGetValue(name.Text, out var previous))
            {
                _context.Report(DiagnosticDescriptors.DuplicateName, name.Span, new[] { previous.Location }, keyword, name.Text, owner);
                Rejected(block, keyword);
                continue;
            }
            names.Add(name.Text, (keyword, location));
            var identifier = Identifiers.ToPascalCase(name.Text);
            if (identifier == className || Identifiers.Reserved.Contains(identifier))
            {
                _context.Report(DiagnosticDescriptors.IdentifierCollision, name.Span, null, keyword, name.Text,
                    identifier == className ? $"host '{host.Name.Text}' (the generated class)" : "a member every generated host class has", identifier);
            }
            else if (identifiers.TryGetValue(identifier, out var clash))
            {
                _context.Report(DiagnosticDescriptors.IdentifierCollision, name.Span, new[] { clash.Location }, keyword, name.Text, $"{names[clash.Name].Kind} '{clash.Name}'", identifier);
            }
            else
            {
                identifiers.Add(identifier, (name.Text, location));
            }

            if (keyword == "nic")
            {
                declaredNics.Add(name.Text);
                if (_nics.Bind(block, name) is { } nic) nics.Add(nic);
            }
            else if (keyword == "flow")
            {
                var flow = _flows.Bind(block, name, flows.Count, out var whole);
                flows.Add((flow, block.Header[3], whole));
            }
            else
            {
                vnics.Add(_vnics.Bind(block, keyword, name, vnics.Count));
            }
        }

        foreach (var vnic in vnics)
        {
            if (vnic.NicToken is { } target && !declaredNics.Contains(target.Text) && !leftOutNics.Contains(target.Text))
            {
                _context.Report(DiagnosticDescriptors.UnknownNic, target.Span, null,
                    $"{vnic.Keyword} '{vnic.Name}'", target.Text, host.Name.Text, NameSuggestions.Hint(target.Text, declaredNics));
                // The NIC it suggests was likely meant: no "has no VNICs" warning beside the error —
                // when it is the one near name (of 'e0' and 'e1', 'e9' means either; found by review).
                if (NameSuggestions.Closest(target.Text, declaredNics) is { } meant)
                {
                    var typed = target.Text.ToLowerInvariant();
                    var nearest = NameSuggestions.Distance(typed, meant.ToLowerInvariant());
                    if (declaredNics.Count(n => NameSuggestions.Distance(typed, n.ToLowerInvariant()) <= nearest) == 1) rejectedOn.Add(meant);
                }
            }
            // With its 'cpus' refused, only what no host could have (below 0, past the most there is):
            // not a range check against the default of 1 beside that error.
            var most = cpusRefused ? HostDefinition.MaxCpus : cpus;
            if (vnic.Cpu is { } cpu && vnic.CpuToken is { } cpuToken && (cpu < 0 || cpu + vnic.CpuCount - 1 >= most))
            {
                _context.Report(DiagnosticDescriptors.CpuOutOfRange, cpuToken.Span, null, cpu < 0 || cpu >= most ? cpu : cpu + vnic.CpuCount - 1, most - 1, host.Name.Text,
                    cpusRefused ? $"at most {HostDefinition.MaxCpus} processors (its 'cpus' was refused)" : cpusGiven ? $"cpus {cpus}" : $"cpus {cpus} (the default; set 'cpus')");
            }
        }

        foreach (var nic in nics)
        {
            var on = vnics.Where(v => v.NicToken?.Text == nic.Name).ToList();
            // A NIC whose only VNICs were refused already has its error there: no "unused" warning beside it.
            if (on.Count == 0 && rejectedOn.Contains(nic.Name)) continue;
            _nicChecks.Check(nic, on);
        }
        _flows.Check(flows.Where(f => !leftOutVnics.Contains(f.Target.Text)).ToList(), vnics, host.Name.Text);

        var definitions = vnics.Where(v => v.NicToken is not null).Select(v => v.ToDefinition()).ToEquatableArray();
        var vnicNames = new HashSet<string>(vnics.Select(v => v.Name), StringComparer.Ordinal);
        return new HostDefinition(host.Name.Text, cpus, nics.ToEquatableArray(), definitions, _context.Location(host.Name.Span),
            flows.Where(f => f.Whole).Select(f => f.Flow).Where(f => vnicNames.Contains(f.Vnic)).ToEquatableArray(), _context.Location(host.Span));
    }
}
