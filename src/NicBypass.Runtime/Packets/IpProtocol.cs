namespace NicBypass.Runtime.Packets;

/// <summary>IP protocol numbers (IPv4's protocol field, IPv6's next header) the stacks handle.</summary>
internal static class IpProtocol
{
    public const byte Icmp = 1;
    public const byte Tcp = 6;
    public const byte Udp = 17;
    public const byte Ipv6Fragment = 44;
    public const byte IcmpV6 = 58;
}
