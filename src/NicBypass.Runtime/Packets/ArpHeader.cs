using System.Buffers.Binary;

namespace NicBypass.Runtime.Packets;

/// <summary>
/// An ARP packet for IPv4 over Ethernet (RFC 826), read in place: the only kind the stacks
/// answer. <see cref="TryRead"/> accepts hardware type 1, protocol IPv4, 6-byte and 4-byte
/// address lengths; fields are views of the packet's own bytes.
/// </summary>
internal readonly ref struct ArpHeader
{
    public const int Length = 28;
    public const ushort Request = 1;
    public const ushort Reply = 2;

    private readonly ReadOnlySpan<byte> _packet;

    private ArpHeader(ReadOnlySpan<byte> packet) => _packet = packet;

    /// <summary>The whole 28-byte packet.</summary>
    public ReadOnlySpan<byte> Packet => _packet;

    public ushort Operation => BinaryPrimitives.ReadUInt16BigEndian(_packet.Slice(6));

    public ulong SenderMac => EthernetHeader.ReadMac(_packet.Slice(8));

    /// <summary>The sender's IPv4 address (4 bytes, network order).</summary>
    public ReadOnlySpan<byte> SenderAddress => _packet.Slice(14, 4);

    /// <summary>The target's IPv4 address (4 bytes, network order).</summary>
    public ReadOnlySpan<byte> TargetAddress => _packet.Slice(24, 4);

    /// <summary>Reads the ARP packet at the start of <paramref name="payload"/> (the Ethernet payload); false when it is too short or not IPv4 over Ethernet.</summary>
    public static bool TryRead(ReadOnlySpan<byte> payload, out ArpHeader header)
    {
        header = default;
        if (payload.Length < Length || BinaryPrimitives.ReadUInt16BigEndian(payload) != 1
            || BinaryPrimitives.ReadUInt16BigEndian(payload.Slice(2)) != EtherType.Ipv4 || payload[4] != 6 || payload[5] != 4)
        {
            return false;
        }
        header = new ArpHeader(payload.Slice(0, Length));
        return true;
    }
}
