using System.Buffers.Binary;
using NicBypass.Runtime.Packets;

namespace NicBypass.Runtime.Stacks;

// UDP and TCP demultiplexing to sockets and connections; port unreachable and RST for ports nobody serves.
public sealed partial class NetworkStack
{
    private void ReceiveUdp(ReadOnlySpan<byte> packet, ReadOnlySpan<byte> udp, NetworkAddress source, NetworkAddress destination, bool linkGroup, bool sealedByStack = false)
    {
        var length = udp.Length >= 8 ? BinaryPrimitives.ReadUInt16BigEndian(udp.Slice(4)) : 0;
        if (udp.Length < 8 || length < 8 || length > udp.Length || !ChecksumValid(packet, udp.Slice(0, length), IpProtocol.Udp, allowZero: !source.IsV6, sealedByStack))
        {
            Counters.Drop(StackDropReason.Malformed);
            return;
        }
        udp = udp.Slice(0, length);
        var sourcePort = BinaryPrimitives.ReadUInt16BigEndian(udp);
        var destinationPort = BinaryPrimitives.ReadUInt16BigEndian(udp.Slice(2));
        if (_udp.TryGetValue(destinationPort, out var socket))
        {
            if (socket.Enqueue(new NetworkEndpoint(source, sourcePort), udp.Slice(8))) Counters.Add(ref Counters._delivered);
            else Counters.Drop(StackDropReason.SocketFull);
            return;
        }
        // Echoing a link-layer broadcast would amplify it (fraggle); echoing a datagram from a
        // service port (below 1024: another echo, chargen…) could bounce between two services
        // forever, as inetd knew: those get port unreachable instead.
        if (Settings.EchoUdp && !linkGroup && sourcePort >= 1024)
        {
            Counters.Add(ref Counters._answered);
            var reply = BuildIp(destination, source, IpProtocol.Udp, udp.Length, out var body);
            udp.CopyTo(body);
            BinaryPrimitives.WriteUInt16BigEndian(body, destinationPort);
            BinaryPrimitives.WriteUInt16BigEndian(body.Slice(2), sourcePort);
            BinaryPrimitives.WriteUInt16BigEndian(body.Slice(6), 0);
            SealTransport(reply, 6);
            if (Send(reply, source, reply: true) is SendStatus.Sent or SendStatus.Queued) Counters.Add(ref Counters._udpEchoes);
            return;
        }
        Counters.Drop(StackDropReason.PortUnreachable);
        if (!linkGroup && !Filtered(destinationPort)) SendPortUnreachable(packet, source, destination);
    }

    // A port the destination did not declare that reached the stack only because classifiers let
    // the ephemeral range through (for its own connections' replies): a datagram, or a TCP SYN,
    // with nothing of its own there is dropped unanswered, as the firewall its declared ports
    // stand for would — an RST or port unreachable told a scanner the port was closed (found by
    // a user's nmap).
    private bool Filtered(ushort port) => _ports is { } declared && port >= FirstEphemeralPort && !declared.Contains(port);

    private void ReceiveTcp(ReadOnlySpan<byte> packet, ReadOnlySpan<byte> tcp, NetworkAddress source, NetworkAddress destination, bool linkGroup, bool sealedByStack = false)
    {
        if (tcp.Length < 20 || (tcp[12] >> 4) * 4 < 20 || (tcp[12] >> 4) * 4 > tcp.Length || !ChecksumValid(packet, tcp, IpProtocol.Tcp, allowZero: false, sealedByStack))
        {
            Counters.Drop(StackDropReason.Malformed);
            return;
        }
        var segment = new TcpSegment(tcp);
        var key = new TcpKey(source, segment.SourcePort, segment.DestinationPort);
        // The connection the last segment went to, while it is still in the table: a transfer's
        // segments skip the concurrent dictionary's look-up.
        if (Volatile.Read(ref _recentConnection) is { } recent && recent.Key == key && !recent.Forgotten)
        {
            Deliver(recent, segment);
            return;
        }
        if (_connections.TryGetValue(key, out var connection))
        {
            Volatile.Write(ref _recentConnection, connection);
            // Forgotten between the look-up and the write (another thread closed it): not kept
            // alive here, buffers and all, until another segment comes (found by review).
            if (connection.Forgotten) Interlocked.CompareExchange(ref _recentConnection, null, connection);
            Deliver(connection, segment);
            return;
        }
        if (!segment.Has(TcpSegmentFlags.Ack) && !segment.Has(TcpSegmentFlags.Rst) && (!segment.Has(TcpSegmentFlags.Syn) || segment.Has(TcpSegmentFlags.Fin))
            && _listeners.ContainsKey(segment.DestinationPort))
        {
            // In LISTEN, a segment with neither SYN nor ACK (a FIN, NULL or Xmas scan's) is dropped
            // (RFC 9293 3.10.7.2), as is a SYN with FIN (as Linux): a RST would say the port is
            // closed where it is open, and answer what no real client sends.
            Counters.Drop(StackDropReason.Malformed);
            return;
        }
        if (segment.Has(TcpSegmentFlags.Syn) && !segment.Has(TcpSegmentFlags.Ack) && !segment.Has(TcpSegmentFlags.Rst)
            && _listeners.TryGetValue(segment.DestinationPort, out var listener))
        {
            if (!listener.HasRoom)
            {
                Counters.Drop(StackDropReason.SocketFull);
                return;
            }
            var backlog = Math.Max(1, Settings.SynBacklog);
            if (Settings.SynCookies == SynCookieMode.Always || Settings.SynCookies == SynCookieMode.OnOverflow && listener.SynQueueFull(backlog))
            {
                SendCookieSynAck(listener, segment, source, destination);
                return;
            }
            TcpConnection? made;
            TcpConnection accepted;
            lock (_bind)
            {
                // Looked for again under the lock: an application's ConnectTcp on another thread
                // (a VM's stack has no gate) may have made this very connection meanwhile.
                if (_connections.TryGetValue(key, out made))
                {
                    accepted = made;
                }
                else
                {
                    var peer = new NetworkEndpoint(source, segment.SourcePort);
                    accepted = new TcpConnection(this, destination, segment.DestinationPort, peer, NextIss(destination, segment.DestinationPort, peer), listener);
                    Register(accepted);
                }
            }
            if (made is not null)
            {
                Deliver(made, segment);
                return;
            }
            Counters.Add(ref Counters._delivered);
            if (accepted.Accept(segment, backlog) is { } evicted && evicted.Abandon())
            {
                listener.CountPushedOut();
                Interlocked.Increment(ref Counters._synQueueOverflows);
            }
            return;
        }
        if ((segment.Flags & (TcpSegmentFlags.Syn | TcpSegmentFlags.Rst | TcpSegmentFlags.Ack)) == TcpSegmentFlags.Ack
            && Settings.SynCookies != SynCookieMode.Off && _listeners.TryGetValue(segment.DestinationPort, out var cookieListener)
            && TryAcceptCookie(cookieListener, key, segment, source, destination))
        {
            return;
        }
        Counters.Drop(StackDropReason.PortUnreachable);
        // A SYN to an ephemeral port is filtered; anything else there may be for a connection of
        // its own that closed (a FIN sent again after TIME-WAIT): RST, as RFC 9293 says, or the
        // peer waits in LAST-ACK for its retries to run out (found by the loss property test).
        var filtered = (segment.Flags & (TcpSegmentFlags.Syn | TcpSegmentFlags.Ack)) == TcpSegmentFlags.Syn && Filtered(segment.DestinationPort);
        if (!segment.Has(TcpSegmentFlags.Rst) && !linkGroup && !filtered) SendReset(source, destination, segment);
    }

    private void SendPortUnreachable(ReadOnlySpan<byte> packet, NetworkAddress source, NetworkAddress destination) =>
        SendIcmpError(packet, source, destination, source.IsV6 ? (byte)1 : (byte)3, source.IsV6 ? (byte)4 : (byte)3, 0, ref Counters._portUnreachables);

    /// <summary>An ICMPv6 Parameter Problem (RFC 4443 3.4) about <paramref name="packet"/>: <paramref name="code"/>, and the offset in it of the field at fault.</summary>
    internal void SendParameterProblem(ReadOnlySpan<byte> packet, NetworkAddress source, NetworkAddress destination, byte code, int pointer) =>
        SendIcmpError(packet, source, destination, 4, code, (uint)pointer, ref Counters._parameterProblems);

    // An ICMP (or ICMPv6) error of `type` and `code` to `source`, quoting `packet`; `detail` fills bytes 4..7 (a Parameter Problem's pointer).
    private void SendIcmpError(ReadOnlySpan<byte> packet, NetworkAddress source, NetworkAddress destination, byte type, byte code, uint detail, ref long sent)
    {
        // Never to a group or the unspecified address (RFC 1122 3.2.2, RFC 4291 2.5.2), and from one
        // of our unicast addresses: the packet's destination when it is ours, else the address
        // we would send to its source from (an error about a packet to a group went from the
        // group's address: found by review).
        if (source.IsGroup || source.Value == 0) return;
        if (!Owns(destination) && !TrySourceFor(source, out destination)) return;
        if (!TakeErrorToken())
        {
            Counters.DropSend(StackDropReason.RateLimited);
            return;
        }
        // ICMP carries the offending IP header and the first 8 bytes of its payload; ICMPv6 as
        // much of the packet as fits in the minimum IPv6 MTU.
        var quoted = source.IsV6 ? packet.Slice(0, Math.Min(packet.Length, 1280 - 48)) : packet.Slice(0, Math.Min(packet.Length, (packet[0] & 0x0F) * 4 + 8));
        var frame = BuildIp(destination, source, source.IsV6 ? IpProtocol.IcmpV6 : IpProtocol.Icmp, 8 + quoted.Length, out var icmp, dontFragment: false); // as Linux's ICMP (IP_PMTUDISC_DONT)
        icmp.Slice(0, 8).Clear();
        icmp[0] = type;
        icmp[1] = code;
        BinaryPrimitives.WriteUInt32BigEndian(icmp.Slice(4), detail);
        quoted.CopyTo(icmp.Slice(8));
        if (source.IsV6) SealTransport(frame, 2);
        else BinaryPrimitives.WriteUInt16BigEndian(icmp.Slice(2), InternetChecksum.Compute(icmp));
        if (Send(frame, source, reply: true) is SendStatus.Sent or SendStatus.Queued) Counters.Add(ref sent);
    }

    internal void SendReset(NetworkAddress remote, NetworkAddress local, in TcpSegment cause)
    {
        // RFC 793: if the offending segment has an ACK, the RST takes its sequence number from it;
        // otherwise it acknowledges everything the segment occupied.
        var frame = BuildIp(local, remote, IpProtocol.Tcp, 20, out var tcp);
        tcp.Clear();
        BinaryPrimitives.WriteUInt16BigEndian(tcp, cause.DestinationPort);
        BinaryPrimitives.WriteUInt16BigEndian(tcp.Slice(2), cause.SourcePort);
        tcp[12] = 5 << 4;
        if (cause.Has(TcpSegmentFlags.Ack))
        {
            BinaryPrimitives.WriteUInt32BigEndian(tcp.Slice(4), cause.Acknowledgment);
            tcp[13] = (byte)TcpSegmentFlags.Rst;
        }
        else
        {
            BinaryPrimitives.WriteUInt32BigEndian(tcp.Slice(8), cause.Sequence + (uint)cause.SequenceLength);
            tcp[13] = (byte)(TcpSegmentFlags.Rst | TcpSegmentFlags.Ack);
        }
        SealTransport(frame, 16);
        if (Send(frame, remote, reply: true) is SendStatus.Sent or SendStatus.Queued) StackCounters.AddShared(ref Counters._resets);
    }

    // ICMP errors are rate-limited as Linux does (icmp_msgs_per_sec 1,000, burst 50): a flood of
    // packets to closed ports cannot make the stack a traffic source.
    private RateLimit? _errors;

    private bool TakeErrorToken() => (_errors ??= new RateLimit(Time, 1000, 50)).TryTake();

    // Challenge ACKs (RFC 5961 7): at most 1,000 a second, a burst of 100.
    private RateLimit? _challenges;

    internal bool TakeChallengeToken() => (_challenges ??= new RateLimit(Time, 1000, 100)).TryTake();

    // The pseudo-header's addresses are read from the packet's own IP header. A packet one of the
    // host's own stacks sealed, landing in those very bytes, is good without a second sum
    // (counted: the NIC's receive checksum offload at work).
    private bool ChecksumValid(ReadOnlySpan<byte> packet, ReadOnlySpan<byte> segment, byte protocol, bool allowZero, bool sealedByStack)
    {
        if (sealedByStack)
        {
            Counters.Add(ref Counters._checksumsOffloaded);
            return true;
        }
        if (allowZero && BinaryPrimitives.ReadUInt16BigEndian(segment.Slice(6)) == 0) return true;
        return (packet[0] >> 4 == 6
            ? InternetChecksum.ComputeV6(packet.Slice(8, 16), packet.Slice(24, 16), protocol, segment)
            : InternetChecksum.ComputeV4(packet.Slice(12, 4), packet.Slice(16, 4), protocol, segment)) == 0;
    }

    // A new connection into the table and the timer walk (under the bind lock).
    private void Register(TcpConnection connection)
    {
        _connections[connection.Key] = connection;
        AddTimed(connection);
        Interlocked.Increment(ref _timed);
    }

    // A segment for a connection the table holds.
    private void Deliver(TcpConnection connection, in TcpSegment segment)
    {
        if (connection.OnSegment(segment) is { } dropped) Counters.Drop(dropped);
        else Counters.Add(ref Counters._delivered);
    }
}
