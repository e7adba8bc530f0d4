namespace NicBypass.Runtime.Virtualization;


/// <summary>
/// A VNS: frames it received (its VNIC's delivered), handed to sockets, answered itself (ARP,
/// echo), sent, and dropped by reason; IP fragments joined into reassembled datagrams and held
/// waiting for the rest, and packets the IP layer passed on that still wait in the inbound VSQ
/// for the transport layer (<see cref="Waiting"/>: a busy processor had not taken them when the
/// report was made), so that received = delivered + answered + dropped + joined + held + waiting;
/// SYN cookies sent (their SYNs counted as answered) and the connections made from them; and
/// what it was asked to send and dropped, by reason (<see cref="SendDropped"/>: a neighbour that
/// never answered, a full output, a spoofed source…; they were only in its counters); and the
/// ICMP and ICMPv6 Parameter Problems it sent (<see cref="ParameterProblemsSent"/>: each about a
/// packet it dropped, as malformed or unsupported — counted there, not in answered); and the TCP
/// connections it gave up on a timeout (<see cref="ConnectionsTimedOut"/>: handshakes included —
/// a peer that went away, or never answered).
/// </summary>
public sealed record StackTrafficReport(long Received, long Delivered, long Answered, long Sent, IReadOnlyList<KeyValuePair<string, long>> Dropped, long SynQueueOverflows = 0,
    long FragmentsJoined = 0, long FragmentsHeld = 0, long SynCookiesSent = 0, long SynCookiesAccepted = 0, long Waiting = 0,
    IReadOnlyList<KeyValuePair<string, long>>? SendDropped = null, long ParameterProblemsSent = 0, long ConnectionsTimedOut = 0);
