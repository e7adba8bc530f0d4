using NicBypass.Dsl.Model;
using NicBypass.Dsl.Syntax;
using NicBypass.Dsl.Text;
using NicBypass.Dsl.Values;

namespace NicBypass.Dsl.Binding;

/// <summary>A VNIC while it is being bound: the definition's fields plus the tokens later checks point at.</summary>
internal sealed class VnicDraft(string keyword, VnicKind kind, string name, int index, SourceLocation location)
{
    public string Keyword { get; } = keyword;
    public string Name { get; } = name;

    /// <summary>How messages name it: <c>container 'web'</c>.</summary>
    public string Owner => $"{Keyword} '{Name}'";

    public SyntaxToken? NicToken { get; init; }
    public List<(MacAddress Mac, SyntaxToken Token)> Macs { get; } = new();
    public List<(IpPrefix Prefix, SyntaxToken Token)> Ips { get; } = new();

    private bool _refusedIpv4, _refusedIpv6;

    /// <summary>An <c>ip</c> of that family was refused (reported already): what needs one says nothing more.</summary>
    public bool RefusedIp(bool v6) => v6 ? _refusedIpv6 : _refusedIpv4;

    public void RefuseIp(bool v6)
    {
        if (v6) _refusedIpv6 = true;
        else _refusedIpv4 = true;
    }
    public bool Dhcp { get; set; }
    public List<IpAddress> Groups { get; } = new();

    /// <summary>The routers it sends off-link traffic to, one per family, with where each was written.</summary>
    public List<(IpAddress Gateway, SyntaxToken Token)> Gateways { get; } = new();
    public int Vlan { get; set; }
    public TransportProtocols Protocols { get; set; }
    public List<int> Ports { get; } = new();


    /// <summary>Values listed so far per kind (valid or not), for NB0037's bounds (reported once, at the first past the bound).</summary>
    public Dictionary<string, int> ValuesSeen { get; } = new(StringComparer.Ordinal);
    public SyntaxToken? PortsName { get; set; }
    public BitRate? Bandwidth { get; set; }
    public SyntaxToken? BandwidthToken { get; set; }
    public BitRate? OutboundBandwidth { get; set; }
    public SyntaxToken? OutboundToken { get; set; }
    public ProcessingMode? Mode { get; set; }
    public SyntaxToken? ModeToken { get; set; }
    public int? Cpu { get; set; }
    public int CpuCount { get; set; } = 1;
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
        RingToken is { } r ? new SourceLocation(location.Path, r.Span) : null, CpuCount, Groups.ToEquatableArray(),
        Gateways.Select(g => g.Gateway).ToEquatableArray());
}
