using NicBypass.Dsl.Diagnostics;
using NicBypass.Dsl.Model;
using NicBypass.Dsl.Syntax;
using NicBypass.Dsl.Values;

namespace NicBypass.Dsl.Binding;

/// <summary>
/// Binds a <c>vm</c>, <c>container</c> or <c>service</c> block into a <see cref="VnicDraft"/>.
/// Each property of the language's table (<see cref="PropertyRules"/>) is bound by its entry in
/// <see cref="Binders"/>; then the checks within the block (NB0011, NB0019, NB0021) run. Checks
/// across VNICs wait for <see cref="NicChecks"/>.
/// </summary>
internal sealed class VnicBinder(BindingContext context, ValueReader values, PropertyChecks properties)
{
    private ValueReader Values => values;

    /// <summary>How each VNIC property is bound, keyed by the property's rule name.</summary>
    internal static readonly IReadOnlyDictionary<string, Action<VnicBinder, VnicDraft, PropertySyntax>> Binders =
        new Dictionary<string, Action<VnicBinder, VnicDraft, PropertySyntax>>(StringComparer.Ordinal)
        {
            ["mac"] = (b, d, p) => { foreach (var token in p.Values) if (b.Within(d, token, MaxValues, "MACs")) b.BindMac(d, token); else break; },
            ["ip"] = (b, d, p) => { foreach (var token in p.Values) if (b.Within(d, token, MaxValues, "addresses")) b.BindIp(d, token); else break; },
            ["multicast"] = (b, d, p) => { foreach (var token in p.Values) if (b.Within(d, token, MaxValues, "multicast groups")) b.BindGroup(d, token); else break; },
            ["gateway"] = (b, d, p) => { foreach (var token in p.Values) if (b.Within(d, token, MaxValues, "gateways")) b.BindGateway(d, token); else break; },
            ["vlan"] = (b, d, p) => b.BindVlan(d, b.Values.Single(p)),
            ["bandwidth"] = (b, d, p) => { d.BandwidthToken = b.Values.Single(p); d.Bandwidth = b.Values.Rate(d.BandwidthToken, "bandwidth"); },
            ["outbound-bandwidth"] = (b, d, p) => { d.OutboundToken = b.Values.Single(p); d.OutboundBandwidth = b.Values.Rate(d.OutboundToken, "outbound-bandwidth"); },
            ["cpu"] = (b, d, p) => { d.CpuToken = b.Values.Single(p); (d.Cpu, d.CpuCount) = b.Values.CpuRange(d.CpuToken, d.Keyword); },
            ["ring"] = (b, d, p) =>
            {
                if (b.Values.Keyword(b.Values.Single(p), "ring", "a ring policy", new[] { "hardware", "any" }) is not { } ring) return;
                d.Ring = ring == "hardware" ? RingPolicy.Hardware : RingPolicy.Any;
                d.RingToken = p.Values[0];
            },
            ["transform"] = (b, d, p) =>
            {
                if (b.Values.Keyword(b.Values.Single(p), "transform", "a transform", new[] { "none", "reverse-bits" }) is not { } transform) return;
                d.Transform = transform == "reverse-bits" ? PacketTransform.ReverseBits : PacketTransform.None;
            },
            ["mode"] = (b, d, p) =>
            {
                if (b.Values.Keyword(b.Values.Single(p), "mode", "a processing mode", new[] { "polling", "interrupt" }) is not { } mode) return;
                d.Mode = mode == "polling" ? ProcessingMode.Polling : ProcessingMode.Interrupt;
                d.ModeToken = p.Values[0];
            },
            ["protocols"] = (b, d, p) =>
            {
                foreach (var token in p.Values)
                {
                    var protocol = b.Values.Keyword(token, "protocols", "a transport protocol", new[] { "tcp", "udp" });
                    var flag = protocol switch { "tcp" => TransportProtocols.Tcp, "udp" => TransportProtocols.Udp, _ => TransportProtocols.None };
                    if ((d.Protocols & flag) != 0) b.ListedTwice(token, "protocols"); // as a port listed twice is
                    d.Protocols |= flag;
                }
            },
            ["ports"] = (b, d, p) => b.BindPorts(d, p),
        };

    /// <summary>The most MACs, addresses or multicast groups one VNIC lists (NB0037).</summary>
    public const int MaxValues = 256;

    /// <summary>The most ports one VNIC lists (NB0037).</summary>
    public const int MaxPorts = 1024;

    // NB0037, once per VNIC and kind: past `limit` values (valid or not: a bad one is a
    // diagnostic of its own, so they count too) the rest are left out.
    private bool Within(VnicDraft draft, SyntaxToken token, int limit, string what)
    {
        var count = draft.ValuesSeen.TryGetValue(what, out var seen) ? seen : 0;
        draft.ValuesSeen[what] = count + 1;
        if (count < limit) return true;
        if (count == limit) context.Report(DiagnosticDescriptors.TooManyDeclarations, token.Span, null, draft.Owner, limit, what);
        return false;
    }

    public VnicDraft Bind(BlockSyntax block, string keyword, SyntaxToken name, int index)
    {
        var kind = keyword switch { "vm" => VnicKind.Vm, "container" => VnicKind.Container, _ => VnicKind.Service };
        var blockKind = kind switch { VnicKind.Vm => BlockKind.Vm, VnicKind.Container => BlockKind.Container, _ => BlockKind.Service };
        var draft = new VnicDraft(keyword, kind, name.Text, index, context.Location(name.Span)) { NicToken = block.Header[3] };
        var owner = draft.Owner;
        var seen = new Dictionary<string, PropertySyntax>(StringComparer.Ordinal);
        foreach (var property in block.Properties)
        {
            if (properties.Check(property, blockKind, owner, seen) is not { } rule) continue;
            Binders[rule.Name](this, draft, property);
        }

        properties.Require(block, blockKind, seen, name, owner, "mac", "mac 02:08:20:ac:00:01");
        if (draft.PortsName is { } portsName && draft.Protocols == TransportProtocols.None && !seen.ContainsKey("protocols"))
        {
            context.Report(DiagnosticDescriptors.InvalidPort, portsName.Span, null, owner,
                "'ports' needs 'protocols'", "say which transports the ports are for, e.g. 'protocols tcp'");
        }
        CheckGateways(draft);
        if (kind != VnicKind.Vm && draft.Mode == ProcessingMode.Interrupt && draft.ModeToken is { } modeToken && draft.Bandwidth is { } bandwidth)
        {
            context.Report(DiagnosticDescriptors.BandwidthNotEnforced, modeToken.Span, null, owner, bandwidth);
        }
        return draft;
    }

    // A value a list holds once, given again: an error, as a port listed twice is (NB0021).
    private void ListedTwice(SyntaxToken token, string property) =>
        context.Report(DiagnosticDescriptors.InvalidValue, token.Span, null, token.Text, property, "it is listed twice; remove one");

    private void BindMac(VnicDraft draft, SyntaxToken token)
    {
        if (!MacAddress.TryParse(token.Text, out var mac))
        {
            context.Report(DiagnosticDescriptors.MalformedMac, token.Span, null, token.Text);
        }
        else if (mac.IsZero)
        {
            context.Report(DiagnosticDescriptors.MacNotAssignable, token.Span, null, mac, "it is all zeros");
        }
        else if (mac.IsGroup)
        {
            context.Report(DiagnosticDescriptors.MacNotAssignable, token.Span, null, mac,
                mac == MacAddress.Broadcast ? "it is the broadcast address" : "its group (multicast) bit is set (lowest bit of the first byte)");
        }
        else
        {
            draft.Macs.Add((mac, token));
        }
    }

    private void BindIp(VnicDraft draft, SyntaxToken token)
    {
        const string Fix = "write an IPv4 (192.168.10.11/24) or IPv6 (fd00::11/64) address, or 'dhcp'";
        if (token.Text == "dhcp")
        {
            if (draft.Dhcp) ListedTwice(token, "ip");
            draft.Dhcp = true;
        }
        else if (IpPrefix.TryParse(token.Text, out var prefix, out var error))
        {
            var why = prefix.Address.NotAHostAddress
                // The last address of its own IPv4 subnet is that subnet's broadcast: the stack takes
                // what is sent to it as a broadcast (and drops it from a peer as a smurf would).
                ?? (!prefix.Address.IsV6 && prefix.PrefixLength <= 30 && (prefix.Address.Low & HostMask(prefix.PrefixLength)) == HostMask(prefix.PrefixLength)
                    ? $"the broadcast address of its own subnet /{prefix.PrefixLength}" : null);
            if (why is not null)
            {
                context.Report(DiagnosticDescriptors.NotAHostAddress, token.Span, null, draft.Owner, token.Text, why);
                draft.RefuseIp(prefix.Address.IsV6);
            }
            else draft.Ips.Add((prefix, token));
        }
        else if (string.Equals(token.Text, "dhcp", StringComparison.OrdinalIgnoreCase))
        {
            context.Report(DiagnosticDescriptors.MalformedIp, token.Span, null, token.Text, "did you mean 'dhcp'? (lower case)", Fix);
            draft.RefuseIp(v6: false); // dhcp brings both families
            draft.RefuseIp(v6: true);
        }
        else
        {
            context.Report(DiagnosticDescriptors.MalformedIp, token.Span, null, token.Text, error, Fix);
            // Which family it was meant to be: IPv6 has a colon before any dot ('10.0.0.5/24:80' is IPv4 with junk).
            var colon = token.Text.IndexOf(':');
            var dot = token.Text.IndexOf('.');
            draft.RefuseIp(v6: colon >= 0 && (dot < 0 || colon < dot));
        }
    }

    private void BindGroup(VnicDraft draft, SyntaxToken token)
    {
        if (!IpAddress.TryParse(token.Text, out var group, out var error))
        {
            context.Report(DiagnosticDescriptors.MalformedIp, token.Span, null, token.Text, token.Text.Contains('/') ? "a group is one address, without a prefix length" : error,
                "write a group address, e.g. 224.0.0.251 or ff02::fb");
        }
        else if (!group.IsMulticast)
        {
            context.Report(DiagnosticDescriptors.NotAMulticastGroup, token.Span, null, draft.Owner, token.Text,
                group.IsV6 ? "IPv6 groups are in ff00::/8, e.g. ff02::fb" : "IPv4 groups are in 224.0.0.0/4, e.g. 224.0.0.251");
        }
        else if (draft.Groups.Contains(group))
        {
            ListedTwice(token, "multicast");
        }
        else
        {
            draft.Groups.Add(group);
        }
    }

    private void BindGateway(VnicDraft draft, SyntaxToken token)
    {
        if (!IpAddress.TryParse(token.Text, out var gateway, out var error))
        {
            context.Report(DiagnosticDescriptors.MalformedIp, token.Span, null, token.Text, token.Text.Contains('/') ? "a gateway is one address, without a prefix length" : error,
                "write the router's address, e.g. 192.168.10.1 or fd00::1");
        }
        else if (draft.Gateways.FirstOrDefault(g => g.Gateway.IsV6 == gateway.IsV6) is { Token: not null } other)
        {
            context.Report(DiagnosticDescriptors.GatewayUnreachable, token.Span, null, draft.Owner, token.Text,
                $"it already has the {(gateway.IsV6 ? "IPv6" : "IPv4")} gateway {other.Gateway}; one router per family");
        }
        else
        {
            draft.Gateways.Add((gateway, token));
        }
    }

    // Each gateway must be on-link: inside one of the VNIC's own subnets (ip ADDRESS/LENGTH), not
    // one of its own addresses, not a group address.
    private void CheckGateways(VnicDraft draft)
    {
        foreach (var (gateway, token) in draft.Gateways.ToList())
        {
            var family = gateway.IsV6 ? "IPv6" : "IPv4";
            string? problem = null;
            if (gateway.IsMulticast) problem = "a multicast group cannot route";
            else if (gateway.NotAHostAddress is { } why) problem = $"it is {why}, not a router's";
            else if (draft.Ips.Any(i => i.Prefix.Address == gateway)) problem = "that is its own address";
            else if (draft.Ips.FirstOrDefault(i => EndOfSubnet(i.Prefix, gateway)) is { Token: not null } subnet)
            {
                // The first and last addresses of an IPv4 subnet name the subnet and its broadcast, no router.
                problem = $"it is the {((gateway.Low & HostMask(subnet.Prefix.PrefixLength)) == 0 ? "network" : "broadcast")} address of its subnet {subnet.Prefix.Address}/{subnet.Prefix.PrefixLength}, not a router's";
            }
            else if (gateway.IsLinkLocal && (draft.Ips.Any(i => i.Prefix.Address.IsV6) || draft.Dhcp))
            {
                // An IPv6 router is usually known by its link-local address, which is on the link
                // whatever the VNIC's prefixes are (RFC 4861 4.2's source of advertisements).
            }
            else if (!draft.Ips.Any(i => i.Prefix.Address.IsV6 == gateway.IsV6))
            {
                // Its address of that family was refused, and said so: no follow-on saying it has
                // none (the gateway is left out all the same: the file has an error).
                if (!draft.Dhcp && draft.RefusedIp(gateway.IsV6))
                {
                    draft.Gateways.RemoveAll(g => g.Token == token);
                    continue;
                }
                problem = !draft.Dhcp ? $"it has no {family} address"
                    : gateway.IsV6 ? "its IPv6 addresses come from routers' advertisements (SLAAC), which name the router; a link-local gateway (fe80::1) may still be given"
                    : "its IPv4 address is learned by DHCP, which brings its own router";
            }
            else if (!draft.Ips.Any(i => i.Prefix.Contains(gateway)))
            {
                var own = draft.Ips.First(i => i.Prefix.Address.IsV6 == gateway.IsV6).Prefix;
                // The longest prefix holding both (the usual /24 or /64 when that does): a fix that works.
                var shared = SharedPrefixLength(own.Address, gateway);
                var suggested = Math.Min(gateway.IsV6 ? 64 : 24, shared);
                var wide = gateway.IsV6 ? 48 : 8;
                problem = own.PrefixLength != own.Address.MaxPrefixLength
                    ? $"it is not on any of its subnets ({string.Join(", ", draft.Ips.Where(i => i.Prefix.Address.IsV6 == gateway.IsV6).Select(i => i.Prefix.Address + "/" + i.Prefix.PrefixLength))})"
                    : shared >= wide
                        ? $"it is not on any of its subnets: 'ip {own.Address}' is a single address; give it a prefix length that holds the gateway, e.g. 'ip {own.Address}/{suggested}'"
                        : $"it is not on any of its subnets: 'ip {own.Address}' is a single address, and no subnet narrower than /{wide} holds both it and the gateway: check the gateway's address";
            }
            if (problem is null) continue;
            context.Report(DiagnosticDescriptors.GatewayUnreachable, token.Span, null, draft.Owner, token.Text, problem);
            draft.Gateways.RemoveAll(g => g.Token == token);
        }
    }

    // The host part of an IPv4 address under a prefix of `length` bits.
    private static ulong HostMask(int length) => (1UL << (32 - length)) - 1;

    // True when `address` is the first (network) or last (broadcast) address of IPv4 subnet
    // `prefix`, /30 or wider (a /31 or /32 has no such addresses to spare, RFC 3021).
    private static bool EndOfSubnet(IpPrefix prefix, IpAddress address)
    {
        if (prefix.Address.IsV6 || address.IsV6 || prefix.PrefixLength > 30 || !prefix.Contains(address)) return false;
        var host = address.Low & HostMask(prefix.PrefixLength);
        return host == 0 || host == HostMask(prefix.PrefixLength);
    }

    // How many leading bits two addresses of one family share.
    private static int SharedPrefixLength(IpAddress a, IpAddress b)
    {
        if (!a.IsV6) return LeadingZeros((a.Low ^ b.Low) << 32, 32);
        var high = a.High ^ b.High;
        return high != 0 ? LeadingZeros(high, 64) : 64 + LeadingZeros(a.Low ^ b.Low, 64);
    }

    private static int LeadingZeros(ulong value, int width)
    {
        var n = 0;
        for (var bit = 63; bit >= 64 - width && (value >> bit & 1) == 0; bit--) n++;
        return n;
    }

    private void BindVlan(VnicDraft draft, SyntaxToken token)
    {
        if (values.Integer(token, "vlan") is not { } vlan) return;
        if (vlan is < 1 or > 4094) context.Report(DiagnosticDescriptors.VlanOutOfRange, token.Span, null, vlan);
        else draft.Vlan = vlan;
    }

    private void BindPorts(VnicDraft draft, PropertySyntax property)
    {
        draft.PortsName = property.Name;
        foreach (var token in property.Values)
        {
            if (!Within(draft, token, MaxPorts, "ports")) break;
            if (values.Integer(token, "port") is not { } port) continue;
            if (port is < 1 or > 65535)
            {
                context.Report(DiagnosticDescriptors.InvalidPort, token.Span, null, draft.Owner, $"port {port} is outside 1..65535", "use a port in that range");
            }
            else if (draft.Ports.Contains(port))
            {
                context.Report(DiagnosticDescriptors.InvalidPort, token.Span, null, draft.Owner, $"port {port} is listed twice", "remove one");
            }
            else
            {
                draft.Ports.Add(port);
            }
        }
    }
}
