using System.Buffers.Binary;

namespace NicBypass.Runtime.Packets;

/// <summary>
/// An IPv6 header (RFC 8200), read in place. <see cref="TryRead"/> checks version 6 and that the
/// payload length fits the bytes at hand, cuts <see cref="Packet"/> to it, and walks the
/// extension headers a host processes in passing — hop-by-hop options, destination options, and a
/// routing header with no segments left — so <see cref="NextHeader"/> and <see cref="Payload"/>
/// are the upper layer's. A fragment header stays the next header (the stack does not
/// reassemble); a routing header that still has segments left stays too (a host does not
/// forward). At most <see cref="MaxExtensionHeaders"/> are walked; a truncated one fails the read.
/// </summary>
internal readonly ref struct Ipv6Header
{
    public const int Length = 40;

    /// <summary>The most extension headers walked before the upper layer.</summary>
    public const int MaxExtensionHeaders = 8;

    private const byte HopByHop = 0, Routing = 43, DestinationOptions = 60;

    private readonly ReadOnlySpan<byte> _packet;
    private readonly int _payloadOffset;
    private readonly byte _next;

    private Ipv6Header(ReadOnlySpan<byte> packet, int payloadOffset, byte next)
    {
        _packet = packet;
        _payloadOffset = payloadOffset;
        _next = next;
    }

    /// <summary>Header and payload, cut to the payload length.</summary>
    public ReadOnlySpan<byte> Packet => _packet;

    /// <summary>The upper layer's bytes, after any extension headers walked.</summary>
    public ReadOnlySpan<byte> Payload => _packet.Slice(_payloadOffset);

    /// <summary>The upper layer's protocol (or the first extension header not walked).</summary>
    public byte NextHeader => _next;

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
        var packet = payload.Slice(0, Length + payloadLength);
        var next = packet[6];
        var offset = Length;
        for (var walked = 0; next is HopByHop or DestinationOptions or Routing; walked++)
        {
            if (next == HopByHop && walked > 0) return false; // hop-by-hop only first (RFC 8200 4.3)
            if (walked == MaxExtensionHeaders || packet.Length - offset < 8) return false;
            var length = (packet[offset + 1] + 1) * 8;
            if (packet.Length - offset < length) return false;
            if (next == Routing && packet[offset + 3] != 0) break; // segments left: not for a host to process
            next = packet[offset];
            offset += length;
        }
        header = new Ipv6Header(packet, offset, next);
        return true;
    }
}
