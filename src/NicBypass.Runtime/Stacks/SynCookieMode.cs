namespace NicBypass.Runtime.Stacks;

/// <summary>When a listener answers a SYN with a SYN cookie instead of a half-open connection (Linux's <c>net.ipv4.tcp_syncookies</c>).</summary>
public enum SynCookieMode
{
    /// <summary>Never (0): a SYN past a full SYN queue pushes out the oldest half-open connection.</summary>
    Off,

    /// <summary>When the SYN queue is full (1, Linux's default): the SYN-ACK carries the connection's state in its sequence number and timestamp, and the stack keeps none.</summary>
    OnOverflow,

    /// <summary>For every SYN (2; tests of the cookie path).</summary>
    Always,
}
