using NicBypass.Dsl.Diagnostics;
using NicBypass.Dsl.Model;
using NicBypass.Dsl.Syntax;
using NicBypass.Dsl.Text;
using NicBypass.Dsl.Values;

namespace NicBypass.Dsl.Binding;

/// <summary>
/// Binds a <c>flow NAME on VNIC { … }</c> block (flowadm's add-flow): its selectors
/// (<c>transport</c>, <c>local-port</c>, <c>remote-ip</c>, <c>remote-port</c>), <c>bandwidth</c>
/// (0 blocks it) and <c>priority</c>. The checks across flows and VNICs (NB0033, NB0034) run in
/// <see cref="Check"/> once every VNIC is bound.
/// </summary>
internal sealed class FlowBinder(BindingContext context, ValueReader values, PropertyChecks properties)
{
    /// <summary>The flow; <paramref name="whole"/> is false when one of its fields was in error (it is then checked for its VNIC only, NB0033).</summary>
    public FlowDefinition Bind(BlockSyntax block, SyntaxToken name, int index, out bool whole)
    {
        var owner = $"flow '{name.Text}'";
        var errors = context.Errors;
        var seen = new Dictionary<string, PropertySyntax>(StringComparer.Ordinal);
        var transport = TransportProtocols.None;
        int? localPort = null, remotePort = null;
        IpPrefix? remoteIp = null;
        BitRate? bandwidth = null;
        var priority = FlowPriority.Medium;
        foreach (var property in block.Properties)
        {
            if (properties.Check(property, BlockKind.Flow, owner, seen) is not { } rule) continue;
            var token = values.Single(property);
            switch (rule.Name)
            {
                case "transport":
                    transport = values.Keyword(token, "transport", "a transport protocol", new[] { "tcp", "udp" }) switch
                    {
                        "tcp" => TransportProtocols.Tcp,
                        "udp" => TransportProtocols.Udp,
                        _ => transport,
                    };
                    break;
                case "local-port":
                    localPort = Port(token, owner);
                    break;
                case "remote-port":
                    remotePort = Port(token, owner);
                    break;
                case "remote-ip":
                    if (IpPrefix.TryParse(token.Text, out var prefix, out var error)) remoteIp = prefix;
                    else context.Report(DiagnosticDescriptors.MalformedIp, token.Span, null, token.Text, error, "write an address or prefix, e.g. 10.0.0.0/8 or fd00::/64");
                    break;
                case "bandwidth":
                    // 0 is a flow's way to say "block it" (Crossbow's answer to a flood) — with a unit
                    // too ("0M" was refused as not positive; found by a drive).
                    bandwidth = IsZero(token.Text) ? new BitRate(0) : values.Rate(token, "bandwidth");
                    break;
                case "priority":
                    priority = values.Keyword(token, "priority", "a priority", new[] { "low", "medium", "high" }) switch
                    {
                        "low" => FlowPriority.Low,
                        "high" => FlowPriority.High,
                        _ => FlowPriority.Medium,
                    };
                    break;
            }
        }
        if (transport == TransportProtocols.None)
        {
            foreach (var field in new[] { "local-port", "remote-port" })
            {
                if (seen.TryGetValue(field, out var property))
                {
                    context.Report(DiagnosticDescriptors.FlowFieldWithoutTransport, property.Name.Span, null, owner, field);
                }
            }
        }
        // A flow with a field in error is left out of the overlap check and the host: without that
        // field it would select more than it says, and every later flow on its VNIC would be
        // reported as overlapping it (NB0034). Its VNIC is still checked.
        whole = context.Errors == errors;
        return new FlowDefinition(name.Text, block.Header[3].Text, transport, localPort, remoteIp, remotePort, bandwidth, priority, index,
            context.Location(name.Span));
    }

    /// <summary>NB0033 (a flow on no declared VNIC), NB0040 (a flow its VNIC's port check starves) and NB0034 (two flows a frame could match both of).</summary>
    public void Check(IReadOnlyList<(FlowDefinition Flow, SyntaxToken Target, bool Whole)> flows, IReadOnlyList<VnicDraft> vnics, string host)
    {
        var names = vnics.Select(v => v.Name).ToList();
        foreach (var (flow, target, whole) in flows)
        {
            if (vnics.FirstOrDefault(v => v.Name == target.Text) is not { } vnic)
            {
                context.Report(DiagnosticDescriptors.FlowOnUnknownVnic, target.Span, null, flow.Name, target.Text, host, NameSuggestions.Hint(target.Text, names));
            }
            else if (whole && Unreachable(flow, vnic) is { } reason)
            {
                context.Report(DiagnosticDescriptors.DeadFlow, flow.Location.Span, vnic.PortsName is { } ports ? new[] { context.Location(ports.Span) } : null,
                    flow.Name, vnic.Owner, reason);
            }
        }
        // Only flows on one VNIC can overlap: compare within each VNIC's flows.
        foreach (var group in flows.Where(f => f.Whole).GroupBy(f => f.Flow.Vnic, StringComparer.Ordinal))
        {
            var same = group.ToList();
            for (var i = 0; i < same.Count; i++)
            {
                for (var j = 0; j < i; j++)
                {
                    if (same[i].Flow.Overlaps(same[j].Flow))
                    {
                        context.Report(DiagnosticDescriptors.FlowsOverlap, same[i].Flow.Location.Span, new[] { same[j].Flow.Location },
                            same[i].Flow.Name, same[j].Flow.Name, same[i].Flow.Vnic);
                        break;
                    }
                }
            }
        }
    }

    // Why no frame of `flow` gets past `vnic`'s port check (docs/dsl.md § NIC models: with `ports`,
    // a TCP or UDP packet must use a declared transport and a declared or ephemeral port); null if
    // some can. VMs and VNICs without `ports` have no port check.
    private static string? Unreachable(FlowDefinition flow, VnicDraft vnic)
    {
        if (vnic.Keyword == "vm" || vnic.Ports.Count == 0 || flow.Transport == TransportProtocols.None) return null;
        var transport = flow.Transport == TransportProtocols.Tcp ? "tcp" : "udp";
        if ((vnic.Protocols & flow.Transport) == 0)
        {
            var served = vnic.Protocols == TransportProtocols.None ? "none" : string.Join(" ", new[] { TransportProtocols.Tcp, TransportProtocols.Udp }
                .Where(p => (vnic.Protocols & p) != 0).Select(p => p == TransportProtocols.Tcp ? "tcp" : "udp"));
            return $"'transport {transport}' is not a transport it serves (protocols {served})";
        }
        if (flow.LocalPort is { } port && port < Lowering.LookupCheck.FirstEphemeralPort && !vnic.Ports.Contains(port))
        {
            return $"'local-port {port}' is neither a port it declares (ports {string.Join(" ", vnic.Ports)}) nor an ephemeral one (49152–65535)";
        }
        return null;
    }

    private int? Port(SyntaxToken token, string owner)
    {
        if (values.Integer(token, "port") is not { } port) return null;
        if (port is >= 1 and <= 65535) return port;
        context.Report(DiagnosticDescriptors.InvalidPort, token.Span, null, owner, $"port {port} is outside 1..65535", "use a port in that range");
        return null;
    }

    // "0", or a zero with a rate's unit ("0M", "0.0Gbps").
    private static bool IsZero(string text)
    {
        // Zeros, then optionally '.' and more zeros: "0", "00", "0.0" — not ".", "0." or ".M" (found by review).
        var digits = 0;
        while (digits < text.Length && text[digits] == '0') digits++;
        if (digits == 0) return false;
        if (digits < text.Length && text[digits] == '.')
        {
            var fraction = ++digits;
            while (digits < text.Length && text[digits] == '0') digits++;
            if (digits == fraction) return false;
        }
        return digits == text.Length || BitRate.TryParse("1" + text.Substring(digits), out _, out _);
    }
}
