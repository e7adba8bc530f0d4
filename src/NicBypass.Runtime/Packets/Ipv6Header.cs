using System.Buffers.Binary;

namespace NicBypass.Runtime.Packets;

/// <summary>
/// An IPv6 fixed header (RFC 8200), read in place. <see cref="TryRead"/> checks version 6 and
/// that the payload length fits the bytes at hand, and cuts <see cref="Packet"/> to it.
/// Extension headers are not walked: <see cref="NextHeader"/> is the fixed header's.
/// </summary>
internal readonly ref struct Ipv6Header
{
    public const int Length = 40;

    private readonly ReadOnlySpan<byte> _packet;

    private Ipv6Header(ReadOnlySpan<byte> packet) => _packet = packet;

    /// <summary>Header and payload, cut to the payload length.</summary>
    public ReadOnlySpan<byte> Packet => _packet;

    public ReadOnlySpan<byte> Payload => _packet.Slice(Length);

    public byte NextHeader => _packet[6];

    public byte HopLimit => _packet[7];

    public ReadOnlySpan<byte> Source => _packet.Slice(8, 16);

    public ReadOnlySpan<byte> Destination => _packet.Slice(24, 16);

    public UInt128 SourceValue => BinaryPrimitives.ReadUInt128BigEndian(_packet.Slice(8));

    /// <summary>Reads the IPv6 header at the start of <paramref name="payload"/> (the Ethernet payload).</summary>
    public static bool TryRead(ReadOnlySpan<byte> payload, out Ipv6Header header)
    {
        header = default;
        if (payload.Length < Length || payload[0] >> 4 != 6) return false;
        var payloadLength = BinaryPrimitives.ReadUInt16BigEndian(payload.Slice(4));
        if (Length + payloadLength > payload.Length) return false;
        header = new Ipv6Header(payload.Slice(0, Length + payloadLength));
        return true;
    }
}
