using System.Buffers.Binary;

namespace NicBypass.Runtime.Packets;

/// <summary>
/// An IPv4 header (RFC 791), read in place. <see cref="TryRead"/> checks what must hold before
/// any field can be trusted — version 4, a header length of at least 20 bytes, a total length
/// that covers the header and fits the bytes at hand — and cuts <see cref="Packet"/> to the total
/// length (Ethernet padding removed). The header checksum is checked separately
/// (<see cref="HeaderChecksumValid"/>).
/// </summary>
internal readonly ref struct Ipv4Header
{
    public const int MinLength = 20;

    private readonly ReadOnlySpan<byte> _packet;

    private Ipv4Header(ReadOnlySpan<byte> packet, int headerLength)
    {
        _packet = packet;
        HeaderLength = headerLength;
    }

    public int HeaderLength { get; }

    /// <summary>Header and payload, cut to the total length.</summary>
    public ReadOnlySpan<byte> Packet => _packet;

    public ReadOnlySpan<byte> Payload => _packet.Slice(HeaderLength);

    public byte TimeToLive => _packet[8];

    public byte Protocol => _packet[9];

    /// <summary>A fragment: more-fragments set or a non-zero offset.</summary>
    public bool IsFragment => (BinaryPrimitives.ReadUInt16BigEndian(_packet.Slice(6)) & 0x3FFF) != 0;

    /// <summary>Where this fragment's data starts in the datagram, in 8-byte units (0 for the first or only fragment).</summary>
    public int FragmentOffset => BinaryPrimitives.ReadUInt16BigEndian(_packet.Slice(6)) & 0x1FFF;

    public ReadOnlySpan<byte> Source => _packet.Slice(12, 4);

    public ReadOnlySpan<byte> Destination => _packet.Slice(16, 4);

    public uint SourceValue => BinaryPrimitives.ReadUInt32BigEndian(_packet.Slice(12));

    public bool HeaderChecksumValid => InternetChecksum.Compute(_packet.Slice(0, HeaderLength)) == 0;

    /// <summary>Reads the IPv4 header at the start of <paramref name="payload"/> (the Ethernet payload).</summary>
    public static bool TryRead(ReadOnlySpan<byte> payload, out Ipv4Header header)
    {
        header = default;
        if (payload.Length < MinLength || payload[0] >> 4 != 4) return false;
        var headerLength = (payload[0] & 0x0F) * 4;
        var totalLength = BinaryPrimitives.ReadUInt16BigEndian(payload.Slice(2));
        if (headerLength < MinLength || totalLength < headerLength || totalLength > payload.Length) return false;
        header = new Ipv4Header(payload.Slice(0, totalLength), headerLength);
        return true;
    }
}
