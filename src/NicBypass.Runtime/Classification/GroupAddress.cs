using System.Net;

namespace NicBypass.Runtime.Classification;

/// <summary>
/// Link-layer group addresses (48-bit integers) and the mapping from IP multicast groups to
/// them: RFC 1112 6.4 (01:00:5e + the low 23 bits of an IPv4 group) and RFC 2464 7
/// (33:33 + the low 32 bits of an IPv6 group).
/// </summary>
internal static class GroupAddress
{
    public const ulong Broadcast = 0xFFFF_FFFF_FFFFUL;

    /// <summary>224.0.0.1, every IPv4 host.</summary>
    public const ulong AllHosts = 0x0100_5E00_0001UL;

    /// <summary>ff02::1, every IPv6 node.</summary>
    public const ulong AllNodes = 0x3333_0000_0001UL;

    /// <summary>The group MAC of multicast group <paramref name="group"/> (IPv4 224.0.0.0/4 or IPv6 ff00::/8).</summary>
    public static ulong Of(IPAddress group)
    {
        var address = Stacks.NetworkAddress.From(group);
        if (!address.IsV6 && (uint)address.Value >> 28 != 0xE) throw new ArgumentException($"{group} is not an IPv4 multicast group (224.0.0.0/4)", nameof(group));
        if (address.IsV6 && address.Value >> 120 != 0xFF) throw new ArgumentException($"{group} is not an IPv6 multicast group (ff00::/8)", nameof(group));
        return Of(address);
    }

    /// <summary>The MAC of group address <paramref name="group"/> (<see cref="Stacks.NetworkAddress.IsGroup"/>): a multicast group's, or the broadcast MAC for 255.255.255.255.</summary>
    public static ulong Of(Stacks.NetworkAddress group) =>
        group.IsV6 ? 0x3333_0000_0000UL | (uint)group.Value
        : (uint)group.Value == uint.MaxValue ? Broadcast
        : 0x0100_5E00_0000UL | ((uint)group.Value & 0x7F_FFFF);

    /// <summary>The group MAC of the solicited-node group (ff02::1:ffXX:XXXX) of IPv6 address <paramref name="address"/>.</summary>
    public static ulong SolicitedNode(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        return 0x3333_FF00_0000UL | ((ulong)bytes[13] << 16) | ((ulong)bytes[14] << 8) | bytes[15];
    }
}
