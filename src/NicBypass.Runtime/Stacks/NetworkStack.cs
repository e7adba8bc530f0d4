using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using NicBypass.Runtime.Packets;

namespace NicBypass.Runtime.Stacks;

/// <summary>
/// The IP and transport layers of a network stack: header checks (version, lengths, checksums,
/// TTL / hop limit), reassembly of fragments and fragmentation past the MTU, ARP and IPv6 neighbour discovery for its own addresses, ICMP and
/// ICMPv6 echo, UDP sockets and TCP connections, with port unreachable / RST for ports nobody
/// serves. A destination's virtual network stack (<see cref="Virtualization.VirtualNetworkStack"/>) runs it
/// behind its serialization queues; a VM runs one as its own guest OS stack.
///
/// Frames arrive untagged (the VNIC removed the VLAN tag) through <see cref="Receive"/>; frames
/// leave through the <see cref="IStackOutput"/>. Timers (TCP retransmission, TIME-WAIT, neighbour
/// resolution) run from <see cref="Tick"/> on the stack's <see cref="TimeProvider"/>, so virtual
/// time drives them in tests. Nothing is allocated per frame.
/// </summary>
public sealed partial class NetworkStack
{
    /// <summary>The first port the stack hands out for its own connections (the IANA dynamic range, to 65535); classifiers let these through.</summary>
    internal const int FirstEphemeralPort = 49152;

    /// <summary>Frames that may wait for one neighbour's MAC to be resolved (Linux's unres_qlen default); the oldest goes first past it.</summary>
    public const int ParkedPerNeighbor = NeighborCache.ParkedPerNeighbor;

    /// <summary>Bytes of frames that may wait for one neighbour's MAC (Linux's unres_qlen_bytes default); the oldest goes first past it.</summary>
    public const int ParkedBytesPerNeighbor = NeighborCache.ParkedBytesPerNeighbor;

    [ThreadStatic] private static byte[]? t_frame;

    private readonly IStackOutput _output;
    private readonly NeighborCache _neighbors;
    private readonly PortTable<UdpSocket> _udp = new();
    private readonly PortTable<TcpListener> _listeners = new();
    private readonly ConcurrentDictionary<TcpKey, TcpConnection> _connections = new();
    private readonly HashSet<int>? _ports;
    private readonly Lock _bind = new();
    private NetworkAddress[] _addresses;
    private int _nextEphemeral = FirstEphemeralPort;
    private int _timed; // open connections: Tick has nothing to do at 0 (nor while no neighbour is solicited)
    private TcpConnection[] _timedConnections = [];     // the open connections, for the timer walks
    private readonly Lock _timedLock = new();
    private long _connectionsDue = long.MaxValue;       // no connection timer falls due before this
    private bool _outputRetry;
    private int _retryTurn; // where the next retrying walk of the connections starts (Tick, on one thread)
    private int _ipId;
    private uint _issCounter;

    internal NetworkStack(ulong mac, IEnumerable<IPAddress> addresses, int mtu, TimeProvider time, IStackOutput output, StackSettings? settings = null, bool concurrentReceive = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(mtu, 576);
        // A TCP buffer (and the out-of-order queue's power-of-two copy of it) stays well inside an int.
        if (settings is { TcpBuffer: < 1024 or > 1 << 28 }) throw new ArgumentOutOfRangeException(nameof(settings), $"TcpBuffer {settings.TcpBuffer}: 1 KiB to 256 MiB");
        if (settings is { TcpBufferLimit: < 1024 or > 1 << 28 }) throw new ArgumentOutOfRangeException(nameof(settings), $"TcpBufferLimit {settings.TcpBufferLimit}: 1 KiB to 256 MiB");
        Mac = mac;
        Mtu = mtu;
        Time = time;
        _output = output;
        Settings = settings ?? new StackSettings();
        _ports = Settings.Ports is { } ports ? new HashSet<int>(ports) : null;
        _addresses = addresses.Select(NetworkAddress.From).Distinct().ToArray();
        Counters = new StackCounters(concurrentReceive);
        _neighbors = new NeighborCache(this);
        CookieKey = MakeCookieKey(time, mac);
    }

    /// <summary>The MAC it answers ARP and neighbour solicitations with, and sends from.</summary>
    public ulong Mac { get; }

    public int Mtu { get; }

    public TimeProvider Time { get; }

    public StackSettings Settings { get; }

    public StackCounters Counters { get; }

    /// <summary>Where its frames go.</summary>
    internal IStackOutput Output => _output;

    public IReadOnlyList<NetworkAddress> Addresses => Volatile.Read(ref _addresses);

    /// <summary>Open TCP connections (any state but closed).</summary>
    public int ConnectionCount => _connections.Count;

    /// <summary>Its TCP connections now (any state).</summary>
    internal IEnumerable<TcpConnection> Connections => _connections.Values;

    private DhcpClient? _dhcp;

    // When the DHCP client next acts (long.MaxValue: none, or nothing to do).
    private long DhcpDue => Volatile.Read(ref _dhcp)?.NextDue ?? long.MaxValue;

    /// <summary>Its DHCP client (<c>ip dhcp</c>), once started.</summary>
    internal DhcpClient? Dhcp => Volatile.Read(ref _dhcp);

    /// <summary>Starts learning an IPv4 address, subnet and router by DHCP (RFC 2131: a DISCOVER at its next tick) and IPv6 addresses by SLAAC (RFC 4862: the link-local address's detection at its next tick, then router solicitations).</summary>
    internal void StartDhcp()
    {
        var client = Interlocked.CompareExchange(ref _dhcp, new DhcpClient(this), null) ?? _dhcp!;
        client.Start();
        var slaac = Interlocked.CompareExchange(ref _slaac, new SlaacClient(this), null) ?? _slaac!;
        slaac.Start(); // and IPv6's, from routers' advertisements (RFC 4862)
    }

    private SlaacClient? _slaac;

    // When the address autoconfiguration next acts (long.MaxValue: none, or nothing to do).
    private long SlaacDue => Volatile.Read(ref _slaac)?.NextDue ?? long.MaxValue;

    /// <summary>Its IPv6 address autoconfiguration (<c>ip dhcp</c>), once started.</summary>
    internal SlaacClient? Slaac => Volatile.Read(ref _slaac);

    /// <summary>The IPv6 addresses it configured from routers' advertisements (RFC 4862; not its link-local one), and its router from them; empty and null without <c>ip dhcp</c> or before an advertisement.</summary>
    public (IReadOnlyList<NetworkAddress> Addresses, NetworkAddress? Router) Autoconfigured =>
        Volatile.Read(ref _slaac)?.Learned ?? (Array.Empty<NetworkAddress>(), null);

    /// <summary>The IPv4 address a DHCP lease gave it now, with the prefix length; null without one.</summary>
    public (NetworkAddress Address, int PrefixLength)? DhcpLease => Volatile.Read(ref _dhcp)?.Lease is { } lease ? (lease.Address, lease.PrefixLength) : null;

    /// <summary>
    /// Gives its DHCP lease back to the server (a DHCPRELEASE, RFC 2131 4.4.6) and stops its DHCP
    /// client: done when the host stops for good, so the server may lease the address again at
    /// once (<c>nicbypass run</c> does it at exit). False without a lease.
    /// </summary>
    public bool ReleaseDhcpLease()
    {
        if (Volatile.Read(ref _dhcp) is not { } dhcp) return false;
        using var call = EnterTransport(); // an application's call: in the threaded mode its frame leaves when it ends
        return dhcp.GiveBack();
    }

    /// <summary>The router its DHCP lease named, if it has a lease and the lease named one on its subnet.</summary>
    public NetworkAddress? DhcpRouter => Volatile.Read(ref _dhcp)?.Lease?.Router;

    /// <summary>Adds an address (static, or learned at run time for <c>ip dhcp</c>).</summary>
    public void AddAddress(NetworkAddress address)
    {
        lock (_bind)
        {
            if (!_addresses.Contains(address)) Volatile.Write(ref _addresses, _addresses.Append(address).ToArray());
        }
    }

    /// <summary>Multicast groups it has joined: UDP datagrams sent to them are delivered like its own.</summary>
    public IReadOnlyList<NetworkAddress> Groups => Volatile.Read(ref _groups);

    private NetworkAddress[] _groups = Array.Empty<NetworkAddress>();

    /// <summary>Joins multicast group <paramref name="group"/> (224.0.0.0/4 or ff00::/8): UDP datagrams to it reach its sockets.</summary>
    public void JoinGroup(NetworkAddress group)
    {
        var multicast = group.IsV6 ? group.Value >> 120 == 0xFF : (uint)group.Value >> 28 == 0xE;
        if (!multicast) throw new ArgumentException($"{group} is not a multicast group", nameof(group));
        lock (_bind)
        {
            if (!_groups.Contains(group)) Volatile.Write(ref _groups, _groups.Append(group).ToArray());
        }
    }

    private bool Joined(NetworkAddress address)
    {
        foreach (var group in Volatile.Read(ref _groups))
        {
            if (group == address) return true;
        }
        return false;
    }

    /// <summary>Learns (or overrides) a neighbour's MAC, as a static ARP / neighbour cache entry.</summary>
    public void AddNeighbor(NetworkAddress address, ulong mac) => _neighbors.AddStatic(address, mac);

    /// <summary>Neighbour cache entries now (bounded: at most 1,024).</summary>
    public int NeighborCount => _neighbors.Count;

    /// <summary>A neighbour is being resolved or probed (its timer may run).</summary>
    internal bool NeighborsResolving => _neighbors.Resolving;

    /// <summary>A transport saw forward progress with <paramref name="destination"/>: the neighbour it goes through is reachable (RFC 4861 7.3.1).</summary>
    internal void ConfirmProgress(NetworkAddress destination) => _neighbors.ConfirmProgress(NextHop(destination));

    /// <summary>The MAC the stack would send to <paramref name="address"/> now (0: none known).</summary>
    public ulong NeighborMac(NetworkAddress address) => _neighbors.Lookup(address).Mac;

    /// <summary>Whether a solicited answer confirmed <paramref name="address"/>'s MAC within the reachable time (RFC 4861's REACHABLE), or it is static.</summary>
    public bool NeighborIsReachable(NetworkAddress address) => _neighbors.Lookup(address).Reachable;

    internal bool OwnsAddress(NetworkAddress address) => Owns(address);

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
        // RFC 1122 4.2.3.10: an open to a broadcast or multicast address fails.
        if (remote.Address.IsGroup || IsSubnetBroadcast(remote.Address)) throw new ArgumentException($"{remote.Address} is a {(remote.Address.IsGroup ? "group" : "subnet's broadcast")} address: TCP connects to one host", nameof(remote));
        // No loopback here: a connection to its own address would leave on the wire and come back as another's.
        if (Owns(remote.Address)) throw new ArgumentException($"{remote.Address} is this stack's own address: it has no loopback to connect over; connect from another VM, container or service", nameof(remote));
        TcpConnection connection;
        lock (_bind)
        {
            var local = NextEphemeral(p => _listeners.ContainsKey(p) || _connections.ContainsKey(new TcpKey(remote.Address, remote.Port, p)));
            var source = SourceFor(remote.Address);
            connection = new TcpConnection(this, source, local, remote, NextIss(source, local, remote));
            Register(connection);
        }
        using (EnterTransport()) connection.Open();
        return connection;
    }

    internal void Unbind(UdpSocket socket) => _udp.TryRemove(socket.Port, socket);

    /// <summary>
    /// Its host is disposed: every connection ends as aborted, with no RST (the machine is gone,
    /// not the application: what waits on it — a read, a connect, a send — returns), and every
    /// socket and listener closes (what waits on them throws <see cref="ObjectDisposedException"/>).
    /// </summary>
    internal void Shutdown()
    {
        foreach (var connection in _connections.Values.ToArray()) connection.Vanish();
        foreach (var socket in _udp.Values.ToArray()) socket.Close();
        foreach (var listener in _listeners.Values.ToArray()) listener.Stop();
    }

    internal void Unbind(TcpListener listener) => _listeners.TryRemove(listener.Port, listener);

    // The connection the last segment was delivered to (ReceiveTcp); a forgotten one is never used.
    private TcpConnection? _recentConnection;

    internal void Forget(TcpConnection connection)
    {
        connection.Forgotten = true; // before it leaves the table: the recent one is looked up afresh
        Interlocked.CompareExchange(ref _recentConnection, null, connection);
        if (_connections.TryRemove(new KeyValuePair<TcpKey, TcpConnection>(connection.Key, connection)))
        {
            RemoveTimed(connection);
            Interlocked.Decrement(ref _timed);
        }
        Interlocked.Add(ref _bufferGrowth, -connection.TakeGrowth()); // what its buffers grew by is the others' again
    }

    private long _bufferGrowth;

    /// <summary>Bytes the connections' buffers have grown by beyond <see cref="StackSettings.TcpBuffer"/> (autotuning), within <see cref="StackSettings.TcpBufferBudget"/>.</summary>
    public long BufferGrowth => Interlocked.Read(ref _bufferGrowth);

    /// <summary>Takes <paramref name="bytes"/> of the stack's buffer budget for a connection's buffer to grow; false when they would exceed it.</summary>
    internal bool TryTakeBufferGrowth(long bytes)
    {
        var budget = Settings.TcpBufferBudget ?? StackSettings.DefaultTcpBufferBudget;
        while (true)
        {
            var taken = Interlocked.Read(ref _bufferGrowth);
            if (taken + bytes > budget) return false;
            if (Interlocked.CompareExchange(ref _bufferGrowth, taken + bytes, taken) == taken) return true;
        }
    }

    // RFC 6528: M + F(addresses, ports, key) — a clock of about 4 µs plus the keyed hash of the
    // connection — and a count, so two connections of one pair at one virtual instant differ. It
    // was the count and the clock alone: one connection's ISN told the next's within a few
    // hundred guesses (found by review).
    internal uint NextIss(NetworkAddress local, ushort localPort, NetworkEndpoint remote) =>
        SynCookie.SequenceOffset(CookieKey, remote.Address, remote.Port, local, localPort)
        + (uint)(Time.GetTimestamp() / Math.Max(1, Time.TimestampFrequency / 250_000))
        + (uint)Interlocked.Increment(ref _issCounter) * 0x01000193u;

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
        for (var i = 0; i < 65536 - FirstEphemeralPort; i++)
        {
            var port = (ushort)_nextEphemeral;
            _nextEphemeral = _nextEphemeral == 65535 ? FirstEphemeralPort : _nextEphemeral + 1;
            if (!taken(port)) return port;
        }
        throw new InvalidOperationException("no ephemeral port is free");
    }

    private void RequireProtocol(StackProtocols protocol, string name)
    {
        if ((Settings.Protocols & protocol) == 0)
        {
            throw new InvalidOperationException($"the stack does not serve {name} (protocols: {Settings.Protocols}); in the .nicdsl file, add it to the container's or service's 'protocols' line (e.g. 'protocols {name.ToLowerInvariant()}') and its port to 'ports'");
        }
    }

    /// <summary>
    /// Processes one received Ethernet frame (untagged). The span is only read during the call.
    /// <paramref name="sealedByStack"/>: one of the host's own stacks built these very bytes and
    /// sealed their checksums (the NIC's receive checksum offload says so): a UDP or TCP packet
    /// taken at once is not summed again; one that waits in a VSQ is, when it is taken.
    /// </summary>
    internal void Receive(ReadOnlySpan<byte> frame, bool sealedByStack = false)
    {
        Counters.Add(ref Counters._received);
        if (frame.Length < EthernetHeader.Length)
        {
            Counters.Drop(StackDropReason.Malformed);
            return;
        }
        if ((frame[6] & 1) != 0)
        {
            Counters.Drop(StackDropReason.InvalidSource); // a group MAC is never a sender's (IEEE 802)
            return;
        }
        switch (BinaryPrimitives.ReadUInt16BigEndian(frame.Slice(12)))
        {
            case EtherType.Arp: ReceiveArp(frame); break;
            case EtherType.Ipv4: ReceiveIpv4(frame, sealedByStack); break;
            case EtherType.Ipv6: ReceiveIpv6(frame, sealedByStack); break;
            default: Counters.Drop(StackDropReason.Unsupported); break;
        }
    }

    /// <summary>
    /// Where IP hands UDP and TCP packets to the transport layer: a VNS's inbound serialization
    /// queue, which sits between the two (null: straight on, as in a VM's guest stack).
    /// </summary>
    internal ITransportEntry? TransportEntry { get; set; }

    /// <summary>
    /// Told when one of its timers is armed (a retransmission, a pacing turn, TIME-WAIT, a
    /// neighbour solicitation): whoever runs the stack's timers (a VNS's workers, a VM's vCPU) is
    /// woken, whichever thread or processor armed it — an application's send, another stack's
    /// handler, a continuation.
    /// </summary>
    internal Action? TimerArmed { get; set; }

    /// <summary>The gate of the serialization queue the transport layer runs in (a VNS's inbound VSQ); application calls enter it too.</summary>
    internal SerializationGate? TransportGate { get; set; }

    /// <summary>Enters the transport layer's serialization gate (if it has one) for an application call; dispose to leave.</summary>
    internal ApplicationCall EnterTransport() => new(TransportGate);

    /// <summary>
    /// The transport half of <see cref="Receive"/>, for a frame IP has checked already and handed
    /// to <see cref="TransportEntry"/>: UDP to sockets, TCP segments to connections, fragments to
    /// the reassembly (the whole datagram, echo requests too, processed here in the VSQ).
    /// </summary>
    internal void ReceiveTransport(ReadOnlySpan<byte> frame)
    {
        // IP checked the headers already: they are read again, not checked.
        ReadOnlySpan<byte> packet, payload, source, destination;
        byte protocol;
        if (BinaryPrimitives.ReadUInt16BigEndian(frame.Slice(12)) == EtherType.Ipv4)
        {
            Ipv4Header.TryRead(frame.Slice(EthernetHeader.Length), out var ip);
            if (ip.IsFragment)
            {
                ReceiveFragment(frame);
                return;
            }
            packet = ip.Packet;
            payload = ip.Payload;
            source = ip.Source;
            destination = ip.Destination;
            protocol = ip.Protocol;
        }
        else
        {
            Ipv6Header.TryRead(frame.Slice(EthernetHeader.Length), out var ip);
            if (ip.NextHeader == IpProtocol.Ipv6Fragment)
            {
                ReceiveFragment(frame);
                return;
            }
            packet = ip.Packet;
            payload = ip.Payload;
            source = ip.Source;
            destination = ip.Destination;
            protocol = ip.NextHeader;
        }
        var to = NetworkAddress.Read(destination);
        if (protocol == IpProtocol.Udp) ReceiveUdp(packet, payload, NetworkAddress.Read(source), to, ToGroup(frame, to));
        else ReceiveTcp(packet, payload, NetworkAddress.Read(source), to, ToGroup(frame, to));
    }

    /// <summary>Counts a packet IP passed on that the transport layer could not take (a full inbound VSQ).</summary>
    internal void CountUnprocessed(StackDropReason reason) => Counters.DropShared(reason);

    /// <summary>
    /// A timer may be due now: what <see cref="Tick"/> would act on (the connections' bound
    /// reached, a refused segment to retry, a neighbour's solicitation or probe due, a datagram's
    /// reassembly time run out, the DHCP client's next step). A worker looks before
    /// entering the VSQ to tick, so an armed timer far off costs no entry per poll.
    /// </summary>
    internal bool TimersDue
    {
        get
        {
            var now = Time.GetTimestamp();
            return ResetsWaiting || ConnectionsDue(now) || _neighbors.DueBy(now) || now >= ReassemblyDue || now >= DhcpDue || now >= SlaacDue;
        }
    }

    // The connections' walk may find a timer due: their lower bound is reached, or one waits to
    // retry a segment its outbound VSQ refused.
    private bool ConnectionsDue(long now) =>
        Volatile.Read(ref _timed) != 0 && (now >= Volatile.Read(ref _connectionsDue) || Volatile.Read(ref _outputRetry));

    /// <summary>When its next timer falls due (a connection's, a neighbour solicitation's, a reassembly's, the DHCP or SLAAC client's), in the clock's timestamps; <see cref="long.MaxValue"/> for none.</summary>
    internal long NextDue()
    {
        var due = Math.Min(Math.Min(_neighbors.NextDue(), ReassemblyDue), Math.Min(DhcpDue, SlaacDue));
        if (Volatile.Read(ref _timed) == 0) return due;
        // The connections' lower bound, not a walk under each connection's lock: the schedulers ask
        // every round. It is at or before every armed timer; one cancelled or pushed later leaves
        // it early, and the walk at that time (Tick) puts it right. (A refused segment's retry
        // is not a deadline: the outbound VSQ's room, when it drains, is what wakes the stack.)
        return Math.Min(due, Volatile.Read(ref _connectionsDue));
    }

    /// <summary>Runs due timers (TCP retransmission and TIME-WAIT, neighbour resolution, reassembly time-outs, DHCP, SLAAC); true if any acted (sent, or gave something up).</summary>
    internal bool Tick()
    {
        var sentResets = ResetsWaiting && SendWaitingResets();
        if (Volatile.Read(ref _timed) == 0 && !_neighbors.Resolving && ReassemblyDue == long.MaxValue && DhcpDue == long.MaxValue && SlaacDue == long.MaxValue) return false;
        var progress = false;
        var now = Time.GetTimestamp();
        if (Volatile.Read(ref _dhcp) is { } dhcp) progress |= dhcp.OnTimer(now);
        if (Volatile.Read(ref _slaac) is { } slaac) progress |= slaac.OnTimer(now);
        if (Volatile.Read(ref _reassembly) is { } reassembly) progress |= reassembly.Expire(now);
        // The connections are walked only when one of their timers may be due (the bound is at
        // or before every armed one) or one waits to retry a refused segment: a bulk transfer
        // arms a timer per ACK, and the walk, each connection under its lock, was a tenth of it.
        if (ConnectionsDue(now))
        {
            // Arms from here on lower it again. A full fence: the walk's snapshot of the connections
            // must not be read before this write (a connection added meanwhile would be missed).
            Interlocked.Exchange(ref _connectionsDue, long.MaxValue);
            var retrying = Volatile.Read(ref _outputRetry);
            Volatile.Write(ref _outputRetry, false);
            var next = long.MaxValue;
            var retry = false;
            // Connections the output refused retry in turn: the walk starts one further on each
            // time, so the first to retry — the one that takes what the output has room for —
            // is a different one (always starting at the first, one connection took every refill
            // of a VM's outbound allocation while the others waited for it to finish).
            var connections = Volatile.Read(ref _timedConnections);
            var first = retrying && connections.Length > 1 ? (int)((uint)_retryTurn++ % (uint)connections.Length) : 0;
            for (var k = 0; k < connections.Length; k++)
            {
                var connection = connections[first + k < connections.Length ? first + k : first + k - connections.Length];
                progress |= connection.OnTimer(now);
                next = Math.Min(next, connection.NextDue());
                retry |= connection.OutputBlocked;
            }
            ConnectionTimerArmed(next);
            if (retry) OutputRetryWanted();
        }
        if (_neighbors.Resolving) progress |= _neighbors.RetryDue(now);
        return progress | sentResets;
    }

    // RSTs of connections already closed (an abort, a stopped listener's queue) that the output
    // refused: nothing would ever send them again, and the peer stayed established for ever
    // (found by a stress drive). They wait here, oldest first, and go as the output takes them.
    private readonly Queue<byte[]> _waitingResets = new(); // under itself
    private volatile bool _resetsWaiting;

    /// <summary>At most this many refused RSTs wait; past it the oldest is dropped, counted as output-blocked.</summary>
    internal const int WaitingResetsLimit = 1024;

    private bool ResetsWaiting => _resetsWaiting;

    /// <summary>A connection's RST the output refused: kept, and sent at the next tick the output takes it.</summary>
    internal void ResetRefused(ReadOnlySpan<byte> frame)
    {
        lock (_waitingResets)
        {
            if (_waitingResets.Count == WaitingResetsLimit)
            {
                _waitingResets.Dequeue();
                Counters.DropSend(StackDropReason.OutputBlocked);
            }
            _waitingResets.Enqueue(frame.ToArray());
            _resetsWaiting = true;
        }
        OutputRetryWanted();
    }

    private bool SendWaitingResets()
    {
        var sent = false;
        lock (_waitingResets)
        {
            while (_waitingResets.TryPeek(out var frame))
            {
                var status = TransmitFrame(frame, reply: false);
                if (status == SendStatus.Blocked) break; // still full: the next tick tries again
                _waitingResets.Dequeue();
                if (status is SendStatus.Sent or SendStatus.Queued) StackCounters.AddShared(ref Counters._resets);
                sent = true;
            }
            _resetsWaiting = _waitingResets.Count > 0;
        }
        return sent;
    }

    /// <summary>A connection armed a timer due at <paramref name="due"/>: the next <see cref="Tick"/> at or after it walks the connections.</summary>
    internal void ConnectionTimerArmed(long due)
    {
        long seen;
        while (due < (seen = Volatile.Read(ref _connectionsDue)) && Interlocked.CompareExchange(ref _connectionsDue, due, seen) != seen)
        {
        }
    }

    /// <summary>A connection's segment was refused by the outbound VSQ: the next <see cref="Tick"/> walks the connections to retry it.</summary>
    internal void OutputRetryWanted()
    {
        Volatile.Write(ref _outputRetry, true);
        TimerArmed?.Invoke(); // whoever runs this stack's timers looks again, and learns when to retry
    }

    /// <summary>A connection waits to retry a segment its output refused (the next <see cref="Tick"/> retries it).</summary>
    internal bool OutputRetryPending => Volatile.Read(ref _outputRetry);

    // Copy-on-write: added and removed rarely, read on every tick.
    private void AddTimed(TcpConnection connection)
    {
        lock (_timedLock) Volatile.Write(ref _timedConnections, [.. _timedConnections, connection]);
    }

    private void RemoveTimed(TcpConnection connection)
    {
        lock (_timedLock) Volatile.Write(ref _timedConnections, Array.FindAll(_timedConnections, c => c != connection));
    }


    // A unicast IP packet from a neighbour tells us its MAC; one sent to a link-layer group (a
    // broadcast, a multicast anyone on the link may send) teaches nothing — it made a stale entry
    // for whatever source a flood of broadcasts claimed, pushing real ones out of a full cache.
    private void Glean(NetworkAddress source, ReadOnlySpan<byte> frame)
    {
        if (!LinkGroup(frame)) _neighbors.Glean(source, EthernetHeader.ReadMac(frame.Slice(6)));
    }

    private bool Owns(NetworkAddress address)
    {
        foreach (var own in Volatile.Read(ref _addresses))
        {
            if (own == address) return true;
        }
        return false;
    }

}
