namespace NicBypass.Runtime.Stacks;

/// <summary>Where a DHCP client is (RFC 2131 figure 5).</summary>
internal enum DhcpState
{
    Init,
    Selecting,
    Requesting,

    /// <summary>ACKed a new address, probing it by ARP before taking it (RFC 2131 4.4.1, RFC 5227).</summary>
    Checking,
    Bound,
    Renewing,
    Rebinding,
}
