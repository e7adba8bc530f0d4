namespace NicBypass.Runtime.Stacks;

/// <summary>
/// How a network stack (a destination's VNS, or a VM's own guest stack) is set up.
/// </summary>
/// <param name="Protocols">Transports served; TCP present makes a VNS's serialization queues mutually exclusive.</param>
/// <param name="Ports">Ports sockets and listeners may bind (a destination's <c>ports</c>); null: any port (a VM's own OS).</param>
/// <param name="InboundThreshold">Most frames the inbound VSQ holds; at the threshold it stops taking frames from its ring until it drains.</param>
/// <param name="OutboundCapacity">Most frames the outbound VSQ holds while they wait for bandwidth or a transmit ring; past it, senders block.</param>
/// <param name="Bidirectional">One serialization queue policy (and one gate) for both directions instead of one per direction.</param>
/// <param name="EchoUdp">Echo datagrams to ports without a socket (the VM guest's echo service) instead of answering port unreachable.</param>
/// <param name="SocketQueue">Datagrams a UDP socket (or connections a listener) holds until read.</param>
/// <param name="TcpBuffer">Bytes of each TCP connection's send and receive buffer (the receive buffer is the advertised window; <see cref="DefaultTcpBuffer"/>, taken on a connection's first byte).</param>
/// <param name="RetransmissionTimeout">TCP's first retransmission timeout; doubled on each further timeout.</param>
/// <param name="TimeWait">How long a TCP connection stays in TIME-WAIT (2 MSL).</param>
/// <param name="SynBacklog">Half-open TCP connections a listener holds (Linux's tcp_max_syn_backlog; 1,024, Linux's least on a machine with memory to speak of: a burst of 1,000 connections gets no cookies, whose lost first ACK and data lost the connection — found by a user's drive); a SYN past it gets a SYN cookie (<paramref name="SynCookies"/>), or with cookies off pushes out the oldest.</param>
/// <param name="TcpBufferLimit">How far a connection's buffers may grow (Linux's buffer autotuning, up to tcp_rmem's and tcp_wmem's maxima; <see cref="DefaultTcpBufferLimit"/>): the receive buffer with what its application reads each round trip, the send buffer while it alone holds the flight back; a <paramref name="TcpBuffer"/> at or above it is not tuned.</param>
/// <param name="TcpBufferBudget">Bytes all of the stack's connections together may grow their buffers by beyond <paramref name="TcpBuffer"/> (Linux's tcp_mem, per stack here; <see cref="DefaultTcpBufferBudget"/>): past it a buffer stays as it is until a grown connection ends.</param>
/// <param name="SelectiveAcknowledgment">Whether TCP offers and accepts SACK (RFC 2018; Linux's tcp_sack): off, a loss is repaired by NewReno (RFC 6582): the lost segment alone, then each partial ACK's.</param>
/// <param name="SynCookies">When a listener answers a SYN with a SYN cookie instead of a half-open connection (Linux's tcp_syncookies; <see cref="SynCookieMode.OnOverflow"/>: when the SYN queue is full).</param>
/// <param name="DelayedAcknowledgment">How long TCP may hold the ACK of one full-sized segment waiting for a second (RFC 1122 4.2.3.2; <see cref="DefaultDelayedAcknowledgment"/>, at most half the retransmission floor); zero: every batch's data is acknowledged at its end.</param>
/// <param name="HybridSlowStart">Whether TCP leaves slow start when the path is full — a round's ACK train lasting the least round trip, or its round trips growing by a queue (HyStart, as Linux's CUBIC runs it: <c>hystart=1</c>) — instead of at the first loss.</param>
/// <param name="CongestionControl">How TCP's congestion window grows past the slow-start threshold and falls on a loss (Linux's tcp_congestion_control): <see cref="CongestionControl.Cubic"/>, Linux's default, or <see cref="CongestionControl.Reno"/>.</param>
public sealed record StackSettings(
    StackProtocols Protocols = StackProtocols.Tcp | StackProtocols.Udp,
    IReadOnlyList<int>? Ports = null,
    int InboundThreshold = 256,
    int OutboundCapacity = 64,
    bool Bidirectional = false,
    bool EchoUdp = false,
    int SocketQueue = 256,
    int TcpBuffer = StackSettings.DefaultTcpBuffer,
    TimeSpan? RetransmissionTimeout = null,
    TimeSpan? TimeWait = null,
    int SynBacklog = 1024,
    TimeSpan? DelayedAcknowledgment = null,
    int? TcpBufferLimit = null,
    long? TcpBufferBudget = null,
    bool SelectiveAcknowledgment = true,
    SynCookieMode SynCookies = SynCookieMode.OnOverflow,
    CongestionControl CongestionControl = CongestionControl.Cubic,
    bool HybridSlowStart = true)
{
    /// <summary>How far a TCP connection's buffers may grow: <see cref="TcpBufferLimit"/>, and never below <see cref="TcpBuffer"/>.</summary>
    internal int TcpBufferCeiling => Math.Max(TcpBuffer, TcpBufferLimit ?? DefaultTcpBufferLimit);

    /// <summary>64 MiB: about four bulk connections grown to the limit both ways.</summary>
    public const long DefaultTcpBufferBudget = 64L * 1024 * 1024;

    /// <summary>6 MiB, Linux's tcp_rmem maximum: a window that fills 10 Gbit/s over a 5 ms round trip.</summary>
    public const int DefaultTcpBufferLimit = 6 * 1024 * 1024;

    /// <summary>
    /// 256 KiB: a window of 64 KB held a real peer to 64 KB per round trip, and a round trip
    /// through a TAP and two threads is a few hundred microseconds (docs/benchmarks.md).
    /// </summary>
    public const int DefaultTcpBuffer = 256 * 1024;

    /// <summary>The default delayed-ACK limit: 40 ms, Linux's TCP_DELACK_MIN.</summary>
    public static readonly TimeSpan DefaultDelayedAcknowledgment = TimeSpan.FromMilliseconds(40);

    /// <summary>The default first retransmission timeout: 200 ms.</summary>
    public static readonly TimeSpan DefaultRetransmissionTimeout = TimeSpan.FromMilliseconds(200);

    /// <summary>The first declared port it serves UDP on (where generated traffic goes: the application's port), or null.</summary>
    internal int? FirstUdpPort => (Protocols & StackProtocols.Udp) != 0 && Ports is { Count: > 0 } ports ? ports[0] : null;

    /// <summary>Serves TCP and not UDP: its VNIC refuses datagrams, so synthetic traffic for it is TCP segments.</summary>
    internal bool TcpOnly => (Protocols & StackProtocols.Udp) == 0 && (Protocols & StackProtocols.Tcp) != 0;

    /// <summary>TCP present → mutual exclusion; UDP only (or no transport) → concurrent access.</summary>
    public SerializationPolicy Policy => (Protocols & StackProtocols.Tcp) != 0 ? SerializationPolicy.MutualExclusion : SerializationPolicy.Concurrent;
}
