namespace NicBypass.Runtime.Stacks;

/// <summary>How a TCP connection ended abnormally.</summary>
public enum TcpError
{
    /// <summary>Closed normally; sending after a close.</summary>
    Closed,

    /// <summary>The peer answered the SYN with RST: nobody listens on that port.</summary>
    Refused,

    /// <summary>The peer reset an open connection.</summary>
    Reset,

    /// <summary>No acknowledgment after repeated retransmissions.</summary>
    TimedOut,

    /// <summary>This side aborted it.</summary>
    Aborted,

    /// <summary>Connecting, the peer's address (or the router's on the way) did not resolve: no neighbour answered (Linux's EHOSTUNREACH).</summary>
    Unreachable,
}
