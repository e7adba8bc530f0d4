namespace NicBypass.Runtime.Packets;

/// <summary>The EtherTypes the datapath and the stacks read (IEEE registry values).</summary>
internal static class EtherType
{
    public const ushort Ipv4 = 0x0800;
    public const ushort Arp = 0x0806;
    public const ushort Ipv6 = 0x86DD;
    public const ushort Vlan8021Q = EthernetHeader.Vlan8021Q;
    public const ushort Vlan8021AD = EthernetHeader.Vlan8021AD;
}
