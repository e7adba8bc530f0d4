using System.Globalization;
using NicBypass.Dsl.Diagnostics;
using NicBypass.Dsl.Hardware;
using NicBypass.Dsl.Model;
using NicBypass.Dsl.Syntax;
using NicBypass.Dsl.Text;
using NicBypass.Dsl.Values;

namespace NicBypass.Dsl.Binding;

/// <summary>
/// Binds one host: its properties, each declaration's header and properties, then the checks
/// that look across declarations (names, NIC references, addresses, allocations).
/// </summary>
internal sealed class HostBinder
{
    private static readonly string[] BlockKeywords = { "nic", "vm", "container", "service" };

    private readonly string _path;
    private readonly List<Diagnostic> _diagnostics;

    public HostBinder(string path, List<Diagnostic> diagnostics)
    {
        _path = path;
        _diagnostics = diagnostics;
    }

    public HostDefinition Bind(HostSyntax host)
    {
        var owner = $"host '{host.Name.Text}'";
        var cpus = HostDefinition.DefaultCpus;
        var cpusGiven = false;
        var seen = new Dictionary<string, PropertySyntax>(StringComparer.Ordinal);
        foreach (var property in host.Properties)
        {
            if (CheckProperty(property, BlockKind.Host, owner, seen) is not { } rule) continue;
            if (rule.Name == "cpus" && Count(Single(property), "cpus") is { } n)
            {
                cpus = n;
                cpusGiven = true;
            }
        }

        var names = new Dictionary<string, (string Kind, SourceLocation Location)>(StringComparer.Ordinal);
        var identifiers = new Dictionary<string, (string Name, SourceLocation Location)>(StringComparer.Ordinal);
        var className = Identifiers.ToPascalCase(host.Name.Text);
        var declaredNics = new HashSet<string>(StringComparer.Ordinal);
        var nics = new List<NicDefinition>();
        var vnics = new List<VnicDraft>();

        foreach (var block in host.Blocks)
        {
            var keyword = block.Keyword.Text;
            if (Array.IndexOf(BlockKeywords, keyword) < 0)
            {
                Report(DiagnosticDescriptors.SyntaxError, block.Keyword.Span, null,
                    $"unexpected '{keyword}'", $"a nic, vm, container or service block{NameSuggestions.Hint(keyword, BlockKeywords)}");
                continue;
            }
            if (!CheckHeader(block, keyword)) continue;

            var name = block.Name!;
            var location = Location(name.Span);
            if (names.TryGetValue(name.Text, out var previous))
            {
                Report(DiagnosticDescriptors.DuplicateName, name.Span, new[] { previous.Location }, keyword, name.Text, owner);
                continue;
            }
            names.Add(name.Text, (keyword, location));
            var identifier = Identifiers.ToPascalCase(name.Text);
            if (identifier == className || Identifiers.Reserved.Contains(identifier))
            {
                Report(DiagnosticDescriptors.IdentifierCollision, name.Span, null, keyword, name.Text,
                    identifier == className ? $"host '{host.Name.Text}' (the generated class)" : "a member every generated host class has", identifier);
            }
            else if (identifiers.TryGetValue(identifier, out var clash))
            {
                Report(DiagnosticDescriptors.IdentifierCollision, name.Span, new[] { clash.Location }, keyword, clash.Name, $"'{name.Text}'", identifier);
            }
            else
            {
                identifiers.Add(identifier, (name.Text, location));
            }

            if (keyword == "nic")
            {
                declaredNics.Add(name.Text);
                if (BindNic(block, name) is { } nic) nics.Add(nic);
            }
            else
            {
                vnics.Add(BindVnic(block, keyword, name, vnics.Count));
            }
        }

        foreach (var vnic in vnics)
        {
            if (vnic.NicToken is { } target && !declaredNics.Contains(target.Text))
            {
                Report(DiagnosticDescriptors.UnknownNic, target.Span, null,
                    $"{vnic.Keyword} '{vnic.Name}'", target.Text, host.Name.Text, NameSuggestions.Hint(target.Text, declaredNics));
            }
            if (vnic.Cpu is { } cpu && vnic.CpuToken is { } cpuToken && (cpu < 0 || cpu >= cpus))
            {
                Report(DiagnosticDescriptors.CpuOutOfRange, cpuToken.Span, null, cpu, cpus - 1, host.Name.Text,
                    cpusGiven ? $"cpus {cpus}" : $"cpus {cpus} (the default; set 'cpus')");
            }
        }

        foreach (var nic in nics)
        {
            CheckNic(nic, vnics.Where(v => v.NicToken?.Text == nic.Name).ToList());
        }

        var definitions = vnics.Where(v => v.NicToken is not null).Select(v => v.ToDefinition()).ToEquatableArray();
        return new HostDefinition(host.Name.Text, cpus, nics.ToEquatableArray(), definitions, Location(host.Name.Span));
    }

    // ---- declarations ------------------------------------------------------------------------

    // Header shapes: `nic NAME {` and `vm|container|service NAME on NIC {`.
    private bool CheckHeader(BlockSyntax block, string keyword)
    {
        var header = block.Header;
        if (header.Count < 2)
        {
            Report(DiagnosticDescriptors.SyntaxError, block.OpenBrace, null, $"no name after '{keyword}'", $"a name, e.g. '{keyword} {(keyword == "nic" ? "nge0" : "guest1 on nge0")} {{'");
            return false;
        }
        if (!Identifiers.IsValidName(header[1].Text))
        {
            Report(DiagnosticDescriptors.SyntaxError, header[1].Span, null, Binder.InvalidName(header[1].Text), Binder.ValidName);
            return false;
        }
        if (keyword == "nic")
        {
            if (header.Count > 2)
            {
                Report(DiagnosticDescriptors.SyntaxError, header[2].Span, null, $"unexpected '{header[2].Text}'", $"'{{': a NIC is declared as 'nic {header[1].Text} {{'");
                return false;
            }
            return true;
        }
        if (header.Count == 2)
        {
            Report(DiagnosticDescriptors.SyntaxError, block.OpenBrace, null, $"no 'on' and NIC name before '{{'", $"'on <nic>': write '{keyword} {header[1].Text} on <nic> {{'");
            return false;
        }
        if (header[2].Text != "on")
        {
            Report(DiagnosticDescriptors.SyntaxError, header[2].Span, null, $"unexpected '{header[2].Text}'", $"'on': write '{keyword} {header[1].Text} on <nic> {{'");
            return false;
        }
        if (header.Count == 3)
        {
            Report(DiagnosticDescriptors.SyntaxError, block.OpenBrace, null, "no NIC name after 'on'", "the name of one of the host's NICs");
            return false;
        }
        if (header.Count > 4)
        {
            Report(DiagnosticDescriptors.SyntaxError, header[4].Span, null, $"unexpected '{header[4].Text}'", "'{'");
            return false;
        }
        return true;
    }

    private NicDefinition? BindNic(BlockSyntax block, SyntaxToken name)
    {
        var owner = $"nic '{name.Text}'";
        var seen = new Dictionary<string, PropertySyntax>(StringComparer.Ordinal);
        NicModel? model = null;
        var modelKnown = false;
        int? rxRings = null, txRings = null, ringSize = null, msi = null, softRingWidth = null, mtu = null;
        SyntaxToken? rxToken = null, txToken = null, msiToken = null, mtuToken = null, speedToken = null;
        BitRate? speed = null;

        foreach (var property in block.Properties)
        {
            if (CheckProperty(property, BlockKind.Nic, owner, seen) is not { } rule) continue;
            var value = Single(property);
            switch (rule.Name)
            {
                case "model":
                    model = NicModelCatalogue.Find(value.Text);
                    modelKnown = model is not null;
                    if (model is null)
                    {
                        var known = NicModelCatalogue.Models.Select(m => m.Name).ToList();
                        Report(DiagnosticDescriptors.UnknownModel, value.Span, null, value.Text, NameSuggestions.Hint(value.Text, known), string.Join(", ", known));
                    }
                    break;
                case "rx-rings": rxRings = Count(value, "rx-rings"); rxToken = value; break;
                case "tx-rings": txRings = Count(value, "tx-rings"); txToken = value; break;
                case "msi": msi = Count(value, "msi"); msiToken = value; break;
                case "mtu": mtu = Count(value, "mtu"); mtuToken = value; break;
                case "speed": speed = Rate(value, "speed"); speedToken = value; break;
                case "ring-size":
                    ringSize = Count(value, "ring-size");
                    if (ringSize is { } size && (size < 16 || size > 65536 || (size & (size - 1)) != 0))
                    {
                        Report(DiagnosticDescriptors.RingSizeInvalid, value.Span, null, size, NearestRingSize(size));
                        ringSize = null;
                    }
                    break;
                case "soft-ring-width":
                    softRingWidth = Count(value, "soft-ring-width");
                    if (softRingWidth is 1)
                    {
                        Report(DiagnosticDescriptors.MalformedNumber, value.Span, null, value.Text, "soft-ring-width",
                            "it must be at least 2: a software ring needs one SRR for a VNIC and one to carry the next software ring");
                        softRingWidth = null;
                    }
                    break;
            }
        }

        Require(block, BlockKind.Nic, seen, name, owner, "model", "model simnic-10g");
        Require(block, BlockKind.Nic, seen, name, owner, "rx-rings", "rx-rings 4");
        if (!modelKnown || model is null) return null;

        rxRings = InModelRange(rxRings, rxToken, "rx-rings", model.MaxRxRings, model);
        txRings = InModelRange(txRings, txToken, "tx-rings", model.MaxTxRings, model);
        msi = InModelRange(msi, msiToken, "msi", model.MsiVectors, model);
        if (mtu is { } m && mtuToken is not null && (m < 576 || m > model.MaxMtu))
        {
            Report(DiagnosticDescriptors.MtuOutOfRange, mtuToken.Span, null, m, model.MaxMtu, model.Name);
            mtu = null;
        }
        if (speed is { } s && speedToken is not null && s > model.LinkSpeed)
        {
            Report(DiagnosticDescriptors.AllocationExceedsLink, speedToken.Span, null,
                $"speed {s} (model {model.Name} links at {model.LinkSpeed})", model.LinkSpeed, name.Text);
            speed = null;
        }
        if (rxRings is null) return null;

        return new NicDefinition(name.Text, model, rxRings.Value, txRings ?? NicDefinition.DefaultTxRings,
            ringSize ?? NicDefinition.DefaultRingSize, speed ?? model.LinkSpeed, msi ?? model.MsiVectors,
            softRingWidth ?? NicDefinition.DefaultSoftRingWidth, mtu ?? NicDefinition.DefaultMtu, Location(name.Span));
    }

    private int? InModelRange(int? value, SyntaxToken? token, string property, int max, NicModel model)
    {
        if (value is { } v && token is not null && v > max)
        {
            Report(DiagnosticDescriptors.RingCountOutOfRange, token.Span, null, property, v, max, model.Name);
            return null;
        }
        return value;
    }

    private VnicDraft BindVnic(BlockSyntax block, string keyword, SyntaxToken name, int index)
    {
        var kind = keyword switch { "vm" => VnicKind.Vm, "container" => VnicKind.Container, _ => VnicKind.Service };
        var blockKind = kind switch { VnicKind.Vm => BlockKind.Vm, VnicKind.Container => BlockKind.Container, _ => BlockKind.Service };
        var draft = new VnicDraft(keyword, kind, name.Text, index, Location(name.Span)) { NicToken = block.Header[3] };
        var owner = $"{keyword} '{name.Text}'";
        var seen = new Dictionary<string, PropertySyntax>(StringComparer.Ordinal);

        foreach (var property in block.Properties)
        {
            if (CheckProperty(property, blockKind, owner, seen) is not { } rule) continue;
            switch (rule.Name)
            {
                case "mac":
                    foreach (var token in property.Values) BindMac(draft, token);
                    break;
                case "ip":
                    foreach (var token in property.Values)
                    {
                        if (token.Text == "dhcp") draft.Dhcp = true;
                        else if (IpPrefix.TryParse(token.Text, out var prefix, out var error)) draft.Ips.Add((prefix, token));
                        else Report(DiagnosticDescriptors.MalformedIp, token.Span, null, token.Text, error);
                    }
                    break;
                case "vlan":
                {
                    var token = Single(property);
                    if (Integer(token, "vlan") is { } vlan)
                    {
                        if (vlan is < 1 or > 4094) Report(DiagnosticDescriptors.VlanOutOfRange, token.Span, null, vlan);
                        else draft.Vlan = vlan;
                    }
                    break;
                }
                case "bandwidth":
                    draft.BandwidthToken = Single(property);
                    draft.Bandwidth = Rate(draft.BandwidthToken, "bandwidth");
                    break;
                case "outbound-bandwidth":
                    draft.OutboundToken = Single(property);
                    draft.OutboundBandwidth = Rate(draft.OutboundToken, "outbound-bandwidth");
                    break;
                case "cpu":
                    draft.CpuToken = Single(property);
                    draft.Cpu = Integer(draft.CpuToken, "cpu");
                    break;
                case "ring":
                    if (Keyword(Single(property), "ring", "a ring policy", new[] { "hardware", "any" }) is { } ring)
                    {
                        draft.Ring = ring == "hardware" ? RingPolicy.Hardware : RingPolicy.Any;
                        draft.RingToken = property.Values[0];
                    }
                    break;
                case "transform":
                    if (Keyword(Single(property), "transform", "a transform", new[] { "none", "reverse-bits" }) is { } transform)
                    {
                        draft.Transform = transform == "reverse-bits" ? PacketTransform.ReverseBits : PacketTransform.None;
                    }
                    break;
                case "mode":
                    if (Keyword(Single(property), "mode", "a processing mode", new[] { "polling", "interrupt" }) is { } mode)
                    {
                        draft.Mode = mode == "polling" ? ProcessingMode.Polling : ProcessingMode.Interrupt;
                        draft.ModeToken = property.Values[0];
                    }
                    break;
                case "protocols":
                    foreach (var token in property.Values)
                    {
                        var protocol = Keyword(token, "protocols", "a transport protocol", new[] { "tcp", "udp" });
                        if (protocol == "tcp") draft.Protocols |= TransportProtocols.Tcp;
                        else if (protocol == "udp") draft.Protocols |= TransportProtocols.Udp;
                    }
                    break;
                case "ports":
                    draft.PortsName = property.Name;
                    foreach (var token in property.Values)
                    {
                        if (Integer(token, "a port") is not { } port) continue;
                        if (port is < 1 or > 65535)
                        {
                            Report(DiagnosticDescriptors.InvalidPort, token.Span, null, owner, $"port {port} is outside 1..65535", "use a port in that range");
                        }
                        else if (draft.Ports.Contains(port))
                        {
                            Report(DiagnosticDescriptors.InvalidPort, token.Span, null, owner, $"port {port} is listed twice", "remove one");
                        }
                        else
                        {
                            draft.Ports.Add(port);
                        }
                    }
                    break;
            }
        }

        Require(block, blockKind, seen, name, owner, "mac", "mac 02:08:20:ac:00:01");
        if (draft.PortsName is { } portsName && draft.Protocols == TransportProtocols.None && !seen.ContainsKey("protocols"))
        {
            Report(DiagnosticDescriptors.InvalidPort, portsName.Span, null, owner,
                "'ports' needs 'protocols'", "say which transports the ports are for, e.g. 'protocols tcp'");
        }
        if (kind != VnicKind.Vm && draft.Mode == ProcessingMode.Interrupt && draft.ModeToken is { } modeToken && draft.Bandwidth is { } bandwidth)
        {
            Report(DiagnosticDescriptors.BandwidthNotEnforced, modeToken.Span, null, owner, bandwidth);
        }
        return draft;
    }

    private void BindMac(VnicDraft draft, SyntaxToken token)
    {
        if (!MacAddress.TryParse(token.Text, out var mac))
        {
            Report(DiagnosticDescriptors.MalformedMac, token.Span, null, token.Text);
        }
        else if (mac.IsZero)
        {
            Report(DiagnosticDescriptors.MacNotAssignable, token.Span, null, mac, "it is all zeros");
        }
        else if (mac.IsGroup)
        {
            Report(DiagnosticDescriptors.MacNotAssignable, token.Span, null, mac,
                mac == MacAddress.Broadcast ? "it is the broadcast address" : "its group (multicast) bit is set (lowest bit of the first byte)");
        }
        else
        {
            draft.Macs.Add((mac, token));
        }
    }

    // ---- checks across one NIC's VNICs -------------------------------------------------------

    private void CheckNic(NicDefinition nic, List<VnicDraft> vnics)
    {
        if (vnics.Count == 0)
        {
            Report(DiagnosticDescriptors.NicUnused, nic.Location.Span, null, nic.Name);
            return;
        }

        var macs = new Dictionary<MacAddress, (VnicDraft Vnic, SyntaxToken Token)>();
        var ips = new Dictionary<(int Vlan, IpAddress Address), (VnicDraft Vnic, SyntaxToken Token)>();
        foreach (var vnic in vnics)
        {
            foreach (var (mac, token) in vnic.Macs)
            {
                if (macs.TryGetValue(mac, out var first))
                {
                    Report(DiagnosticDescriptors.DuplicateMac, token.Span, new[] { Location(first.Token.Span) }, mac, Describe(first.Vnic, vnic), nic.Name);
                }
                else
                {
                    macs.Add(mac, (vnic, token));
                }
            }
            foreach (var (prefix, token) in vnic.Ips)
            {
                var key = (vnic.Vlan, prefix.Address);
                if (ips.TryGetValue(key, out var first))
                {
                    Report(DiagnosticDescriptors.DuplicateIp, token.Span, new[] { Location(first.Token.Span) }, prefix.Address, Describe(first.Vnic, vnic), nic.Name,
                        vnic.Vlan == 0 ? "untagged" : $"in VLAN {vnic.Vlan}");
                }
                else
                {
                    ips.Add(key, (vnic, token));
                }
            }
        }

        var entries = vnics.Sum(v => Math.Max(1, v.Macs.Count));
        if (entries > nic.Model.ClassifierEntries)
        {
            Report(DiagnosticDescriptors.ClassifierFull, nic.Location.Span, null, nic.Name, entries, nic.Model.Name, nic.Model.ClassifierEntries);
        }

        CheckAllocations(nic, vnics, "inbound", v => v.Bandwidth, v => v.BandwidthToken, "bandwidth");
        CheckAllocations(nic, vnics, "outbound", v => v.OutboundBandwidth, v => v.OutboundToken, "outbound-bandwidth");
    }

    private void CheckAllocations(NicDefinition nic, List<VnicDraft> vnics, string direction, Func<VnicDraft, BitRate?> rate, Func<VnicDraft, SyntaxToken?> token, string property)
    {
        ulong total = 0;
        var related = new List<SourceLocation>();
        foreach (var vnic in vnics)
        {
            if (rate(vnic) is not { } r || token(vnic) is not { } t) continue;
            if (r > nic.Speed)
            {
                Report(DiagnosticDescriptors.AllocationExceedsLink, t.Span, null, $"{property} {r} of {vnic.Keyword} '{vnic.Name}'", nic.Speed, nic.Name);
            }
            total += r.BitsPerSecond;
            related.Add(Location(t.Span));
        }
        if (total > nic.Speed.BitsPerSecond)
        {
            Report(DiagnosticDescriptors.Oversubscribed, nic.Location.Span, related, direction, nic.Name, new BitRate(total), nic.Speed);
        }
    }

    private static string Describe(VnicDraft first, VnicDraft current) =>
        ReferenceEquals(first, current) ? $"{current.Keyword} '{current.Name}' itself" : $"{first.Keyword} '{first.Name}'";

    // ---- properties and values ---------------------------------------------------------------

    // Unknown (NB0002), duplicate (NB0004) and value-less (NB0001) properties are reported here;
    // the caller sees only properties worth binding.
    private PropertyRule? CheckProperty(PropertySyntax property, BlockKind block, string owner, Dictionary<string, PropertySyntax> seen)
    {
        var name = property.Name.Text;
        var rule = PropertyRules.Find(name, block);
        if (rule is null)
        {
            var elsewhere = PropertyRules.All.FirstOrDefault(r => r.Name == name);
            var extra = elsewhere is not null
                ? $"; '{name}' belongs in {DescribeBlocks(elsewhere.Blocks)}{(name == "mode" ? " (VMs are always interrupt-driven)" : "")}"
                : NameSuggestions.Hint(name, PropertyRules.NamesFor(block));
            Report(DiagnosticDescriptors.UnknownProperty, property.Name.Span, null, name, owner, extra);
            return null;
        }
        if (!rule.Repeatable && seen.TryGetValue(name, out var first))
        {
            Report(DiagnosticDescriptors.DuplicateProperty, property.Name.Span, new[] { Location(first.Name.Span) }, name, owner);
            return null;
        }
        seen[name] = property;
        if (property.Values.Count == 0)
        {
            Report(DiagnosticDescriptors.SyntaxError, property.Name.Span, null, $"'{name}' has no value", $"a value, e.g. '{rule.Example}'");
            return null;
        }
        return rule;
    }

    // NB0011, unless a misspelling of the property was already reported (NB0002 suggested it).
    private void Require(BlockSyntax block, BlockKind kind, Dictionary<string, PropertySyntax> seen, SyntaxToken name, string owner, string property, string example)
    {
        if (seen.ContainsKey(property)) return;
        var misspelt = block.Properties.Any(p => PropertyRules.Find(p.Name.Text, kind) is null
                                                 && NameSuggestions.Closest(p.Name.Text, PropertyRules.NamesFor(kind)) == property);
        if (!misspelt) Report(DiagnosticDescriptors.MissingProperty, name.Span, null, owner, property, example);
    }

    private static string DescribeBlocks(BlockKind blocks)
    {
        var names = new List<string>();
        if ((blocks & BlockKind.Host) != 0) names.Add("host");
        if ((blocks & BlockKind.Nic) != 0) names.Add("nic");
        if ((blocks & BlockKind.Vm) != 0) names.Add("vm");
        if ((blocks & BlockKind.Container) != 0) names.Add("container");
        if ((blocks & BlockKind.Service) != 0) names.Add("service");
        return string.Join(", ", names) + " blocks";
    }

    // The value of a one-value property; extra words are reported and ignored.
    private SyntaxToken Single(PropertySyntax property)
    {
        if (property.Values.Count > 1)
        {
            var extra = property.Values[1].Span.Union(property.Values[property.Values.Count - 1].Span);
            Report(DiagnosticDescriptors.InvalidValue, extra, null, property.Values[1].Text, property.Name.Text, $"'{property.Name.Text}' takes one value; remove it");
        }
        return property.Values[0];
    }

    private int? Integer(SyntaxToken token, string what)
    {
        if (int.TryParse(token.Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)) return value;
        Report(DiagnosticDescriptors.MalformedNumber, token.Span, null, token.Text, what, "write a whole number such as 4");
        return null;
    }

    private int? Count(SyntaxToken token, string what)
    {
        if (Integer(token, what) is not { } value) return null;
        if (value > 0) return value;
        Report(DiagnosticDescriptors.MalformedNumber, token.Span, null, token.Text, what, "it must be positive");
        return null;
    }

    private BitRate? Rate(SyntaxToken token, string what)
    {
        if (BitRate.TryParse(token.Text, out var rate, out var error)) return rate;
        Report(DiagnosticDescriptors.MalformedNumber, token.Span, null, token.Text, what, error);
        return null;
    }

    private string? Keyword(SyntaxToken token, string property, string what, string[] allowed)
    {
        if (Array.IndexOf(allowed, token.Text) >= 0) return token.Text;
        Report(DiagnosticDescriptors.InvalidValue, token.Span, null, token.Text, property,
            $"'{property}' takes {what}: {string.Join(" or ", allowed.Select(a => "'" + a + "'"))}{NameSuggestions.Hint(token.Text, allowed)}");
        return null;
    }

    private static int NearestRingSize(int size)
    {
        var best = 16;
        for (var candidate = 16; candidate <= 65536; candidate <<= 1)
        {
            if (Math.Abs((long)candidate - size) < Math.Abs((long)best - size)) best = candidate;
        }
        return best;
    }

    private SourceLocation Location(TextSpan span) => new(_path, span);

    private void Report(DiagnosticDescriptor descriptor, TextSpan span, IEnumerable<SourceLocation>? related, params object[] args) =>
        _diagnostics.Add(Diagnostic.Create(descriptor, Location(span), related, args));

    // A VNIC while it is being bound: the definition's fields plus the tokens later checks point at.
    private sealed class VnicDraft(string keyword, VnicKind kind, string name, int index, SourceLocation location)
    {
        public string Keyword { get; } = keyword;
        public string Name { get; } = name;
        public SyntaxToken? NicToken { get; init; }
        public List<(MacAddress Mac, SyntaxToken Token)> Macs { get; } = new();
        public List<(IpPrefix Prefix, SyntaxToken Token)> Ips { get; } = new();
        public bool Dhcp { get; set; }
        public int Vlan { get; set; }
        public TransportProtocols Protocols { get; set; }
        public List<int> Ports { get; } = new();
        public SyntaxToken? PortsName { get; set; }
        public BitRate? Bandwidth { get; set; }
        public SyntaxToken? BandwidthToken { get; set; }
        public BitRate? OutboundBandwidth { get; set; }
        public SyntaxToken? OutboundToken { get; set; }
        public ProcessingMode? Mode { get; set; }
        public SyntaxToken? ModeToken { get; set; }
        public int? Cpu { get; set; }
        public SyntaxToken? CpuToken { get; set; }
        public RingPolicy Ring { get; set; }
        public SyntaxToken? RingToken { get; set; }
        public PacketTransform Transform { get; set; }

        // Defaults: VMs are interrupt-driven; a destination polls when it has an inbound
        // allocation to enforce, and takes interrupts otherwise.
        public VnicDefinition ToDefinition() => new(
            Name, kind, NicToken!.Text,
            Macs.Select(m => m.Mac).ToEquatableArray(),
            Ips.Select(i => i.Prefix).ToEquatableArray(),
            Dhcp, Vlan, Protocols, Ports.ToEquatableArray(), Bandwidth, OutboundBandwidth,
            kind == VnicKind.Vm ? ProcessingMode.Interrupt : Mode ?? (Bandwidth is null ? ProcessingMode.Interrupt : ProcessingMode.Polling),
            Cpu is { } c && c >= 0 ? c : null, Ring, Transform, index, location,
            RingToken is { } r ? new SourceLocation(location.Path, r.Span) : null);
    }
}
