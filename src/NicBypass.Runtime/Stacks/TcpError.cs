namespace NicBypass.Runtime.Stacks;

/// <summary>How a TCP connection ended abnormally.</summary>
public enum TcpError
{
    /// <summary>Closed normally; sending after a close.</summary>
    Closed,

    /// <summary>The peer answered the SYN with RST (nobody listens on that port), or an ICMP port or protocol unreachable came back (a firewall's REJECT).</summary>
    Refused,

    /// <summary>The peer reset an open connection.</summary>
    Reset,

    /// <summary>No acknowledgment after repeated retransmissions.</summary>
    TimedOut,

    /// <summary>This side aborted it.</summary>
    Aborted,

    /// <summary>Connecting, the peer could not be reached: its address (or the router's on the way) did not resolve, or a router answered the SYN with ICMP destination unreachable (Linux's EHOSTUNREACH, ENETUNREACH…).</summary>
    Unreachable,
}
