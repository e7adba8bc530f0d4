namespace NicBypass.Runtime.Stacks;

/// <summary>Why a stack dropped a frame it received, or one it was asked to send. Each is counted.</summary>
public enum StackDropReason
{
    /// <summary>A damaged ARP, IP, ICMP, UDP or TCP header: bad version, length or checksum; or a TCP segment no listener takes (neither SYN nor ACK — a FIN, NULL or Xmas scan's — or a SYN with FIN, RFC 9293 3.10.7.2).</summary>
    Malformed,

    /// <summary>An IP packet (or ARP request) for an address the stack does not own.</summary>
    NotForUs,

    /// <summary>TTL or hop limit of zero.</summary>
    TtlExpired,

    /// <summary>An IP fragment the reassembly refused: an exact duplicate, or one overlapping another or contradicting the datagram's end (RFC 5722: then every fragment of the datagram is dropped and counted).</summary>
    Fragment,

    /// <summary>An EtherType, IP protocol or ICMP type the stack does not handle.</summary>
    Unsupported,

    /// <summary>UDP to a port with no socket (answered with ICMP port unreachable), or TCP to one with no listener (answered with RST).</summary>
    PortUnreachable,

    /// <summary>A socket's receive queue (or a listener's backlog) was full.</summary>
    SocketFull,

    /// <summary>A TCP segment ahead of the next expected byte that the out-of-order queue could not hold — beyond the receive window, or one gap more than it keeps (answered with a duplicate ACK; the sender retransmits).</summary>
    OutOfOrder,

    /// <summary>The inbound VSQ was full.</summary>
    QueueFull,

    /// <summary>Outbound: the neighbour's MAC was not known in time (ARP / neighbour discovery unanswered).</summary>
    Unresolved,

    /// <summary>Outbound: the VNIC refused the frame as spoofed (source MAC or IP not the sender's own).</summary>
    Spoofed,

    /// <summary>Outbound: a reply (ARP, ICMP, RST) that found the output blocked or the transmit ring full.</summary>
    OutputBlocked,

    /// <summary>A frame it sent was longer than the NIC's MTU allows.</summary>
    Oversize,

    /// <summary>A packet whose source cannot be a sender (unspecified, broadcast, multicast, class E, or the stack's own address): RFC 1122 3.2.1.3 says discard it silently.</summary>
    InvalidSource,

    /// <summary>Outbound: an ICMP error the rate limit held back (RFC 1812 4.3.2.8, RFC 4443 2.4(f)).</summary>
    RateLimited,

    /// <summary>A TCP segment whose ACK or timestamp no real peer would send now — its timestamp older than the connection's latest (PAWS, RFC 7323 5), or acknowledging data far behind what was sent or never sent (RFC 5961 5): answered with an ACK.</summary>
    Stale,

    /// <summary>A datagram whose socket handler threw (user code): the exception goes on to whoever runs the host, or, in the threaded mode, to <c>NetworkHost.StopThreads</c>.</summary>
    HandlerFault,

    /// <summary>An IP fragment whose datagram was not complete within the reassembly's time (30 s IPv4, 60 s IPv6): each of its fragments.</summary>
    ReassemblyTimeout,

    /// <summary>An IP fragment whose datagram was pushed out of a full reassembly by a newer one, or had more fragments than it holds (64).</summary>
    ReassemblyFull,
}

/// <summary>Report names of <see cref="StackDropReason"/>.</summary>
public static class StackDropReasons
{
    public static readonly StackDropReason[] All = Enum.GetValues<StackDropReason>();

    /// <summary>The drop reason a refused send is counted under; null when the frame was not dropped.</summary>
    internal static StackDropReason? Of(SendStatus status) => status switch
    {
        SendStatus.Spoofed => StackDropReason.Spoofed,
        SendStatus.Malformed => StackDropReason.Malformed,
        SendStatus.Oversize => StackDropReason.Oversize,
        _ => null,
    };

    public static string Name(StackDropReason reason) => reason switch
    {
        StackDropReason.Malformed => "malformed",
        StackDropReason.NotForUs => "not-for-us",
        StackDropReason.TtlExpired => "ttl-expired",
        StackDropReason.Fragment => "fragment",
        StackDropReason.Unsupported => "unsupported",
        StackDropReason.PortUnreachable => "port-unreachable",
        StackDropReason.SocketFull => "socket-full",
        StackDropReason.OutOfOrder => "out-of-order",
        StackDropReason.Stale => "stale",
        StackDropReason.HandlerFault => "handler-fault",
        StackDropReason.QueueFull => "queue-full",
        StackDropReason.Unresolved => "unresolved",
        StackDropReason.Spoofed => "spoofed",
        StackDropReason.OutputBlocked => "output-blocked",
        StackDropReason.Oversize => "oversize",
        StackDropReason.InvalidSource => "invalid-source",
        StackDropReason.RateLimited => "rate-limited",
        StackDropReason.ReassemblyTimeout => "reassembly-timeout",
        StackDropReason.ReassemblyFull => "reassembly-full",
        _ => reason.ToString().ToLowerInvariant(),
    };
}
