using System.Buffers.Binary;
using NicBypass.Runtime.Packets;

namespace NicBypass.Runtime.Stacks;

// IPv6 (RFC 8200) input and neighbour discovery (RFC 4861): solicitations for its own addresses, advertisements, ICMPv6 echo.
public sealed partial class NetworkStack
{
    private void ReceiveIpv6(ReadOnlySpan<byte> frame, bool sealedByStack = false)
    {
        if (!Ipv6Header.TryRead(frame.Slice(EthernetHeader.Length), out var ip))
        {
            Counters.Drop(StackDropReason.Malformed);
            return;
        }
        var destination = NetworkAddress.Read(ip.Destination);
        var unicast = Owns(destination);
        var joined = !unicast && Joined(destination);
        if (!unicast && !joined && !IsSolicitedNodeOrAllNodes(destination))
        {
            Counters.Drop(StackDropReason.NotForUs);
            return;
        }
        if (ip.HopLimit == 0)
        {
            Counters.Drop(StackDropReason.TtlExpired);
            return;
        }
        var source = NetworkAddress.Read(ip.Source);
        // A multicast source is never valid (RFC 4291 2.7); the unspecified one only in neighbour
        // discovery (duplicate address detection); our own only from ourselves (LAND).
        // Loopback (::1) and IPv4-mapped (::ffff:0:0/96) sources never come off a wire (RFC 4291
        // 2.5.3, 2.5.5.2): dropped, as Linux drops them, not answered (found by review).
        if (source.Value >> 120 == 0xFF || Owns(source) || source.Value == 0 && ip.NextHeader != IpProtocol.IcmpV6
            || source.Value == 1 || source.Value >> 32 == 0xFFFF)
        {
            Counters.Drop(StackDropReason.InvalidSource);
            return;
        }
        if (ip.Problem.Kind != Ipv6ProblemKind.None)
        {
            // An option or routing header a host cannot process (RFC 8200 4.2, 4.4): dropped, and
            // answered when its type asks — never to a link-layer group frame (no smurf amplifier).
            // To a group address only code 2, an option whose type asks for it even then (RFC 4443
            // 2.4(e.3)); a routing header's code 0 about a multicast packet was answered (review).
            var answer = ip.Problem.Kind == Ipv6ProblemKind.ParameterProblem && (unicast || ip.Problem.Code == 2)
                         || ip.Problem.Kind == Ipv6ProblemKind.ParameterProblemUnlessMulticast && unicast;
            if (answer && !LinkGroup(frame) && !AboutIcmpV6Error(ip.Packet)) SendParameterProblem(ip.Packet, source, destination, ip.Problem.Code, ip.Problem.Pointer);
            Counters.Drop(StackDropReason.Unsupported);
            return;
        }
        switch (ip.NextHeader)
        {
            case IpProtocol.IcmpV6 when ip.AtomicFragment && ip.Payload.Length > 0 && ip.Payload[0] is >= 133 and <= 137:
                // Neighbour discovery in a fragment, even an atomic one, is dropped (RFC 6980), as
                // the reassembled kind is: it can hide from a link's RA guard and ND inspection.
                Counters.Drop(StackDropReason.Unsupported);
                return;
            case IpProtocol.IcmpV6:
                ReceiveIcmpV6(frame, ip.Payload, source, destination, unicast, ip.HopLimit);
                return;
            case IpProtocol.Udp or IpProtocol.Tcp when (unicast || joined && ip.NextHeader == IpProtocol.Udp) && TransportEntry is { } entry && !entry.Submit(frame):
                Glean(source, frame);
                return; // waits in the VSQ
            case IpProtocol.Udp when unicast || joined:
                Glean(source, frame);
                ReceiveUdp(ip.Packet, ip.Payload, source, destination, ToGroup(frame, destination), sealedByStack);
                return;
            case IpProtocol.Tcp when unicast:
                Glean(source, frame);
                ReceiveTcp(ip.Packet, ip.Payload, source, destination, ToGroup(frame, destination), sealedByStack);
                return;
            case IpProtocol.Ipv6Fragment when ip.Payload.Length >= 8 && (unicast || joined):
                Glean(source, frame);
                // In a VNS, fragments wait in the inbound VSQ one by one and are reassembled in the
                // transport half: whatever the datagram turns out to be (its next header may be
                // another extension header), it is processed there.
                if (TransportEntry is { } waiting && !waiting.Submit(frame)) return;
                ReceiveFragment(frame);
                return;
            case IpProtocol.Ipv6Fragment when ip.Payload.Length < 8:
                Counters.Drop(StackDropReason.Malformed);
                return;
            default:
                Counters.Drop(unicast ? StackDropReason.Unsupported : StackDropReason.NotForUs);
                return;
        }
    }

    private void ReceiveIcmpV6(ReadOnlySpan<byte> frame, ReadOnlySpan<byte> icmp, NetworkAddress source, NetworkAddress destination, bool unicast, int hopLimit)
    {
        Span<byte> src = stackalloc byte[16];
        Span<byte> dst = stackalloc byte[16];
        source.Write(src);
        destination.Write(dst);
        if (icmp.Length < 8 || InternetChecksum.ComputeV6(src, dst, IpProtocol.IcmpV6, icmp) != 0)
        {
            Counters.Drop(StackDropReason.Malformed);
            return;
        }
        var solicitorMac = EthernetHeader.ReadMac(frame.Slice(6));
        if (icmp[0] is 135 or 136 && icmp.Length >= 24 && InvalidNeighborDiscovery(icmp, source, destination, hopLimit) is { } invalid)
        {
            Counters.Drop(invalid);
            return;
        }
        if (icmp[0] is 135 or 136 && icmp.Length >= 24 && Volatile.Read(ref _slaac) is { } detecting
            && detecting.DuplicateSeen(icmp[0], NetworkAddress.Read(icmp.Slice(8, 16)), source, solicitorMac))
        {
            Counters.Add(ref Counters._delivered); // duplicate address detection: the tentative address is another node's
            return;
        }
        switch (icmp[0])
        {
            case 135 when icmp.Length >= 24 && Owns(NetworkAddress.Read(icmp.Slice(8, 16))):
                Counters.Add(ref Counters._answered);
                if (source.Value != 0) _neighbors.Observe(source, LinkLayerOption(icmp.Slice(24), 1) ?? solicitorMac);
                AdvertiseNeighbor(solicitorMac, source, NetworkAddress.Read(icmp.Slice(8, 16)));
                return;
            case 136 when icmp.Length >= 24:
                Counters.Add(ref Counters._answered);
                var target = NetworkAddress.Read(icmp.Slice(8, 16));
                var advertised = LinkLayerOption(icmp.Slice(24), 2) ?? solicitorMac;
                if ((icmp[4] & 0x40) != 0) _neighbors.Answered(target, advertised);    // solicited: an answer, if we asked
                else if ((icmp[4] & 0x20) != 0) _neighbors.Unsolicited(target, advertised); // override, unasked: a stale entry only
                return;
            case 128 when source.Value != 0 && (unicast || AllNodesOrJoined(destination)): // never a reply to :: (RFC 4291 2.5.2)
                // To a group — all nodes (ping -6 ff02::1%eth0, the usual way to see who is on a
                // link) or one it joined — the reply comes from one of its own addresses of the
                // requester's scope (RFC 4443 4.2), as Linux answers by default.
                if (!unicast && !TrySourceFor(source, out destination))
                {
                    Counters.Drop(StackDropReason.NotForUs);
                    return;
                }
                Counters.Add(ref Counters._answered);
                Glean(source, frame);
                var reply = BuildIp(destination, source, IpProtocol.IcmpV6, icmp.Length, out var body);
                icmp.CopyTo(body);
                body[0] = 129;
                BinaryPrimitives.WriteUInt16BigEndian(body.Slice(2), 0);
                SealTransport(reply, 2);
                EthernetHeader.WriteMac(reply, solicitorMac);
                if (SendReply(reply)) Counters.Add(ref Counters._echoReplies);
                return;
            case 129 when unicast:
                Counters.Add(ref Counters._delivered);
                Interlocked.Increment(ref Counters._echoRepliesReceived);
                return;
            case 134 when Volatile.Read(ref _slaac) is { } slaac:
                // A Router Advertisement (RFC 4861 6.1.2): from a router's link-local address, not routed.
                if (hopLimit != 255 || !source.IsLinkLocal) Counters.Drop(StackDropReason.InvalidSource);
                else if (slaac.Receive(icmp, source)) Counters.Add(ref Counters._delivered);
                else Counters.Drop(StackDropReason.Malformed);
                return;
            case 1 when unicast:
                // Destination unreachable (RFC 4443 3.1): port unreachable (4) is a refusal; the
                // others (no route, prohibited, address unreachable…) say the peer cannot be reached.
                DestinationUnreachable(refused: icmp[1] == 4, icmp.Slice(8), v6: true);
                return;
            case 2 when unicast:
                // Packet Too Big (RFC 4443 3.2, RFC 8201): the link's MTU, and the packet that did not fit.
                PacketTooBig((int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(icmp.Slice(4)), int.MaxValue), icmp.Slice(8), v6: true);
                return;
            default:
                Counters.Drop(unicast ? StackDropReason.Unsupported : StackDropReason.NotForUs);
                return;
        }
    }

    private void AdvertiseNeighbor(ulong solicitorMac, NetworkAddress solicitor, NetworkAddress target)
    {
        // An unspecified solicitor (duplicate address detection) is answered to all nodes.
        var unspecified = solicitor.Value == 0;
        var destination = unspecified ? new NetworkAddress((UInt128)0xFF02 << 112 | 1, true) : solicitor;
        var reply = BuildIp(target, destination, IpProtocol.IcmpV6, 32, out var icmp, hopLimit: 255);
        icmp.Clear();
        icmp[0] = 136;
        BinaryPrimitives.WriteUInt32BigEndian(icmp.Slice(4), unspecified ? 0x2000_0000u : 0x6000_0000u); // (solicited,) override
        target.Write(icmp.Slice(8));
        icmp[24] = 2; // target link-layer address option
        icmp[25] = 1;
        EthernetHeader.WriteMac(icmp.Slice(26), Mac);
        SealTransport(reply, 2);
        EthernetHeader.WriteMac(reply, unspecified ? 0x3333_0000_0001UL : solicitorMac);
        if (SendReply(reply)) Counters.Add(ref Counters._neighborAdvertisements);
    }

    // RFC 4861 7.1.1 and 7.1.2's validity checks of a solicitation or advertisement, or null when
    // it passes: one that was routed (hop limit below 255) is off-link, forged, as Linux drops it;
    // a code other than 0, an option of length 0, a solicitation from :: (duplicate address
    // detection) to anything but a solicited-node group or carrying its link-layer address, and an
    // advertisement to a group that says it was solicited are malformed (all were taken: review).
    private StackDropReason? InvalidNeighborDiscovery(ReadOnlySpan<byte> icmp, NetworkAddress source, NetworkAddress destination, int hopLimit)
    {
        if (hopLimit != 255) return StackDropReason.InvalidSource;
        if (icmp[1] != 0) return StackDropReason.Malformed;
        for (var options = icmp.Slice(24); options.Length >= 2; options = options.Slice(Math.Min(options.Length, options[1] * 8)))
        {
            if (options[1] == 0) return StackDropReason.Malformed;
        }
        if (icmp[0] == 135 && source.Value == 0 && (SolicitedNode(destination) != destination || LinkLayerOption(icmp.Slice(24), 1) is not null)) return StackDropReason.Malformed;
        if (icmp[0] == 136 && destination.IsGroup && (icmp[4] & 0x40) != 0) return StackDropReason.Malformed;
        return null;
    }

    private static ulong? LinkLayerOption(ReadOnlySpan<byte> options, byte type)
    {
        while (options.Length >= 8)
        {
            var length = options[1] * 8;
            if (length == 0 || length > options.Length) return null;
            if (options[0] == type) return EthernetHeader.ReadMac(options.Slice(2));
            options = options.Slice(length);
        }
        return null;
    }

    // All nodes (ff02::1), or a group the stack joined.
    private bool AllNodesOrJoined(NetworkAddress address) => address.IsV6 && (address.Value == ((UInt128)0xFF02 << 112 | 1) || Joined(address));

    private bool IsSolicitedNodeOrAllNodes(NetworkAddress address)
    {
        if (!address.IsV6) return false;
        if (address.Value == ((UInt128)0xFF02 << 112 | 1)) return true;
        if (SolicitedNode(address) != address) return false;
        // Its autoconfigured addresses' group, tentative ones included (all end in its MAC's identifier).
        if (Volatile.Read(ref _slaac) is { } slaac && SolicitedNode(slaac.LinkLocal) == address) return true;
        foreach (var own in Volatile.Read(ref _addresses))
        {
            if (own.IsV6 && SolicitedNode(own) == address) return true;
        }
        return false;
    }
    // RFC 4443 2.4(e.1): no error about an ICMPv6 error message, found past the extension headers
    // (the header at fault stopped the walk before its upper layer), as Linux's is_ineligible
    // skips them: an ICMPv6 header whose type is an error's (below 128), or none at all in a
    // packet with no fragment header (a first fragment whose ICMPv6 header is missing is answered,
    // as Linux's `!tp && frag_off != 0`). A chain cut short, ending in no next header or in a
    // later fragment is answered.
    internal static bool AboutIcmpV6Error(ReadOnlySpan<byte> packet)
    {
        var next = packet[6];
        var offset = Ipv6Header.Length;
        var fragmentField = 0;
        for (var walked = 0; next is 0 or 43 or 44 or 51 or 60; walked++)
        {
            if (walked == 16 || packet.Length - offset < 8) return false;
            if (next == 44) fragmentField |= BinaryPrimitives.ReadUInt16BigEndian(packet.Slice(offset + 2));
            if (next == 44 && (fragmentField & 0xFFF8) != 0) return false;
            var length = next switch { 44 => 8, 51 => (packet[offset + 1] + 2) * 4, _ => (packet[offset + 1] + 1) * 8 };
            if (packet.Length - offset < length) return false;
            next = packet[offset];
            offset += length;
        }
        return next == IpProtocol.IcmpV6 && (offset >= packet.Length ? fragmentField == 0 : packet[offset] < 128);
    }
}
