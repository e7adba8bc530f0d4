using System.Buffers.Binary;
using NicBypass.Runtime.Accounting;
using NicBypass.Runtime.Packets;
using NicBypass.Runtime.Stacks;

namespace NicBypass.Runtime.Classification;

/// <summary>
/// A flow on a VNIC (docs/architecture.md § Classification as advertised): its selector, its own counters (received, delivered,
/// delivered bytes, drops by reason) and its allocation. A frame belongs to a VNIC's first flow
/// it matches (the language refuses overlapping flows). A blocked flow (<c>bandwidth 0</c>) whose
/// fields the hardware classifier can match (simnic-100g: transport and local port) is dropped
/// by the hardware at no processor cost; otherwise the VNIC drops it in software.
/// </summary>
public sealed class Flow
{
    private readonly byte _protocol;
    private readonly UInt128 _remote;
    private readonly UInt128 _remoteMask;
    private readonly bool _remoteV6;
    private readonly bool _checkRemote;

    internal Flow(FlowSettings settings, string vnic)
    {
        Settings = settings;
        Vnic = vnic;
        _protocol = settings.Transport switch
        {
            StackProtocols.Tcp => IpProtocol.Tcp,
            StackProtocols.Udp => IpProtocol.Udp,
            StackProtocols.None => 0,
            _ => throw new ArgumentException($"flow '{settings.Name}': one transport, TCP or UDP, not {settings.Transport}", nameof(settings)),
        };
        if ((settings.LocalPort is not null || settings.RemotePort is not null) && _protocol == 0)
        {
            throw new ArgumentException($"flow '{settings.Name}': a port needs a transport", nameof(settings));
        }
        if (settings.RemoteIp is { } remote)
        {
            var address = NetworkAddress.From(remote);
            var width = address.IsV6 ? 128 : 32;
            if (settings.RemotePrefixLength < 0 || settings.RemotePrefixLength > width) throw new ArgumentOutOfRangeException(nameof(settings), $"flow '{settings.Name}': prefix length {settings.RemotePrefixLength}");
            _remoteV6 = address.IsV6;
            _remoteMask = settings.RemotePrefixLength == 0 ? UInt128.Zero : (UInt128.MaxValue << (128 - settings.RemotePrefixLength)) >> (128 - width);
            _remote = address.Value & _remoteMask;
            _checkRemote = true;
        }
    }

    public string Name => Settings.Name;

    /// <summary>The VNIC whose traffic it selects from.</summary>
    public string Vnic { get; }

    public FlowSettings Settings { get; }

    /// <summary>Received (selected), delivered, delivered bytes, drops (<c>blocked</c>, <c>bandwidth</c>, and any later drop of its frames).</summary>
    public TrafficCounters Counters { get; } = new();

    /// <summary>Its allocation: its frames wait in its queue until there is credit for them; null without one.</summary>
    internal Virtualization.BandwidthLimiter? Shaper { get; set; }

    /// <summary>Frames of it waiting in its own queue now (for room behind its VNIC, or for its allocation).</summary>
    public int Queued => Queue?.Count ?? 0;

    /// <summary>Its own queue, once its VNIC has it.</summary>
    internal Virtualization.FlowQueue? Queue { get; set; }

    /// <summary>True when the frame (layer-2 header <paramref name="header"/>) belongs to this flow. Allocation-free.</summary>
    public bool Matches(ReadOnlySpan<byte> frame, in EthernetHeader header)
    {
        if (_protocol == 0 && !_checkRemote) return true;
        var packet = frame.Slice(Math.Min(header.PayloadOffset, frame.Length));
        byte protocol;
        ReadOnlySpan<byte> transport;
        UInt128 source;
        bool v6;
        switch (header.EtherType)
        {
            case EtherType.Ipv4 when Ipv4Header.TryRead(packet, out var ip):
                protocol = ip.Protocol;
                transport = ip.IsFragment && ip.FragmentOffset != 0 ? default : ip.Payload;
                source = BinaryPrimitives.ReadUInt32BigEndian(ip.Source);
                v6 = false;
                break;
            case EtherType.Ipv6 when Ipv6Header.TryRead(packet, out var ip):
                protocol = ip.NextHeader;
                transport = ip.Payload;
                source = ip.SourceValue;
                v6 = true;
                break;
            default:
                return false; // not IP: no flow selects it
        }
        if (_checkRemote && (v6 != _remoteV6 || (source & _remoteMask) != _remote)) return false;
        if (_protocol == 0) return true;
        if (protocol != _protocol) return false;
        if (Settings.LocalPort is null && Settings.RemotePort is null) return true;
        if (transport.Length < 4) return false; // no ports to read: not selected on ports
        return (Settings.RemotePort is not { } remotePort || BinaryPrimitives.ReadUInt16BigEndian(transport) == remotePort)
               && (Settings.LocalPort is not { } localPort || BinaryPrimitives.ReadUInt16BigEndian(transport.Slice(2)) == localPort);
    }

    public override string ToString() => Name;
}
