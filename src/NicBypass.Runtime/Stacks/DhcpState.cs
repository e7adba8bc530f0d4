namespace NicBypass.Runtime.Stacks;

/// <summary>Where a DHCP client is (RFC 2131 figure 5).</summary>
internal enum DhcpState
{
    Init,
    Selecting,
    Requesting,
    Bound,
    Renewing,
    Rebinding,
}
