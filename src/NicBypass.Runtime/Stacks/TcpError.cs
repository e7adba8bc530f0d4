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
}
