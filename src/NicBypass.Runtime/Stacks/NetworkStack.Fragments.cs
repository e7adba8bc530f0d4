using System.Buffers.Binary;
using NicBypass.Runtime.Packets;

namespace NicBypass.Runtime.Stacks;

// IP fragments: reassembly of those received (ReassemblyQueue), fragmentation of the datagrams it
// sends that are longer than the MTU (a large UDP datagram, the echo of a large ping), and the
// other side of a path too small for a packet: path MTU discovery's messages for TCP.
public sealed partial class NetworkStack
{
    [ThreadStatic] private static byte[]? t_fragment;

    private ReassemblyQueue? _reassembly;
    private uint _fragmentId;

    private ReassemblyQueue Reassembly =>
        Volatile.Read(ref _reassembly) ?? Interlocked.CompareExchange(ref _reassembly, new ReassemblyQueue(this), null) ?? _reassembly!;

    /// <summary>Datagrams whose fragments wait for the rest now.</summary>
    public int DatagramsReassembling => Volatile.Read(ref _reassembly)?.Pending ?? 0;

    // When the oldest datagram being reassembled runs out of time (long.MaxValue: none).
    private long ReassemblyDue => Volatile.Read(ref _reassembly)?.NextDue ?? long.MaxValue;

    /// <summary>
    /// An IPv4 fragment, or an IPv6 packet whose next header is a fragment header, that IP has
    /// checked (addresses, hop limit, source) and gleaned from: into the reassembly; the whole
    /// datagram, when this was its last missing piece, goes on as <see cref="DeliverReassembled"/> says.
    /// </summary>
    private void ReceiveFragment(ReadOnlySpan<byte> frame)
    {
        bool complete;
        ReassemblyQueue.Whole whole;
        if (BinaryPrimitives.ReadUInt16BigEndian(frame.Slice(12)) == EtherType.Ipv4)
        {
            Ipv4Header.TryRead(frame.Slice(EthernetHeader.Length), out var ip);
            var packet = ip.Packet;
            var destination = NetworkAddress.Read(ip.Destination);
            var fragment = new IpFragment(frame, packet.Slice(0, ip.HeaderLength), ip.Payload,
                NetworkAddress.Read(ip.Source), destination, BinaryPrimitives.ReadUInt16BigEndian(packet.Slice(4)),
                ip.Protocol, ip.FragmentOffset * 8, (packet[6] & 0x20) != 0, v6: false, answerable: Owns(destination) && !LinkGroup(frame));
            if (FragmentProblem(fragment) is not null)
            {
                Counters.Drop(StackDropReason.Malformed);
                return;
            }
            complete = Reassembly.Add(fragment, out whole);
        }
        else
        {
            Ipv6Header.TryRead(frame.Slice(EthernetHeader.Length), out var ip);
            var header = ip.Payload; // the fragment header (RFC 8200 4.5)
            var field = BinaryPrimitives.ReadUInt16BigEndian(header.Slice(2));
            var source = NetworkAddress.Read(ip.Source);
            var destination = NetworkAddress.Read(ip.Destination);
            var answerable = Owns(destination) && !LinkGroup(frame);
            var fragment = new IpFragment(frame, ip.Packet.Slice(0, Ipv6Header.Length), header.Slice(8), source, destination,
                BinaryPrimitives.ReadUInt32BigEndian(header.Slice(4)), header[0], field & 0xFFF8, (field & 1) != 0, v6: true, answerable);
            if (FragmentProblem(fragment) is { } pointer)
            {
                // RFC 8200 4.5 (a length not a multiple of 8, or past 65,535: code 0, at the field
                // at fault) and RFC 7112 (a first fragment without the upper-layer header: code 3).
                var code = pointer < 0 ? (byte)3 : (byte)0;
                var at = pointer < 0 ? 0 : pointer == 4 ? 4 : ip.Packet.Length - header.Length + 2;
                if (answerable && !AboutIcmpV6Error(ip.Packet)) SendParameterProblem(ip.Packet, source, destination, code, at); // (none about an ICMPv6 error, RFC 4443 2.4(e.1))
                Counters.Drop(StackDropReason.Malformed);
                return;
            }
            complete = Reassembly.Add(fragment, out whole);
        }
        if (!complete) return;
        using (whole) DeliverReassembled(whole.Frame);
    }

    // What is wrong with a fragment's lengths, or null: 4 (the IP length field) for data that is
    // empty, or not a multiple of 8 with more to come; 6 (the offset) for data ending past 65,535
    // bytes (the ping of death); -1 for a first IPv6 fragment too short for its upper-layer
    // header (RFC 7112). Linux drops all of these.
    private static int? FragmentProblem(in IpFragment fragment)
    {
        var length = fragment.Data.Length;
        if (length == 0 || fragment.More && (length & 7) != 0) return 4;
        if (fragment.Offset + length > (fragment.IsV6 ? 65535 : 65535 - Ipv4Header.MinLength)) return 6;
        if (!fragment.IsV6 || fragment.Offset != 0) return null;
        // The whole header chain must be in the first fragment (RFC 7112 5): the extension
        // headers after the fragment header are walked to the upper layer's (one hidden behind
        // destination options got through, and past a NIC's port check: found by review).
        var next = fragment.Protocol;
        var at = 0;
        for (var walked = 0; next is 0 or 43 or 60 && walked < Ipv6Header.MaxExtensionHeaders; walked++)
        {
            if (at + 2 > length) return -1;
            var extension = (fragment.Data[at + 1] + 1) * 8;
            next = fragment.Data[at];
            at += extension;
        }
        var upper = next switch { IpProtocol.Tcp => 20, IpProtocol.Udp => 8, IpProtocol.IcmpV6 => 4, 0 or 43 or 60 => int.MaxValue, _ => 0 };
        return at > length || length - at < upper ? -1 : null;
    }

    /// <summary>
    /// A reassembled datagram, to what would have taken it whole: ICMP echo (IPv4 and IPv6), UDP,
    /// TCP. It is past IP's checks (its fragments passed them) and, in a virtual network stack,
    /// past the serialization queue (its fragments waited in it one by one, and are reassembled in
    /// the transport half). Neighbour discovery carried in fragments is dropped (RFC 6980).
    /// </summary>
    private void DeliverReassembled(ReadOnlySpan<byte> frame)
    {
        if (BinaryPrimitives.ReadUInt16BigEndian(frame.Slice(12)) == EtherType.Ipv4)
        {
            Ipv4Header.TryRead(frame.Slice(EthernetHeader.Length), out var ip);
            var source = NetworkAddress.Read(ip.Source);
            var destination = NetworkAddress.Read(ip.Destination);
            switch (ip.Protocol)
            {
                case IpProtocol.Icmp: ReceiveIcmpV4(frame, ip.Payload, source, destination); break;
                case IpProtocol.Udp: ReceiveUdp(ip.Packet, ip.Payload, source, destination, ToGroup(frame, destination)); break;
                case IpProtocol.Tcp: ReceiveTcp(ip.Packet, ip.Payload, source, destination, ToGroup(frame, destination)); break;
                default: Counters.Drop(StackDropReason.Unsupported); break;
            }
            return;
        }
        if (!Ipv6Header.TryRead(frame.Slice(EthernetHeader.Length), out var v6) || v6.Problem.Kind != Ipv6ProblemKind.None)
        {
            Counters.Drop(v6.Problem.Kind != Ipv6ProblemKind.None ? StackDropReason.Unsupported : StackDropReason.Malformed);
            return;
        }
        var from = NetworkAddress.Read(v6.Source);
        var to = NetworkAddress.Read(v6.Destination);
        var unicast = Owns(to);
        switch (v6.NextHeader)
        {
            case IpProtocol.IcmpV6 when v6.Payload.Length > 0 && v6.Payload[0] is >= 133 and <= 137:
                Counters.Drop(StackDropReason.Unsupported);
                break;
            case IpProtocol.IcmpV6:
                ReceiveIcmpV6(frame, v6.Payload, from, to, unicast, v6.HopLimit);
                break;
            case IpProtocol.Udp:
                ReceiveUdp(v6.Packet, v6.Payload, from, to, ToGroup(frame, to));
                break;
            case IpProtocol.Tcp when unicast:
                ReceiveTcp(v6.Packet, v6.Payload, from, to, ToGroup(frame, to));
                break;
            default:
                Counters.Drop(unicast ? StackDropReason.Unsupported : StackDropReason.NotForUs);
                break;
        }
    }

    /// <summary>
    /// Path MTU discovery's message (an ICMP "fragmentation needed" or an ICMPv6 Packet Too Big)
    /// quoting <paramref name="quoted"/>, a packet this stack sent, counted as delivered when taken.
    /// For a TCP segment a connection has in flight (RFC 5927), that connection sends smaller
    /// segments at once (<see cref="TcpConnection.PathMtuShrank"/>); and the destination's path MTU
    /// is learned (<see cref="PathMtuCache"/>: datagrams to it are cut to fit, its connections' next
    /// segments fit); so it is for a UDP datagram from a port a socket holds (or the
    /// VM guest's echo service) and an echo request or reply — as Linux learns it only for what a
    /// socket sent. Dropped as <c>unsupported</c>: a quote of another family, shorter than its IP
    /// header and 8 bytes (RFC 5927), not from this stack, to a group, broadcast or unspecified
    /// address, no larger than the MTU named, an IPv4 packet sent without don't-fragment (no router
    /// says that of one), a later fragment, an ICMP error (no error is about an error), a TCP segment
    /// no connection has in flight; and an IPv6 MTU below 1,280 (RFC 8201 4: such a message is
    /// discarded). One naming the MTU already known only keeps it (counted as taken).
    /// </summary>
    private void PacketTooBig(int mtu, ReadOnlySpan<byte> quoted, bool v6)
    {
        if (TryReadTooBig(mtu, quoted, v6, out var from, out var to, out var protocol, out var transport) && Owns(from) && !to.IsGroup && !IsUnspecified(to) && !IsSubnetBroadcast(to)
            && protocol switch
            {
                IpProtocol.Tcp => TooBigForSegment(mtu, from, to, transport),
                // Quoting no TCP segment, a message needs no secret to forge: it sizes what goes
                // next (the cache expires), never the segments of connections already open, which
                // shrink for good and only for a segment they have in flight (RFC 5927; an echo's
                // quote shrank every connection to the peer: found by review).
                IpProtocol.Udp => (Settings.EchoUdp || _udp.ContainsKey(BinaryPrimitives.ReadUInt16BigEndian(transport))) && LearnPathMtu(to, mtu, connections: false),
                IpProtocol.Icmp => !v6 && transport[0] is 0 or 8 && LearnPathMtu(to, mtu, connections: false),
                IpProtocol.IcmpV6 => v6 && transport[0] is 128 or 129 && LearnPathMtu(to, mtu, connections: false),
                _ => false,
            })
        {
            Counters.Add(ref Counters._delivered);
            Interlocked.Increment(ref Counters._packetTooBig);
        }
        else
        {
            Counters.Drop(StackDropReason.Unsupported);
        }
    }

    // The quoted packet's addresses, its transport protocol and the first 8 bytes of its transport
    // header; false when the quote is not one a router could make of a packet too big for `mtu`.
    private static bool TryReadTooBig(int mtu, ReadOnlySpan<byte> quoted, bool v6, out NetworkAddress from, out NetworkAddress to, out byte protocol, out ReadOnlySpan<byte> transport)
    {
        if (!TryReadQuoted(quoted, v6, out from, out to, out protocol, out transport)) return false;
        if (!v6)
        {
            var flags = BinaryPrimitives.ReadUInt16BigEndian(quoted.Slice(6));
            // Longer than the MTU, don't-fragment set, a whole packet.
            return BinaryPrimitives.ReadUInt16BigEndian(quoted.Slice(2)) > mtu && (flags & 0x4000) != 0 && (flags & 0x3FFF) == 0;
        }
        return mtu >= 1280 && 40 + BinaryPrimitives.ReadUInt16BigEndian(quoted.Slice(4)) > mtu;
    }

    private static bool IsUnspecified(NetworkAddress address) => address.Value == 0;

    // A destination-unreachable message: a connection of ours still connecting (its SYN quoted,
    // with the sequence number it has in flight: RFC 5927) fails at once — refused, or
    // unreachable — as Linux's connect() does (ECONNREFUSED, EHOSTUNREACH…) when a firewall
    // rejects it with ICMP or a router has no way on; it used to wait out every SYN
    // retransmission. Anything else — an open connection (Linux keeps those going), a datagram's
    // port unreachable (an unconnected socket has nobody to tell) — is not taken.
    private void DestinationUnreachable(bool refused, ReadOnlySpan<byte> quoted, bool v6)
    {
        if (TryReadQuoted(quoted, v6, out var from, out var to, out var protocol, out var transport) && protocol == IpProtocol.Tcp && Owns(from)
            && (v6 || (BinaryPrimitives.ReadUInt16BigEndian(quoted.Slice(6)) & 0x1FFF) == 0) // a first fragment or a whole packet: its transport header quoted
            && _connections.TryGetValue(new TcpKey(to, BinaryPrimitives.ReadUInt16BigEndian(transport.Slice(2)), BinaryPrimitives.ReadUInt16BigEndian(transport)), out var connection)
            && connection.LocalAddress == from && connection.ConnectFailed(refused ? TcpError.Refused : TcpError.Unreachable, BinaryPrimitives.ReadUInt32BigEndian(transport.Slice(4))))
        {
            Counters.Add(ref Counters._delivered);
        }
        else
        {
            Counters.Drop(StackDropReason.Unsupported);
        }
    }

    // The quoted packet's addresses, its transport protocol (past one fragment header, in IPv6:
    // this stack's own fragments, the first carrying the transport header) and the first 8 bytes
    // of its transport header.
    private static bool TryReadQuoted(ReadOnlySpan<byte> quoted, bool v6, out NetworkAddress from, out NetworkAddress to, out byte protocol, out ReadOnlySpan<byte> transport)
    {
        from = to = default;
        protocol = 0;
        transport = default;
        if (!v6)
        {
            if (quoted.Length < 20 || quoted[0] >> 4 != 4) return false;
            var headerLength = (quoted[0] & 0x0F) * 4;
            if (headerLength < 20 || quoted.Length < headerLength + 8) return false;
            from = NetworkAddress.Read(quoted.Slice(12, 4));
            to = NetworkAddress.Read(quoted.Slice(16, 4));
            protocol = quoted[9];
            transport = quoted.Slice(headerLength, 8);
            return true;
        }
        if (quoted.Length < 48 || quoted[0] >> 4 != 6) return false;
        from = NetworkAddress.Read(quoted.Slice(8, 16));
        to = NetworkAddress.Read(quoted.Slice(24, 16));
        protocol = quoted[6];
        var at = 40;
        if (protocol == IpProtocol.Ipv6Fragment)
        {
            if (quoted.Length < 48 + 8 || (BinaryPrimitives.ReadUInt16BigEndian(quoted.Slice(42)) & 0xFFF8) != 0) return false;
            protocol = quoted[40];
            at = 48;
        }
        transport = quoted.Slice(at, 8);
        return true;
    }

    // A message about a TCP segment: taken only when its connection has that sequence number in
    // flight; then the connection resends smaller and the path is learned (or confirmed).
    private bool TooBigForSegment(int mtu, NetworkAddress from, NetworkAddress to, ReadOnlySpan<byte> tcp)
    {
        if (!_connections.TryGetValue(new TcpKey(to, BinaryPrimitives.ReadUInt16BigEndian(tcp.Slice(2)), BinaryPrimitives.ReadUInt16BigEndian(tcp)), out var connection)
            || connection.LocalAddress != from) return false;
        var sequence = BinaryPrimitives.ReadUInt32BigEndian(tcp.Slice(4));
        // Taken only when the sequence number is one the connection has in flight (RFC 5927).
        var shrank = connection.PathMtuShrank(mtu, sequence, out var inFlight);
        return inFlight && (LearnPathMtu(to, mtu) | shrank);
    }

    private readonly PathMtuCache _pathMtus = new();

    // Learns the destination's path MTU; when it is new, the connections open to it size their
    // next segments by it too (Linux's tcp_sync_mss), each under its own lock.
    private bool LearnPathMtu(NetworkAddress destination, int mtu, bool connections = true)
    {
        var now = Time.GetTimestamp();
        if (!_pathMtus.Learn(destination, mtu, Mtu, now, (long)(PathMtuCache.Lifetime.TotalSeconds * Time.TimestampFrequency))) return false;
        if (!connections) return true;
        var (pathMtu, locked) = _pathMtus.For(destination, Mtu, now);
        foreach (var connection in Volatile.Read(ref _timedConnections))
        {
            if (connection.Remote.Address == destination) connection.PathMtuLearned(pathMtu, locked);
        }
        return true;
    }

    /// <summary>The largest packet that reaches <paramref name="destination"/> whole, as far as this stack knows: its MTU, or less once a router said so (<see cref="PathMtuCache"/>).</summary>
    public int PathMtu(NetworkAddress destination) => _pathMtus.For(destination, Mtu, Time.GetTimestamp()).Mtu;

    /// <summary>Whether a router said the IPv4 path to <paramref name="destination"/> is below 552 bytes: packets to it go without don't-fragment.</summary>
    internal bool PathBelowFloor(NetworkAddress destination) => _pathMtus.For(destination, Mtu, Time.GetTimestamp()).Locked;

    // The MTU a frame must fit: the link's, or a smaller path's for its destination (TCP's segments
    // aside: each connection sizes its own segments, by the path's MTU too, and is never cut by
    // IP); and whether the path is below IPv4's floor, where the frame goes without don't-fragment.
    private (int Mtu, bool Locked) MtuFor(ReadOnlySpan<byte> frame)
    {
        if (_pathMtus.Count == 0) return (Mtu, false);
        var v6 = BinaryPrimitives.ReadUInt16BigEndian(frame.Slice(12)) == EtherType.Ipv6;
        var packet = frame.Slice(EthernetHeader.Length);
        if (v6 ? packet[6] == IpProtocol.Tcp : packet[9] == IpProtocol.Tcp) return (Mtu, false);
        return _pathMtus.For(NetworkAddress.Read(v6 ? packet.Slice(24, 16) : packet.Slice(16, 4)), Mtu, Time.GetTimestamp());
    }

    // An IPv4 packet that fits a path below 552 bytes, as far as this stack knows, sent without
    // don't-fragment (Linux's locked path MTU): the routers on the way cut it.
    private SendStatus TransmitFragmentable(ReadOnlySpan<byte> frame, bool reply)
    {
        var buffer = t_fragment is { } made && made.Length >= frame.Length ? made : t_fragment = new byte[EthernetHeader.Length + Mtu];
        frame.CopyTo(buffer);
        var ip = buffer.AsSpan(EthernetHeader.Length);
        var headerLength = (ip[0] & 0x0F) * 4;
        BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(6), (ushort)(BinaryPrimitives.ReadUInt16BigEndian(ip.Slice(6)) & ~0x4000));
        BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(10), 0);
        BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(10), InternetChecksum.Compute(ip.Slice(0, headerLength)));
        return TransmitFrame(buffer.AsSpan(0, frame.Length), reply);
    }

    // Options without the copied flag (RFC 791 3.1: Record Route and Timestamp among them) go in
    // the first fragment only: in the others they become no-operations, the header keeping its
    // length, as Linux's ip_options_fragment writes them.
    private static void KeepCopiedOptions(Span<byte> options)
    {
        var at = 0;
        while (at < options.Length && options[at] != 0)
        {
            if (options[at] == 1)
            {
                at++;
                continue;
            }
            var length = at + 1 < options.Length ? options[at + 1] : 0;
            if (length < 2 || length > options.Length - at) return;
            if ((options[at] & 0x80) == 0) options.Slice(at, length).Fill(1);
            at += length;
        }
    }

    /// <summary>An ICMP (or ICMPv6) Time Exceeded, code 1, quoting the first fragment of a datagram whose reassembly ran out of time.</summary>
    internal void SendTimeExceeded(ReadOnlySpan<byte> quote, NetworkAddress source, NetworkAddress destination) =>
        SendIcmpError(quote, source, destination, source.IsV6 ? (byte)3 : (byte)11, 1, 0, ref Counters._timeExceeded);

    /// <summary>
    /// Sends an IP packet longer than <paramref name="mtu"/> (the link's, or its destination's path
    /// MTU) in fragments (RFC 791 3.2; RFC 8200 4.5 with a fragment header), each at most
    /// <paramref name="mtu"/>, as Linux does for a local datagram too long for
    /// its route: an IPv4 packet's fragments go without don't-fragment; an IPv6 one's share a
    /// 32-bit identification. A fragment refused before any went fails the datagram with its
    /// status (<see cref="SendStatus.Blocked"/>: the caller tries the whole datagram again). One
    /// refused after some went drops the rest of the datagram, counted with its reason, and the
    /// datagram counts as sent — a retry would only send its first part again, under a new
    /// identification — as Linux's UDP does when a queue drops a fragment (SndbufErrors, and
    /// success for the call).
    /// </summary>
    private SendStatus TransmitFragments(ReadOnlySpan<byte> frame, int mtu, bool reply)
    {
        var v6 = BinaryPrimitives.ReadUInt16BigEndian(frame.Slice(12)) == EtherType.Ipv6;
        var packet = frame.Slice(EthernetHeader.Length);
        var headerLength = v6 ? Ipv6Header.Length : (packet[0] & 0x0F) * 4;
        var data = v6
            ? packet.Slice(Ipv6Header.Length, BinaryPrimitives.ReadUInt16BigEndian(packet.Slice(4)))
            : packet.Slice(headerLength, BinaryPrimitives.ReadUInt16BigEndian(packet.Slice(2)) - headerLength);
        var fragmentHeader = v6 ? 8 : 0;
        var each = (mtu - headerLength - fragmentHeader) & ~7;
        var id = v6 ? Interlocked.Increment(ref _fragmentId) * 0x9E3779B1u : BinaryPrimitives.ReadUInt16BigEndian(packet.Slice(4));
        var buffer = t_fragment is { } made && made.Length >= EthernetHeader.Length + Mtu ? made : t_fragment = new byte[EthernetHeader.Length + Mtu];
        var count = (data.Length + each - 1) / each;
        var queued = false;
        for (var i = 0; i < count; i++)
        {
            var offset = i * each;
            var length = Math.Min(each, data.Length - offset);
            var more = i < count - 1;
            frame.Slice(0, EthernetHeader.Length + headerLength).CopyTo(buffer);
            var ip = buffer.AsSpan(EthernetHeader.Length);
            if (v6)
            {
                BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(4), (ushort)(fragmentHeader + length));
                ip[6] = IpProtocol.Ipv6Fragment;
                ip[40] = packet[6];
                ip[41] = 0;
                BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(42), (ushort)(offset | (more ? 1 : 0)));
                BinaryPrimitives.WriteUInt32BigEndian(ip.Slice(44), id);
            }
            else
            {
                BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(2), (ushort)(headerLength + length));
                BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(6), (ushort)((more ? 0x2000 : 0) | offset >> 3)); // don't-fragment cleared
                if (i > 0 && headerLength > Ipv4Header.MinLength) KeepCopiedOptions(ip.Slice(Ipv4Header.MinLength, headerLength - Ipv4Header.MinLength));
                BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(10), 0);
                BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(10), InternetChecksum.Compute(ip.Slice(0, headerLength)));
            }
            data.Slice(offset, length).CopyTo(ip.Slice(headerLength + fragmentHeader));
            var status = TransmitFrame(buffer.AsSpan(0, EthernetHeader.Length + headerLength + fragmentHeader + length), reply);
            if (status is SendStatus.Sent or SendStatus.Queued)
            {
                queued |= status == SendStatus.Queued;
                continue;
            }
            // TransmitFrame counted this fragment unless it was an application's blocked send,
            // which it leaves to the caller: with nothing gone yet, so is the whole datagram.
            var counted = status != SendStatus.Blocked || reply;
            if (i == 0 && !counted) return status;
            // The datagram cannot arrive whole: the fragments not sent are dropped with this one's reason.
            var reason = StackDropReasons.Of(status) ?? StackDropReason.OutputBlocked;
            for (var rest = counted ? i + 1 : i; rest < count; rest++) Counters.DropSend(reason);
            if (i == 0) return status;
            StackCounters.AddShared(ref Counters._fragmented);
            return queued ? SendStatus.Queued : SendStatus.Sent;
        }
        StackCounters.AddShared(ref Counters._fragmented);
        return queued ? SendStatus.Queued : SendStatus.Sent;
    }
}
