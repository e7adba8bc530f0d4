using NicBypass.Runtime.Accounting;
namespace NicBypass.Runtime.Stacks;

/// <summary>
/// What a stack did with the frames it received and sent. Every received frame ends in exactly
/// one of <see cref="Delivered"/> (to a socket or connection), <see cref="Answered"/> (ARP,
/// neighbour solicitation, echo) or a drop reason, except IP fragments: one waits in the
/// reassembly (<see cref="FragmentsHeld"/>) until its datagram is whole, when every fragment but
/// the last is joined into it (<see cref="FragmentsJoined"/>) and the last one's frame carries the
/// datagram on. Received = Delivered + Answered + dropped + FragmentsJoined + FragmentsHeld.
/// The receive side is counted with plain adds where one thread at a time processes (a TCP
/// stack's mutually exclusive VSQ, a VM's guest), with interlocked adds where several may (a
/// UDP-only stack); the send side, which application threads reach, always with interlocked adds.
/// </summary>
public sealed class StackCounters
{
    private bool _atomic;

    internal StackCounters(bool concurrentReceive) => _atomic = concurrentReceive;

    /// <summary>Receive-side counts with interlocked adds (several threads may count at once) or plain ones.</summary>
    internal bool Shared
    {
        get => _atomic;
        set => _atomic = value;
    }

    private readonly long[] _dropped = new long[StackDropReasons.All.Length];
    private readonly long[] _sendDropped = new long[StackDropReasons.All.Length];
    internal long _received, _delivered, _answered, _sent, _arpReplies, _echoReplies, _udpEchoes, _neighborAdvertisements, _portUnreachables, _resets, _retransmissions, _outOfOrderHeld, _echoRepliesReceived, _synQueueOverflows, _neighborsUnreachable, _parameterProblems, _timeExceeded, _fragmentsHeld, _fragmentsJoined, _reassembled, _fragmented, _packetTooBig, _synCookiesSent, _synCookiesAccepted, _synCookiesRejected, _retransmissionTimeouts, _checksumsOffloaded, _slowStartTrainExits, _slowStartDelayExits, _connectionsTimedOut;

    public long Received => Volatile.Read(ref _received);

    /// <summary>UDP and TCP packets taken without summing their checksum again: one of the host's own stacks had sealed those very bytes (the NIC's receive checksum offload).</summary>
    internal long ChecksumsOffloaded => Volatile.Read(ref _checksumsOffloaded);

    /// <summary>Datagrams and segments handed to sockets and connections.</summary>
    public long Delivered => Volatile.Read(ref _delivered);

    /// <summary>Frames the stack answered itself: ARP, neighbour solicitations, echo requests, (VMs) UDP echo.</summary>
    public long Answered => Volatile.Read(ref _answered);

    /// <summary>Frames handed to the output (sent or queued).</summary>
    public long Sent => Volatile.Read(ref _sent);

    /// <summary>ARP replies sent, answering requests for the stack's own IPv4 addresses.</summary>
    public long ArpRepliesSent => Volatile.Read(ref _arpReplies);

    /// <summary>ICMP / ICMPv6 echo replies sent, answering pings of the stack's addresses.</summary>
    public long EchoRepliesSent => Volatile.Read(ref _echoReplies);

    /// <summary>ICMP / ICMPv6 echo replies received, answering the stack's own <see cref="NetworkStack.SendEchoRequest"/>.</summary>
    public long EchoRepliesReceived => Volatile.Read(ref _echoRepliesReceived);

    /// <summary>UDP datagrams a VM's guest echoed back (its built-in echo service, on any port).</summary>
    public long UdpEchoesSent => Volatile.Read(ref _udpEchoes);

    /// <summary>Neighbour advertisements sent, answering solicitations for the stack's IPv6 addresses.</summary>
    public long NeighborAdvertisementsSent => Volatile.Read(ref _neighborAdvertisements);

    /// <summary>ICMP / ICMPv6 port unreachable messages sent.</summary>
    public long PortUnreachablesSent => Volatile.Read(ref _portUnreachables);

    /// <summary>ICMPv6 Parameter Problems sent (an extension header or option the stack cannot process, RFC 8200 4).</summary>
    public long ParameterProblemsSent => Volatile.Read(ref _parameterProblems);

    /// <summary>ICMP / ICMPv6 Time Exceeded messages sent (code 1: a datagram's fragments did not all come in time).</summary>
    public long TimeExceededSent => Volatile.Read(ref _timeExceeded);

    /// <summary>IP fragments waiting now for the rest of their datagram.</summary>
    public long FragmentsHeld => Volatile.Read(ref _fragmentsHeld);

    /// <summary>IP fragments joined into a reassembled datagram (every fragment but the one that completed it, whose frame the datagram is counted as).</summary>
    public long FragmentsJoined => Volatile.Read(ref _fragmentsJoined);

    /// <summary>Path MTU discovery's messages (ICMP fragmentation needed, ICMPv6 Packet Too Big) a TCP connection shrank its segments for.</summary>
    public long PacketTooBigTaken => Volatile.Read(ref _packetTooBig);

    /// <summary>IP datagrams reassembled from fragments.</summary>
    public long DatagramsReassembled => Volatile.Read(ref _reassembled);

    /// <summary>IP datagrams it sent in fragments (each longer than the MTU; every fragment is also counted in <see cref="Sent"/>).</summary>
    public long DatagramsFragmented => Volatile.Read(ref _fragmented);

    /// <summary>TCP RSTs sent (closed ports, aborts).</summary>
    public long ResetsSent => Volatile.Read(ref _resets);

    /// <summary>TCP segments sent again after a timeout or three duplicate ACKs.</summary>
    public long Retransmissions => Volatile.Read(ref _retransmissions);

    /// <summary>TCP retransmission timeouts that fired on data (Linux's TCPTimeouts; a zero window's probes are not counted): each a loss the faster repairs did not find.</summary>
    public long RetransmissionTimeouts => Volatile.Read(ref _retransmissionTimeouts);

    /// <summary>TCP connections given up after their retransmissions went unanswered — established ones, and handshakes (a connect's SYN after 6 tries, a request's SYN-ACK after 5): Linux's TCPAbortOnTimeout.</summary>
    public long ConnectionsTimedOut => Volatile.Read(ref _connectionsTimedOut);

    /// <summary>TCP slow starts HyStart ended by a round's ACK train lasting the least round trip (Linux's TCPHystartTrainDetect).</summary>
    public long SlowStartTrainExits => Volatile.Read(ref _slowStartTrainExits);

    /// <summary>TCP slow starts HyStart ended by a round's round trips growing by a queue (Linux's TCPHystartDelayDetect).</summary>
    public long SlowStartDelayExits => Volatile.Read(ref _slowStartDelayExits);

    /// <summary>TCP segments ahead of a gap held in a connection's out-of-order queue until the gap filled (each is also delivered).</summary>
    public long OutOfOrderHeld => Volatile.Read(ref _outOfOrderHeld);

    /// <summary>
    /// Half-open TCP connections pushed out of a full SYN queue by newer SYNs (a SYN flood's mark;
    /// Linux counts these as TCPReqQFullDrop). The SYN that pushed one out was admitted.
    /// </summary>
    public long SynQueueOverflows => Volatile.Read(ref _synQueueOverflows);

    /// <summary>SYN-ACKs sent as SYN cookies, with no half-open connection kept (Linux's SyncookiesSent); each SYN is counted as answered.</summary>
    public long SynCookiesSent => Volatile.Read(ref _synCookiesSent);

    /// <summary>Connections made from an ACK that brought a SYN cookie back (Linux's SyncookiesRecv).</summary>
    public long SynCookiesAccepted => Volatile.Read(ref _synCookiesAccepted);

    /// <summary>ACKs to a listening port, after cookies went, that carried no valid cookie (Linux's SyncookiesFailed): reset as any stray ACK.</summary>
    public long SynCookiesRejected => Volatile.Read(ref _synCookiesRejected);

    /// <summary>Neighbour entries deleted because three unicast probes went unanswered (RFC 4861's unreachability detection).</summary>
    public long NeighborsUnreachable => Volatile.Read(ref _neighborsUnreachable);

    /// <summary>Received frames dropped for <paramref name="reason"/>.</summary>
    public long Dropped(StackDropReason reason) => Volatile.Read(ref _dropped[(int)reason]);

    public long DroppedTotal => _dropped.Sum();

    /// <summary>Frames the stack meant to send but could not, for <paramref name="reason"/>.</summary>
    public long SendDropped(StackDropReason reason) => Volatile.Read(ref _sendDropped[(int)reason]);

    public long SendDroppedTotal => _sendDropped.Sum();

    /// <summary>Frames for other addresses or of kinds the stack does not handle.</summary>
    public long Ignored => Dropped(StackDropReason.NotForUs) + Dropped(StackDropReason.Unsupported);

    /// <summary>Frames with a damaged header.</summary>
    public long Malformed => Dropped(StackDropReason.Malformed);

    /// <summary>Frames the stack could not send (blocked output, spoofing, unresolved neighbour).</summary>
    public long SendFailures => SendDroppedTotal;

    /// <summary>Non-zero drop counts by report name.</summary>
    public IReadOnlyList<KeyValuePair<string, long>> Drops() => ByReason(Dropped);

    /// <summary>Drops on the way out by reason (as <see cref="Drops"/> does for the way in).</summary>
    public IReadOnlyList<KeyValuePair<string, long>> SendDrops() => ByReason(SendDropped);

    private static IReadOnlyList<KeyValuePair<string, long>> ByReason(Func<StackDropReason, long> count) =>
        StackDropReasons.All.Where(r => count(r) > 0).Select(r => new KeyValuePair<string, long>(StackDropReasons.Name(r), count(r))).ToReportList();

    /// <summary>The counts a failed assertion wants to see: received, delivered, answered, sent, and the drops each way by reason.</summary>
    public override string ToString() =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"received {Received}, delivered {Delivered}, answered {Answered}, sent {Sent}, dropped {Drops()}, send-dropped {SendDrops()}, retransmissions {Retransmissions}");

    internal void Drop(StackDropReason reason) => Add(ref _dropped[(int)reason]);

    internal void DropShared(StackDropReason reason) => Interlocked.Increment(ref _dropped[(int)reason]);

    internal void DropSend(StackDropReason reason) => Interlocked.Increment(ref _sendDropped[(int)reason]);

    /// <summary>A receive-side count.</summary>
    internal void Add(ref long counter)
    {
        if (_atomic) Interlocked.Increment(ref counter);
        else counter++;
    }

    /// <summary>A send-side count (application threads send).</summary>
    internal static void AddShared(ref long counter) => Interlocked.Increment(ref counter);
}
