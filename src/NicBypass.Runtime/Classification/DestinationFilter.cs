using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Net;
using NicBypass.Runtime.Packets;
using NicBypass.Runtime.Stacks;

namespace NicBypass.Runtime.Classification;

/// <summary>
/// The part of a classifier rule beyond the destination MAC: the VLAN, the destination IPs and
/// the transport ports a VNIC declares (docs/architecture.md § Classification as advertised), restricted to the fields one matcher
/// checks. The hardware classifier checks the fields its model advertises; whatever the VNIC
/// declares and the hardware cannot match is checked by the same code in software before the
/// VNIC (<see cref="Virtualization.Vnic"/>), counted and costed.
/// <list type="bullet">
/// <item>VLAN: the frame's outer VLAN id must be the VNIC's (0: untagged or priority-tagged);
/// a second tag inside the first (802.1ad QinQ) belongs to no VNIC.</item>
/// <item>IP: an IPv4 or IPv6 frame must be addressed to one of its IPs; ARP and other
/// EtherTypes pass, and so does a header too short to read (the stack judges it).</item>
/// <item>Port: a TCP or UDP packet must use a declared protocol and a declared port, or one of
/// the ephemeral ports the stack's own connections use; other IP protocols (ICMP) and
/// non-first fragments pass.</item>
/// </list>
/// Group-addressed frames are checked on the VLAN only: membership decides the rest.
/// Allocation-free.
/// </summary>
internal sealed class DestinationFilter
{
    private const int FirstEphemeralPort = NetworkStack.FirstEphemeralPort;

    private readonly int _vlan;
    private readonly bool _checkVlan;
    private readonly uint[]? _v4;
    private readonly UInt128[]? _v6;
    private readonly ushort[]? _ports; // the declared ports, null when ports are not checked (the ephemeral range passes too)
    private readonly StackProtocols _protocols;

    private DestinationFilter(int vlan, bool checkVlan, uint[]? v4, UInt128[]? v6, ushort[]? ports, StackProtocols protocols)
    {
        _vlan = vlan;
        _checkVlan = checkVlan;
        _v4 = v4;
        _v6 = v6;
        _ports = ports;
        _protocols = protocols;
        Fields = (checkVlan ? ClassifierMatch.Vlan : 0) | (v4 is not null ? ClassifierMatch.DestinationIp : 0) | (ports is not null ? ClassifierMatch.Port : 0);
        // The common case — at most one IPv4 address, at most four ports — is decided for
        // option-less IPv4 by a 16-byte check the classifier keeps per rule (and a generated
        // lookup bakes); the rest, here.
        var options = (checkVlan ? FieldCheckOptions.Vlan : 0)
                      | (v4 is null ? 0 : v4.Length == 1 ? FieldCheckOptions.Ipv4 : FieldCheckOptions.Overflow)
                      | (ports is null ? 0 : FieldCheckOptions.Ports | (ports.Length > FieldCheck.MaxPorts ? FieldCheckOptions.Overflow : 0)
                          | ((protocols & StackProtocols.Tcp) != 0 ? FieldCheckOptions.Tcp : 0) | ((protocols & StackProtocols.Udp) != 0 ? FieldCheckOptions.Udp : 0));
        Check = new FieldCheck(options, checkVlan ? vlan : 0, v4 is { Length: 1 } ? v4[0] : 0,
            ports is null || ports.Length > FieldCheck.MaxPorts ? 0 : FieldCheck.PackPorts(ports));
    }

    /// <summary>The part of this filter that decides option-less IPv4 in 16 bytes (<see cref="FieldCheck"/>).</summary>
    public FieldCheck Check { get; }

    /// <summary>The <see cref="FieldCheck"/> of <paramref name="rule"/> under <paramref name="fields"/> (nothing to check: <see cref="FieldCheckOptions.None"/>).</summary>
    public static FieldCheck CheckOf(ClassifierRule rule, ClassifierMatch fields) => Create(rule, fields)?.Check ?? default;

    /// <summary>What it checks.</summary>
    public ClassifierMatch Fields { get; }

    /// <summary>
    /// The check of <paramref name="rule"/>'s declared fields among <paramref name="fields"/>, or
    /// null when there is nothing to check (no IPs declared, no ports declared, VLAN not asked).
    /// </summary>
    public static DestinationFilter? Create(ClassifierRule rule, ClassifierMatch fields)
    {
        var checkVlan = (fields & ClassifierMatch.Vlan) != 0;
        uint[]? v4 = null;
        UInt128[]? v6 = null;
        if ((fields & ClassifierMatch.DestinationIp) != 0 && rule.Ips is { Count: > 0 } ips)
        {
            var addresses = ips.Select(NetworkAddress.From).ToArray();
            v4 = addresses.Where(a => !a.IsV6).Select(a => (uint)a.Value).ToArray();
            v6 = addresses.Where(a => a.IsV6).Select(a => a.Value).ToArray();
        }
        ushort[]? ports = null;
        if ((fields & ClassifierMatch.Port) != 0 && rule.Ports is { Count: > 0 } declared)
        {
            // A VNIC declares a handful of ports: a short array scanned in order beats a 8 KB
            // bit set per rule, which thousands of rules would spread over the caches.
            ports = declared.Where(p => p is > 0 and < FirstEphemeralPort).Select(p => (ushort)p).Distinct().Order().ToArray();
        }
        if (!checkVlan && v4 is null && ports is null) return null;
        return new DestinationFilter(rule.Vlan, checkVlan, v4, v6, ports, rule.Protocols);
    }

    /// <summary>
    /// True when <paramref name="frame"/> (read at layer 2 by the NIC already) passes every field
    /// checked. A VLAN-only check — every VNIC behind a classifier that cannot match VLANs —
    /// reads the two or three words it needs instead of the whole header.
    /// </summary>
    public bool Accepts(ReadOnlySpan<byte> frame)
    {
        if (_v4 is null && _ports is null)
        {
            if (!_checkVlan) return true;
            var type = BinaryPrimitives.ReadUInt16BigEndian(frame.Slice(12));
            if (type is not (EthernetHeader.Vlan8021Q or EthernetHeader.Vlan8021AD)) return _vlan == 0;
            return (BinaryPrimitives.ReadUInt16BigEndian(frame.Slice(14)) & 0x0FFF) == _vlan
                   && !EthernetHeader.IsTagType(BinaryPrimitives.ReadUInt16BigEndian(frame.Slice(16)));
        }
        return EthernetHeader.TryRead(frame, out var header) && Accepts(frame, header);
    }

    /// <summary>True when <paramref name="frame"/> (whose layer-2 header is <paramref name="header"/>) passes every field checked.</summary>
    public bool Accepts(ReadOnlySpan<byte> frame, in EthernetHeader header)
    {
        if (_checkVlan && !VlanMatches(header, _vlan)) return false;
        if (header.IsGroup) return true;
        if (_v4 is null && _ports is null) return true;
        var verdict = Check.Check(frame, header);
        return verdict == FieldVerdict.CheckFields ? AcceptsSlow(frame.Slice(header.PayloadOffset), header.EtherType) : verdict == FieldVerdict.Match;
    }

    // Everything but option-less IPv4 with one address: IPv6 (extension headers walked), IPv4
    // with options or several addresses, short headers. Out of line, so the fast path above
    // carries none of its locals.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool AcceptsSlow(ReadOnlySpan<byte> packet, ushort etherType)
    {
        switch (etherType)
        {
            case EtherType.Ipv4:
                if (packet.Length < Ipv4Header.MinLength || packet[0] >> 4 != 4) return true; // the stack judges it
                if (_v4 is { } v4 && !Contains(v4, BinaryPrimitives.ReadUInt32BigEndian(packet.Slice(16)))) return false;
                if (_ports is null) return true;
                // Read the ports inside the datagram, not in the frame's padding after it.
                packet = packet.Slice(0, Math.Clamp(BinaryPrimitives.ReadUInt16BigEndian(packet.Slice(2)), Ipv4Header.MinLength, packet.Length));
                var ihl = (packet[0] & 0x0F) * 4;
                if ((BinaryPrimitives.ReadUInt16BigEndian(packet.Slice(6)) & 0x1FFF) != 0) return true; // a later fragment: no ports in it
                return PortAccepted(packet[9], ihl >= Ipv4Header.MinLength && packet.Length >= ihl + 4 ? packet.Slice(ihl) : default);
            case EtherType.Ipv6:
                if (packet.Length < Ipv6Header.Length || packet[0] >> 4 != 6) return true;
                if (_v6 is { } v6 && !Contains(v6, BinaryPrimitives.ReadUInt128BigEndian(packet.Slice(24)))) return false;
                if (_ports is null) return true;
                packet = packet.Slice(0, Math.Min(packet.Length, Ipv6Header.Length + BinaryPrimitives.ReadUInt16BigEndian(packet.Slice(4))));
                var next = packet[6];
                if (next is IpProtocol.Tcp or IpProtocol.Udp) return PortAccepted(next, packet.Length >= Ipv6Header.Length + 4 ? packet.Slice(Ipv6Header.Length) : default);
                // Extension headers first: walked as the stack walks them (a hop-by-hop header must not hide a port).
                if (!Ipv6Header.TryRead(packet, out var ip)) return true;
                // A first fragment carries the ports too, behind its fragment header (it passed
                // unchecked, where IPv4's first fragment is checked: found by review); a later one has none.
                if (ip.NextHeader == IpProtocol.Ipv6Fragment && ip.Payload.Length >= 8)
                {
                    return (BinaryPrimitives.ReadUInt16BigEndian(ip.Payload.Slice(2)) & 0xFFF8) != 0
                        || PortAccepted(ip.Payload[0], ip.Payload.Length >= 12 ? ip.Payload.Slice(8) : default);
                }
                return PortAccepted(ip.NextHeader, ip.Payload.Length >= 4 ? ip.Payload : default);
            default:
                return true;
        }
    }

    /// <summary>
    /// For a filter of ports alone (<see cref="Create"/> with <see cref="ClassifierMatch.Port"/>):
    /// true when group frame <paramref name="frame"/> (broadcast or multicast, copied to every
    /// member of its group whatever its port) is to a declared port, an ephemeral one, or carries
    /// no port. Its destination address is the group's, so only the port is checked.
    /// </summary>
    public bool AcceptsGroup(ReadOnlySpan<byte> frame) =>
        _ports is null || !EthernetHeader.TryRead(frame, out var header) || AcceptsSlow(frame.Slice(header.PayloadOffset), header.EtherType);

    /// <summary>Which field a frame fails (for explaining a drop): VLAN, destination IP, port, or none.</summary>
    public ClassifierMatch Rejected(ReadOnlySpan<byte> frame, in EthernetHeader header)
    {
        if (_checkVlan && !VlanMatches(header, _vlan)) return ClassifierMatch.Vlan;
        if (Accepts(frame, header)) return ClassifierMatch.None;
        var packet = frame.Slice(header.PayloadOffset);
        var wrongIp = header.EtherType switch
        {
            EtherType.Ipv4 => _v4 is { } v4 && packet.Length >= Ipv4Header.MinLength && !Contains(v4, BinaryPrimitives.ReadUInt32BigEndian(packet.Slice(16))),
            EtherType.Ipv6 => _v6 is { } v6 && packet.Length >= Ipv6Header.Length && !Contains(v6, BinaryPrimitives.ReadUInt128BigEndian(packet.Slice(24))),
            _ => false,
        };
        return wrongIp ? ClassifierMatch.DestinationIp : ClassifierMatch.Port;
    }

    /// <summary>The VLAN rule of docs/dsl.md § Placement and docs/architecture.md § Classification as advertised: tagged <paramref name="vlan"/> (0: untagged or priority-tagged), never a tag inside the tag.</summary>
    public static bool VlanMatches(in EthernetHeader header, int vlan) =>
        header.Vlan == vlan && !EthernetHeader.IsTagType(header.EtherType);

    // `transport` is empty when the header was too short to hold the ports: matched on what could be read.
    private bool PortAccepted(byte protocol, ReadOnlySpan<byte> transport)
    {
        var declared = protocol switch
        {
            IpProtocol.Tcp => StackProtocols.Tcp,
            IpProtocol.Udp => StackProtocols.Udp,
            _ => StackProtocols.None,
        };
        if (declared == StackProtocols.None) return true; // ICMP and the rest carry no ports
        if ((_protocols & declared) == 0) return false;
        if (transport.Length < 4) return true;
        var port = BinaryPrimitives.ReadUInt16BigEndian(transport.Slice(2));
        // No early exit: which of its ports a frame uses is as unpredictable as the traffic, and
        // a mispredicted branch per frame costs more than comparing a few more ports.
        var hit = port >= FirstEphemeralPort;
        foreach (var declaredPort in _ports!) hit |= declaredPort == port;
        return hit;
    }

    private static bool Contains(uint[] set, uint value)
    {
        foreach (var item in set)
        {
            if (item == value) return true;
        }
        return false;
    }

    private static bool Contains(UInt128[] set, UInt128 value)
    {
        foreach (var item in set)
        {
            if (item == value) return true;
        }
        return false;
    }
}
