using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using NicBypass.Runtime.Packets;

namespace NicBypass.Runtime.Stacks;

/// <summary>
/// The IP and transport layers of a network stack: header checks (version, lengths, checksums,
/// TTL / hop limit, fragments), ARP and IPv6 neighbour discovery for its own addresses, ICMP and
/// ICMPv6 echo, UDP sockets and TCP connections, with port unreachable / RST for ports nobody
/// serves. A destination's virtual network stack (<see cref="Virtualization.VirtualNetworkStack"/>) runs it
/// behind its serialization queues; a VM runs one as its own guest OS stack.
///
/// Frames arrive untagged (the VNIC removed the VLAN tag) through <see cref="Receive"/>; frames
/// leave through the <see cref="IStackOutput"/>. Timers (TCP retransmission, TIME-WAIT, neighbour
/// resolution) run from <see cref="Tick"/> on the stack's <see cref="TimeProvider"/>, so virtual
/// time drives them in tests. Nothing is allocated per frame.
/// </summary>
public sealed class NetworkStack
{
    internal const ushort EtherTypeIpv4 = 0x0800;
    internal const ushort EtherTypeArp = 0x0806;
    internal const ushort EtherTypeIpv6 = 0x86DD;
    internal const byte ProtocolIcmp = 1;
    internal const byte ProtocolTcp = 6;
    internal const byte ProtocolUdp = 17;
    internal const byte ProtocolIcmpV6 = 58;
    private const int EphemeralFirst = 49152;

    /// <summary>Frames that may wait for one neighbour's MAC to be resolved.</summary>
    public const int ParkedPerNeighbor = 8;

    [ThreadStatic] private static byte[]? t_frame;

    private readonly IStackOutput _output;
    private readonly ConcurrentDictionary<NetworkAddress, Neighbor> _neighbors = new();
    private readonly PortTable<UdpSocket> _udp = new();
    private readonly PortTable<TcpListener> _listeners = new();
    private readonly ConcurrentDictionary<TcpKey, TcpConnection> _connections = new();
    private readonly HashSet<int>? _ports;
    private readonly Lock _bind = new();
    private NetworkAddress[] _addresses;
    private int _nextEphemeral = EphemeralFirst;
    private int _timed; // connections plus neighbours being resolved: Tick has nothing to do at 0
    private int _ipId;
    private uint _issCounter;

    public NetworkStack(ulong mac, IEnumerable<IPAddress> addresses, int mtu, TimeProvider time, IStackOutput output, StackSettings? settings = null, bool concurrentReceive = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(mtu, 576);
        Mac = mac;
        Mtu = mtu;
        Time = time;
        _output = output;
        Settings = settings ?? new StackSettings();
        _ports = Settings.Ports is { } ports ? new HashSet<int>(ports) : null;
        _addresses = addresses.Select(NetworkAddress.From).Distinct().ToArray();
        Counters = new StackCounters(concurrentReceive);
    }

    /// <summary>The MAC it answers ARP and neighbour solicitations with, and sends from.</summary>
    public ulong Mac { get; }

    public int Mtu { get; }

    public TimeProvider Time { get; }

    public StackSettings Settings { get; }

    public StackCounters Counters { get; }

    /// <summary>Where its frames go.</summary>
    public IStackOutput Output => _output;

    public IReadOnlyList<NetworkAddress> Addresses => Volatile.Read(ref _addresses);

    /// <summary>Open TCP connections (any state but closed).</summary>
    public int ConnectionCount => _connections.Count;

    /// <summary>Echo replies received for <see cref="SendEchoRequest"/>.</summary>
    public long EchoRepliesReceived => Volatile.Read(ref _echoRepliesReceived);

    private long _echoRepliesReceived;

    /// <summary>Adds an address (static, or learned at run time for <c>ip dhcp</c>).</summary>
    public void AddAddress(NetworkAddress address)
    {
        lock (_bind)
        {
            if (!_addresses.Contains(address)) Volatile.Write(ref _addresses, _addresses.Append(address).ToArray());
        }
    }

    /// <summary>Learns (or overrides) a neighbour's MAC, as a static ARP / neighbour cache entry.</summary>
    public void AddNeighbor(NetworkAddress address, ulong mac) => Learn(address, mac);

    // ---- sockets -------------------------------------------------------------------------------

    /// <summary>Binds a UDP socket to <paramref name="port"/> (0: an ephemeral port). The port must be declared.</summary>
    public UdpSocket BindUdp(int port = 0)
    {
        RequireProtocol(StackProtocols.Udp, "UDP");
        lock (_bind)
        {
            var local = port == 0 ? NextEphemeral(p => _udp.ContainsKey(p)) : CheckPort(port, "UDP");
            var socket = new UdpSocket(this, local, Settings.SocketQueue, Mtu);
            if (!_udp.TryAdd(local, socket)) throw new InvalidOperationException($"UDP port {port} is already bound");
            return socket;
        }
    }

    /// <summary>Listens for TCP connections on <paramref name="port"/>, which must be declared.</summary>
    public TcpListener ListenTcp(int port)
    {
        RequireProtocol(StackProtocols.Tcp, "TCP");
        lock (_bind)
        {
            var local = CheckPort(port, "TCP");
            var listener = new TcpListener(this, local, Settings.SocketQueue);
            if (!_listeners.TryAdd(local, listener)) throw new InvalidOperationException($"TCP port {port} is already listening");
            return listener;
        }
    }

    /// <summary>Opens a TCP connection to <paramref name="remote"/> from an ephemeral port: sends the SYN.</summary>
    public TcpConnection ConnectTcp(NetworkEndpoint remote)
    {
        RequireProtocol(StackProtocols.Tcp, "TCP");
        TcpConnection connection;
        lock (_bind)
        {
            var local = NextEphemeral(p => _listeners.ContainsKey(p) || _connections.ContainsKey(new TcpKey(remote.Address, remote.Port, p)));
            connection = new TcpConnection(this, SourceFor(remote.Address), local, remote, NextIss());
            _connections[connection.Key] = connection;
            Interlocked.Increment(ref _timed);
        }
        connection.Open();
        return connection;
    }

    internal void Unbind(UdpSocket socket) => _udp.TryRemove(socket.Port, socket);

    internal void Unbind(TcpListener listener) => _listeners.TryRemove(listener.Port, listener);

    internal void Forget(TcpConnection connection)
    {
        if (_connections.TryRemove(new KeyValuePair<TcpKey, TcpConnection>(connection.Key, connection))) Interlocked.Decrement(ref _timed);
    }

    internal uint NextIss() => (uint)Interlocked.Increment(ref _issCounter) * 0x01000193u + (uint)(Time.GetTimestamp() >> 12);

    private ushort CheckPort(int port, string protocol)
    {
        if (port is < 1 or > 65535) throw new ArgumentOutOfRangeException(nameof(port), $"{protocol} port {port} is outside 1..65535");
        if (_ports is not null && !_ports.Contains(port))
        {
            throw new InvalidOperationException($"{protocol} port {port} is not declared (declared: {(_ports.Count == 0 ? "none" : string.Join(" ", _ports.Order()))})");
        }
        return (ushort)port;
    }

    private ushort NextEphemeral(Func<ushort, bool> taken)
    {
        for (var i = 0; i < 65536 - EphemeralFirst; i++)
        {
            var port = (ushort)_nextEphemeral;
            _nextEphemeral = _nextEphemeral == 65535 ? EphemeralFirst : _nextEphemeral + 1;
            if (!taken(port)) return port;
        }
        throw new InvalidOperationException("no ephemeral port is free");
    }

    private void RequireProtocol(StackProtocols protocol, string name)
    {
        if ((Settings.Protocols & protocol) == 0) throw new InvalidOperationException($"the stack does not serve {name} (protocols: {Settings.Protocols})");
    }

    // ---- receive -------------------------------------------------------------------------------

    /// <summary>Processes one received Ethernet frame (untagged). The span is only read during the call.</summary>
    public void Receive(ReadOnlySpan<byte> frame)
    {
        Counters.Add(ref Counters._received);
        if (frame.Length < EthernetHeader.Length)
        {
            Counters.Drop(StackDropReason.Malformed);
            return;
        }
        switch (BinaryPrimitives.ReadUInt16BigEndian(frame.Slice(12)))
        {
            case EtherTypeArp: ReceiveArp(frame); break;
            case EtherTypeIpv4: ReceiveIpv4(frame); break;
            case EtherTypeIpv6: ReceiveIpv6(frame); break;
            default: Counters.Drop(StackDropReason.Unsupported); break;
        }
    }

    /// <summary>Counts a frame that reached the stack's VNS but could not be processed (a full inbound VSQ).</summary>
    internal void CountUnprocessed(StackDropReason reason)
    {
        // Outside the VSQ's gate, so always with interlocked adds.
        StackCounters.AddShared(ref Counters._received);
        Counters.DropShared(reason);
    }

    /// <summary>Runs due timers (TCP retransmission and TIME-WAIT, neighbour resolution); true if it sent anything.</summary>
    public bool Tick()
    {
        if (Volatile.Read(ref _timed) == 0) return false;
        var progress = false;
        var now = Time.GetTimestamp();
        foreach (var pair in _connections) progress |= pair.Value.OnTimer(now);
        foreach (var pair in _neighbors)
        {
            if (pair.Value.Mac == 0) progress |= RetryResolution(pair.Key, pair.Value, now);
        }
        return progress;
    }

    private void ReceiveArp(ReadOnlySpan<byte> frame)
    {
        var arp = frame.Slice(EthernetHeader.Length);
        if (arp.Length < 28 || BinaryPrimitives.ReadUInt16BigEndian(arp) != 1 || BinaryPrimitives.ReadUInt16BigEndian(arp.Slice(2)) != EtherTypeIpv4
            || arp[4] != 6 || arp[5] != 4)
        {
            Counters.Drop(StackDropReason.Malformed);
            return;
        }
        var operation = BinaryPrimitives.ReadUInt16BigEndian(arp.Slice(6));
        var senderMac = EthernetHeader.ReadMac(arp.Slice(8));
        var sender = NetworkAddress.Read(arp.Slice(14, 4));
        var target = NetworkAddress.Read(arp.Slice(24, 4));
        if (!Owns(target) || operation is not (1 or 2))
        {
            Counters.Drop(StackDropReason.NotForUs);
            return;
        }
        Counters.Add(ref Counters._answered);
        if (sender.Value != 0) Learn(sender, senderMac);
        if (operation != 1) return;

        var reply = Scratch().AsSpan(0, 60);
        reply.Clear();
        EthernetHeader.WriteMac(reply, senderMac);
        EthernetHeader.WriteMac(reply.Slice(6), Mac);
        BinaryPrimitives.WriteUInt16BigEndian(reply.Slice(12), EtherTypeArp);
        var body = reply.Slice(EthernetHeader.Length);
        arp.Slice(0, 6).CopyTo(body);
        BinaryPrimitives.WriteUInt16BigEndian(body.Slice(6), 2);
        EthernetHeader.WriteMac(body.Slice(8), Mac);
        arp.Slice(24, 4).CopyTo(body.Slice(14));
        arp.Slice(8, 10).CopyTo(body.Slice(18));
        if (SendReply(reply)) Counters.Add(ref Counters._arpReplies);
    }

    private void ReceiveIpv4(ReadOnlySpan<byte> frame)
    {
        var ip = frame.Slice(EthernetHeader.Length);
        if (ip.Length < 20 || ip[0] >> 4 != 4)
        {
            Counters.Drop(StackDropReason.Malformed);
            return;
        }
        var headerLength = (ip[0] & 0x0F) * 4;
        var totalLength = BinaryPrimitives.ReadUInt16BigEndian(ip.Slice(2));
        if (headerLength < 20 || totalLength < headerLength || totalLength > ip.Length || InternetChecksum.Compute(ip.Slice(0, headerLength)) != 0)
        {
            Counters.Drop(StackDropReason.Malformed);
            return;
        }
        var destination = NetworkAddress.Read(ip.Slice(16, 4));
        if (!Owns(destination))
        {
            Counters.Drop(StackDropReason.NotForUs);
            return;
        }
        if (ip[8] == 0)
        {
            Counters.Drop(StackDropReason.TtlExpired);
            return;
        }
        if ((BinaryPrimitives.ReadUInt16BigEndian(ip.Slice(6)) & 0x3FFF) != 0)
        {
            Counters.Drop(StackDropReason.Fragment);
            return;
        }
        var source = NetworkAddress.Read(ip.Slice(12, 4));
        Glean(source, frame);
        var packet = ip.Slice(0, totalLength);
        var payload = packet.Slice(headerLength);
        switch (ip[9])
        {
            case ProtocolIcmp: ReceiveIcmpV4(frame, packet, payload, source, destination); break;
            case ProtocolUdp: ReceiveUdp(packet, payload, source, destination); break;
            case ProtocolTcp: ReceiveTcp(packet, payload, source, destination); break;
            default: Counters.Drop(StackDropReason.Unsupported); break;
        }
    }

    private void ReceiveIcmpV4(ReadOnlySpan<byte> frame, ReadOnlySpan<byte> packet, ReadOnlySpan<byte> icmp, NetworkAddress source, NetworkAddress destination)
    {
        if (icmp.Length < 8 || InternetChecksum.Compute(icmp) != 0)
        {
            Counters.Drop(StackDropReason.Malformed);
            return;
        }
        switch (icmp[0])
        {
            case 8:
                Counters.Add(ref Counters._answered);
                var reply = BuildIp(destination, source, ProtocolIcmp, icmp.Length, out var body);
                icmp.CopyTo(body);
                body[0] = 0;
                BinaryPrimitives.WriteUInt16BigEndian(body.Slice(2), 0);
                BinaryPrimitives.WriteUInt16BigEndian(body.Slice(2), InternetChecksum.Compute(body));
                EthernetHeader.WriteMac(reply, EthernetHeader.ReadMac(frame.Slice(6)));
                if (SendReply(reply)) Counters.Add(ref Counters._echoReplies);
                return;
            case 0:
                Counters.Add(ref Counters._delivered);
                Interlocked.Increment(ref _echoRepliesReceived);
                return;
            default:
                Counters.Drop(StackDropReason.Unsupported);
                return;
        }
    }

    private void ReceiveIpv6(ReadOnlySpan<byte> frame)
    {
        var ip = frame.Slice(EthernetHeader.Length);
        if (ip.Length < 40 || ip[0] >> 4 != 6)
        {
            Counters.Drop(StackDropReason.Malformed);
            return;
        }
        var payloadLength = BinaryPrimitives.ReadUInt16BigEndian(ip.Slice(4));
        if (40 + payloadLength > ip.Length)
        {
            Counters.Drop(StackDropReason.Malformed);
            return;
        }
        var destination = NetworkAddress.Read(ip.Slice(24, 16));
        var unicast = Owns(destination);
        if (!unicast && !IsSolicitedNodeOrAllNodes(destination))
        {
            Counters.Drop(StackDropReason.NotForUs);
            return;
        }
        if (ip[7] == 0)
        {
            Counters.Drop(StackDropReason.TtlExpired);
            return;
        }
        var source = NetworkAddress.Read(ip.Slice(8, 16));
        var packet = ip.Slice(0, 40 + payloadLength);
        var payload = packet.Slice(40);
        switch (ip[6])
        {
            case ProtocolIcmpV6:
                ReceiveIcmpV6(frame, payload, source, destination, unicast);
                return;
            case ProtocolUdp when unicast:
                Glean(source, frame);
                ReceiveUdp(packet, payload, source, destination);
                return;
            case ProtocolTcp when unicast:
                Glean(source, frame);
                ReceiveTcp(packet, payload, source, destination);
                return;
            case 44:
                Counters.Drop(StackDropReason.Fragment);
                return;
            default:
                Counters.Drop(unicast ? StackDropReason.Unsupported : StackDropReason.NotForUs);
                return;
        }
    }

    private void ReceiveIcmpV6(ReadOnlySpan<byte> frame, ReadOnlySpan<byte> icmp, NetworkAddress source, NetworkAddress destination, bool unicast)
    {
        Span<byte> src = stackalloc byte[16];
        Span<byte> dst = stackalloc byte[16];
        source.Write(src);
        destination.Write(dst);
        if (icmp.Length < 8 || InternetChecksum.ComputeV6(src, dst, ProtocolIcmpV6, icmp) != 0)
        {
            Counters.Drop(StackDropReason.Malformed);
            return;
        }
        var solicitorMac = EthernetHeader.ReadMac(frame.Slice(6));
        switch (icmp[0])
        {
            case 135 when icmp.Length >= 24 && Owns(NetworkAddress.Read(icmp.Slice(8, 16))):
                Counters.Add(ref Counters._answered);
                if (source.Value != 0) Learn(source, LinkLayerOption(icmp.Slice(24), 1) ?? solicitorMac);
                AdvertiseNeighbor(solicitorMac, source, NetworkAddress.Read(icmp.Slice(8, 16)));
                return;
            case 136 when icmp.Length >= 24:
                Counters.Add(ref Counters._answered);
                Learn(NetworkAddress.Read(icmp.Slice(8, 16)), LinkLayerOption(icmp.Slice(24), 2) ?? solicitorMac);
                return;
            case 128 when unicast:
                Counters.Add(ref Counters._answered);
                Glean(source, frame);
                var reply = BuildIp(destination, source, ProtocolIcmpV6, icmp.Length, out var body);
                icmp.CopyTo(body);
                body[0] = 129;
                BinaryPrimitives.WriteUInt16BigEndian(body.Slice(2), 0);
                SealTransport(reply, 2);
                EthernetHeader.WriteMac(reply, solicitorMac);
                if (SendReply(reply)) Counters.Add(ref Counters._echoReplies);
                return;
            case 129 when unicast:
                Counters.Add(ref Counters._delivered);
                Interlocked.Increment(ref _echoRepliesReceived);
                return;
            default:
                Counters.Drop(unicast ? StackDropReason.Unsupported : StackDropReason.NotForUs);
                return;
        }
    }

    private void ReceiveUdp(ReadOnlySpan<byte> packet, ReadOnlySpan<byte> udp, NetworkAddress source, NetworkAddress destination)
    {
        var length = udp.Length >= 8 ? BinaryPrimitives.ReadUInt16BigEndian(udp.Slice(4)) : 0;
        if (udp.Length < 8 || length < 8 || length > udp.Length || !ChecksumValid(packet, udp.Slice(0, length), ProtocolUdp, allowZero: !source.IsV6))
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
        if (Settings.EchoUdp)
        {
            Counters.Add(ref Counters._answered);
            var reply = BuildIp(destination, source, ProtocolUdp, udp.Length, out var body);
            udp.CopyTo(body);
            BinaryPrimitives.WriteUInt16BigEndian(body, destinationPort);
            BinaryPrimitives.WriteUInt16BigEndian(body.Slice(2), sourcePort);
            BinaryPrimitives.WriteUInt16BigEndian(body.Slice(6), 0);
            SealTransport(reply, 6);
            if (Send(reply, source, reply: true) is SendStatus.Sent or SendStatus.Queued) Counters.Add(ref Counters._udpEchoes);
            return;
        }
        Counters.Drop(StackDropReason.PortUnreachable);
        SendPortUnreachable(packet, source, destination);
    }

    private void ReceiveTcp(ReadOnlySpan<byte> packet, ReadOnlySpan<byte> tcp, NetworkAddress source, NetworkAddress destination)
    {
        if (tcp.Length < 20 || (tcp[12] >> 4) * 4 < 20 || (tcp[12] >> 4) * 4 > tcp.Length || !ChecksumValid(packet, tcp, ProtocolTcp, allowZero: false))
        {
            Counters.Drop(StackDropReason.Malformed);
            return;
        }
        var segment = new TcpSegment(tcp);
        if (_connections.TryGetValue(new TcpKey(source, segment.SourcePort, segment.DestinationPort), out var connection))
        {
            if (connection.OnSegment(segment)) Counters.Add(ref Counters._delivered);
            else Counters.Drop(StackDropReason.OutOfOrder);
            return;
        }
        if (segment.Has(TcpFlags.Syn) && !segment.Has(TcpFlags.Ack) && !segment.Has(TcpFlags.Rst)
            && _listeners.TryGetValue(segment.DestinationPort, out var listener))
        {
            if (!listener.HasRoom)
            {
                Counters.Drop(StackDropReason.SocketFull);
                return;
            }
            lock (_bind)
            {
                connection = new TcpConnection(this, destination, segment.DestinationPort, new NetworkEndpoint(source, segment.SourcePort), NextIss(), listener);
                _connections[connection.Key] = connection;
                Interlocked.Increment(ref _timed);
            }
            connection.Accept(segment);
            Counters.Add(ref Counters._delivered);
            return;
        }
        Counters.Drop(StackDropReason.PortUnreachable);
        if (!segment.Has(TcpFlags.Rst)) SendReset(source, destination, segment);
    }

    // ---- answers -------------------------------------------------------------------------------

    private void AdvertiseNeighbor(ulong solicitorMac, NetworkAddress solicitor, NetworkAddress target)
    {
        // An unspecified solicitor (duplicate address detection) is answered to all nodes.
        var unspecified = solicitor.Value == 0;
        var destination = unspecified ? new NetworkAddress((UInt128)0xFF02 << 112 | 1, true) : solicitor;
        var reply = BuildIp(target, destination, ProtocolIcmpV6, 32, out var icmp, hopLimit: 255);
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

    private void SendPortUnreachable(ReadOnlySpan<byte> packet, NetworkAddress source, NetworkAddress destination)
    {
        // ICMP carries the offending IP header and the first 8 bytes of its payload; ICMPv6 as
        // much of the packet as fits in the minimum IPv6 MTU.
        var quoted = source.IsV6 ? packet.Slice(0, Math.Min(packet.Length, 1280 - 48)) : packet.Slice(0, Math.Min(packet.Length, (packet[0] & 0x0F) * 4 + 8));
        var frame = BuildIp(destination, source, source.IsV6 ? ProtocolIcmpV6 : ProtocolIcmp, 8 + quoted.Length, out var icmp);
        icmp.Slice(0, 8).Clear();
        icmp[0] = source.IsV6 ? (byte)1 : (byte)3;
        icmp[1] = source.IsV6 ? (byte)4 : (byte)3;
        quoted.CopyTo(icmp.Slice(8));
        if (source.IsV6) SealTransport(frame, 2);
        else BinaryPrimitives.WriteUInt16BigEndian(icmp.Slice(2), InternetChecksum.Compute(icmp));
        if (Send(frame, source, reply: true) is SendStatus.Sent or SendStatus.Queued) Counters.Add(ref Counters._portUnreachables);
    }

    internal void SendReset(NetworkAddress remote, NetworkAddress local, in TcpSegment cause)
    {
        // RFC 793: if the offending segment has an ACK, the RST takes its sequence number from it;
        // otherwise it acknowledges everything the segment occupied.
        var frame = BuildIp(local, remote, ProtocolTcp, 20, out var tcp);
        tcp.Clear();
        BinaryPrimitives.WriteUInt16BigEndian(tcp, cause.DestinationPort);
        BinaryPrimitives.WriteUInt16BigEndian(tcp.Slice(2), cause.SourcePort);
        tcp[12] = 5 << 4;
        if (cause.Has(TcpFlags.Ack))
        {
            BinaryPrimitives.WriteUInt32BigEndian(tcp.Slice(4), cause.Acknowledgment);
            tcp[13] = (byte)TcpFlags.Rst;
        }
        else
        {
            BinaryPrimitives.WriteUInt32BigEndian(tcp.Slice(8), cause.Sequence + (uint)cause.SequenceLength);
            tcp[13] = (byte)(TcpFlags.Rst | TcpFlags.Ack);
        }
        SealTransport(frame, 16);
        if (Send(frame, remote, reply: true) is SendStatus.Sent or SendStatus.Queued) StackCounters.AddShared(ref Counters._resets);
    }

    /// <summary>Sends an ICMP (or ICMPv6) echo request; replies are counted in <see cref="EchoRepliesReceived"/>.</summary>
    public SendStatus SendEchoRequest(NetworkAddress destination, ushort identifier, ushort sequence, int payloadLength = 32)
    {
        var source = SourceFor(destination);
        var frame = BuildIp(source, destination, destination.IsV6 ? ProtocolIcmpV6 : ProtocolIcmp, 8 + payloadLength, out var icmp);
        icmp.Clear();
        icmp[0] = destination.IsV6 ? (byte)128 : (byte)8;
        BinaryPrimitives.WriteUInt16BigEndian(icmp.Slice(4), identifier);
        BinaryPrimitives.WriteUInt16BigEndian(icmp.Slice(6), sequence);
        for (var i = 0; i < payloadLength; i++) icmp[8 + i] = (byte)i;
        if (destination.IsV6) SealTransport(frame, 2);
        else BinaryPrimitives.WriteUInt16BigEndian(icmp.Slice(2), InternetChecksum.Compute(icmp));
        return Send(frame, destination);
    }

    // ---- building and sending ------------------------------------------------------------------

    /// <summary>This thread's frame-building buffer (a frame is built, sent and forgotten before the next).</summary>
    internal static byte[] Scratch() => t_frame ??= new byte[16 * 1024];

    /// <summary>The address it sends from towards <paramref name="destination"/>: its first of the same family.</summary>
    internal NetworkAddress SourceFor(NetworkAddress destination)
    {
        foreach (var address in Addresses)
        {
            if (address.IsV6 == destination.IsV6) return address;
        }
        throw new InvalidOperationException($"the stack has no {(destination.IsV6 ? "IPv6" : "IPv4")} address to send to {destination} from");
    }

    /// <summary>
    /// Writes the Ethernet (destination MAC left for <see cref="Send"/>) and IP headers of a
    /// packet into this thread's buffer; returns the frame, with <paramref name="payload"/> its
    /// transport part.
    /// </summary>
    internal Span<byte> BuildIp(NetworkAddress source, NetworkAddress destination, byte protocol, int payloadLength, out Span<byte> payload, byte hopLimit = 64)
    {
        var headerLength = destination.IsV6 ? 40 : 20;
        var frame = Scratch().AsSpan(0, EthernetHeader.Length + headerLength + payloadLength);
        EthernetHeader.WriteMac(frame.Slice(6), Mac);
        BinaryPrimitives.WriteUInt16BigEndian(frame.Slice(12), destination.IsV6 ? EtherTypeIpv6 : EtherTypeIpv4);
        var ip = frame.Slice(EthernetHeader.Length, headerLength);
        ip.Clear();
        if (destination.IsV6)
        {
            ip[0] = 0x60;
            BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(4), (ushort)payloadLength);
            ip[6] = protocol;
            ip[7] = hopLimit;
            source.Write(ip.Slice(8));
            destination.Write(ip.Slice(24));
        }
        else
        {
            ip[0] = 0x45;
            BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(2), (ushort)(20 + payloadLength));
            BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(4), (ushort)Interlocked.Increment(ref _ipId));
            ip[6] = 0x40; // don't fragment
            ip[8] = hopLimit;
            ip[9] = protocol;
            source.Write(ip.Slice(12));
            destination.Write(ip.Slice(16));
            BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(10), InternetChecksum.Compute(ip));
        }
        payload = frame.Slice(EthernetHeader.Length + headerLength);
        return frame;
    }

    /// <summary>Fills in the transport checksum at <paramref name="checksumOffset"/> of the payload, over the pseudo-header.</summary>
    internal static void SealTransport(Span<byte> frame, int checksumOffset)
    {
        var ip = frame.Slice(EthernetHeader.Length);
        var v6 = ip[0] >> 4 == 6;
        var segment = v6 ? ip.Slice(40) : ip.Slice((ip[0] & 0x0F) * 4);
        BinaryPrimitives.WriteUInt16BigEndian(segment.Slice(checksumOffset), 0);
        var checksum = v6
            ? InternetChecksum.ComputeV6(ip.Slice(8, 16), ip.Slice(24, 16), ip[6], segment)
            : InternetChecksum.ComputeV4(ip.Slice(12, 4), ip.Slice(16, 4), ip[9], segment);
        // UDP sends a computed zero as all ones (zero means "no checksum").
        BinaryPrimitives.WriteUInt16BigEndian(segment.Slice(checksumOffset), checksum == 0 ? (ushort)0xFFFF : checksum);
    }

    /// <summary>
    /// Sends a built IP frame to <paramref name="nextHop"/>: fills in its MAC from the neighbour
    /// cache, or parks the frame and solicits the MAC (ARP / neighbour solicitation).
    /// </summary>
    internal SendStatus Send(Span<byte> frame, NetworkAddress nextHop, bool reply = false)
    {
        var neighbor = _neighbors.GetOrAdd(nextHop, static _ => new Neighbor());
        var mac = Volatile.Read(ref neighbor.Mac);
        if (mac != 0)
        {
            EthernetHeader.WriteMac(frame, mac);
            return Transmit(frame, reply);
        }
        lock (neighbor)
        {
            if (neighbor.Mac != 0)
            {
                EthernetHeader.WriteMac(frame, neighbor.Mac);
                return Transmit(frame, reply);
            }
            // Up to ParkedPerNeighbor frames wait for the neighbour's MAC (as Linux's unresolved
            // queue); past that the oldest is dropped and counted (TCP retransmits what is lost).
            neighbor.Parked ??= new Queue<byte[]>();
            if (neighbor.Parked.Count == ParkedPerNeighbor)
            {
                neighbor.Parked.Dequeue();
                Counters.DropSend(StackDropReason.Unresolved);
            }
            neighbor.Parked.Enqueue(frame.ToArray());
            var first = neighbor.Attempts == 0;
            if (first)
            {
                neighbor.Attempts = 1;
                neighbor.SolicitedAt = Time.GetTimestamp();
                Interlocked.Increment(ref _timed);
            }
            if (first) Solicit(nextHop);
        }
        StackCounters.AddShared(ref Counters._sent);
        return SendStatus.Queued;
    }

    private SendStatus Transmit(ReadOnlySpan<byte> frame, bool reply)
    {
        var status = _output.Send(frame);
        switch (status)
        {
            case SendStatus.Sent or SendStatus.Queued:
                StackCounters.AddShared(ref Counters._sent);
                break;
            case SendStatus.Blocked when reply:
                Counters.DropSend(StackDropReason.OutputBlocked);
                break;
            default:
                if (StackDropReasons.Of(status) is { } reason) Counters.DropSend(reason);
                break;
        }
        return status;
    }

    private bool SendReply(ReadOnlySpan<byte> frame) => Transmit(frame, reply: true) is SendStatus.Sent or SendStatus.Queued;

    private void Solicit(NetworkAddress target)
    {
        if (!target.IsV6)
        {
            var request = Scratch().AsSpan(0, 60);
            request.Clear();
            EthernetHeader.WriteMac(request, 0xFFFF_FFFF_FFFFUL);
            EthernetHeader.WriteMac(request.Slice(6), Mac);
            BinaryPrimitives.WriteUInt16BigEndian(request.Slice(12), EtherTypeArp);
            var arp = request.Slice(EthernetHeader.Length);
            BinaryPrimitives.WriteUInt16BigEndian(arp, 1);
            BinaryPrimitives.WriteUInt16BigEndian(arp.Slice(2), EtherTypeIpv4);
            arp[4] = 6;
            arp[5] = 4;
            BinaryPrimitives.WriteUInt16BigEndian(arp.Slice(6), 1);
            EthernetHeader.WriteMac(arp.Slice(8), Mac);
            SourceFor(target).Write(arp.Slice(14));
            target.Write(arp.Slice(24));
            Transmit(request, reply: true);
            return;
        }
        // Neighbour solicitation to the target's solicited-node multicast address.
        var low24 = (uint)(target.Value & 0xFF_FFFF);
        var group = new NetworkAddress(((UInt128)0xFF02 << 112) | ((UInt128)1 << 32) | ((UInt128)0xFF << 24) | low24, true);
        var frame = BuildIp(SourceFor(target), group, ProtocolIcmpV6, 32, out var icmp, hopLimit: 255);
        icmp.Clear();
        icmp[0] = 135;
        target.Write(icmp.Slice(8));
        icmp[24] = 1; // source link-layer address option
        icmp[25] = 1;
        EthernetHeader.WriteMac(icmp.Slice(26), Mac);
        SealTransport(frame, 2);
        EthernetHeader.WriteMac(frame, 0x3333_FF00_0000UL | low24);
        Transmit(frame, reply: true);
    }

    private bool RetryResolution(NetworkAddress address, Neighbor neighbor, long now)
    {
        lock (neighbor)
        {
            if (neighbor.Mac != 0 || neighbor.Attempts == 0) return false;
            if (Time.GetElapsedTime(neighbor.SolicitedAt, now) < TimeSpan.FromSeconds(1)) return false;
            if (neighbor.Attempts >= 3)
            {
                while (neighbor.Parked is { Count: > 0 } parked)
                {
                    parked.Dequeue();
                    Counters.DropSend(StackDropReason.Unresolved);
                }
                neighbor.Attempts = 0;
                Interlocked.Decrement(ref _timed);
                return false;
            }
            neighbor.Attempts++;
            neighbor.SolicitedAt = now;
        }
        Solicit(address);
        return true;
    }

    private void Learn(NetworkAddress address, ulong mac)
    {
        if (mac == 0 || (mac & 0x0100_0000_0000UL) != 0) return;
        var neighbor = _neighbors.GetOrAdd(address, static _ => new Neighbor());
        lock (neighbor)
        {
            Volatile.Write(ref neighbor.Mac, mac);
            if (neighbor.Attempts > 0) Interlocked.Decrement(ref _timed);
            neighbor.Attempts = 0;
            while (neighbor.Parked is { Count: > 0 } waiting)
            {
                var parked = waiting.Dequeue();
                EthernetHeader.WriteMac(parked, mac);
                if (_output.Send(parked) is not (SendStatus.Sent or SendStatus.Queued)) Counters.DropSend(StackDropReason.OutputBlocked);
            }
        }
    }

    // A unicast IP packet from a neighbour tells us its MAC (as Solaris' IP does on input).
    private void Glean(NetworkAddress source, ReadOnlySpan<byte> frame)
    {
        if (source.Value == 0) return;
        var mac = EthernetHeader.ReadMac(frame.Slice(6));
        if (_neighbors.TryGetValue(source, out var known) && Volatile.Read(ref known.Mac) == mac) return;
        Learn(source, mac);
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

    // The pseudo-header's addresses are read from the packet's own IP header.
    private static bool ChecksumValid(ReadOnlySpan<byte> packet, ReadOnlySpan<byte> segment, byte protocol, bool allowZero)
    {
        if (allowZero && BinaryPrimitives.ReadUInt16BigEndian(segment.Slice(6)) == 0) return true;
        return (packet[0] >> 4 == 6
            ? InternetChecksum.ComputeV6(packet.Slice(8, 16), packet.Slice(24, 16), protocol, segment)
            : InternetChecksum.ComputeV4(packet.Slice(12, 4), packet.Slice(16, 4), protocol, segment)) == 0;
    }

    private bool Owns(NetworkAddress address)
    {
        foreach (var own in Volatile.Read(ref _addresses))
        {
            if (own == address) return true;
        }
        return false;
    }

    private bool IsSolicitedNodeOrAllNodes(NetworkAddress address)
    {
        if (!address.IsV6) return false;
        if (address.Value == ((UInt128)0xFF02 << 112 | 1)) return true;
        var prefix = ((UInt128)0xFF02 << 112) | ((UInt128)1 << 32) | ((UInt128)0xFF << 24);
        if ((address.Value & ~(UInt128)0xFF_FFFF) != prefix) return false;
        foreach (var own in Volatile.Read(ref _addresses))
        {
            if (own.IsV6 && (own.Value & 0xFF_FFFF) == (address.Value & 0xFF_FFFF)) return true;
        }
        return false;
    }

    private sealed class Neighbor
    {
        public ulong Mac;
        public Queue<byte[]>? Parked;
        public int Attempts;
        public long SolicitedAt;
    }
}
