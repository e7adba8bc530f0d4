using NicBypass.Dsl.Text;
using NicBypass.Dsl.Values;

namespace NicBypass.Dsl.Model;

/// <summary>
/// A checked <c>flow</c> (flowadm's add-flow, docs/architecture.md § Classification as advertised): part of one VNIC's inbound traffic,
/// selected by transport, local port, remote address and remote port (each optional), with its
/// own counters, bandwidth and priority.
/// </summary>
/// <param name="Transport">The transport it selects, or <see cref="TransportProtocols.None"/> for any.</param>
/// <param name="Bandwidth">Its allocation; zero blocks it; null: no limit of its own.</param>
/// <param name="DeclarationIndex">Position among the host's flows: a frame belongs to the first flow it matches.</param>
public sealed record FlowDefinition(
    string Name,
    string Vnic,
    TransportProtocols Transport,
    int? LocalPort,
    IpPrefix? RemoteIp,
    int? RemotePort,
    BitRate? Bandwidth,
    FlowPriority Priority,
    int DeclarationIndex,
    SourceLocation Location)
{
    /// <summary><c>bandwidth 0</c>: every frame of the flow is dropped.</summary>
    public bool Blocked => Bandwidth is { BitsPerSecond: 0 };

    /// <summary>True when it selects on the frame's destination only (transport, local port): what a classifier matching ports can drop for it.</summary>
    public bool DestinationOnly => RemoteIp is null && RemotePort is null;

    /// <summary>What it selects, in the language's words: <c>tcp local-port 80 remote-ip 10.0.0.0/8</c>, or <c>all traffic</c>.</summary>
    public string Selector
    {
        get
        {
            var parts = new List<string>();
            if (Transport != TransportProtocols.None) parts.Add(Transport == TransportProtocols.Tcp ? "tcp" : "udp");
            if (LocalPort is { } local) parts.Add("local-port " + local);
            if (RemoteIp is { } remote) parts.Add("remote-ip " + remote);
            if (RemotePort is { } port) parts.Add("remote-port " + port);
            return parts.Count == 0 ? "all traffic" : string.Join(" ", parts);
        }
    }

    /// <summary>True when a frame could match both flows (each field absent in one of them, or overlapping).</summary>
    public bool Overlaps(FlowDefinition other) =>
        Vnic == other.Vnic
        && (Transport == TransportProtocols.None || other.Transport == TransportProtocols.None || (Transport & other.Transport) != 0)
        && (LocalPort is null || other.LocalPort is null || LocalPort == other.LocalPort)
        && (RemotePort is null || other.RemotePort is null || RemotePort == other.RemotePort)
        && (RemoteIp is not { } a || other.RemoteIp is not { } b || a.Overlaps(b));

    public override string ToString() => $"flow '{Name}'";
}
