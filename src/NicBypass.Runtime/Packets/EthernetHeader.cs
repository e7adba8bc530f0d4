using System.Buffers.Binary;

namespace NicBypass.Runtime.Packets;

/// <summary>
/// The layer-2 facts the classifiers need, read straight from the frame bytes: destination and
/// source MAC as 48-bit integers, the outer VLAN id (0 when untagged), the EtherType after the
/// tag, and where the payload starts.
/// </summary>
public readonly struct EthernetHeader
{
    public const int Length = 14;
    public const int TagLength = 4;
    public const ushort Vlan8021Q = 0x8100;
    public const ushort Vlan8021AD = 0x88A8;

    public EthernetHeader(ulong destination, ulong source, int vlan, ushort etherType, int payloadOffset)
    {
        Destination = destination;
        Source = source;
        Vlan = vlan;
        EtherType = etherType;
        PayloadOffset = payloadOffset;
    }

    public ulong Destination { get; }

    public ulong Source { get; }

    /// <summary>The outer VLAN id, or 0 for an untagged frame.</summary>
    public int Vlan { get; }

    public ushort EtherType { get; }

    public int PayloadOffset { get; }

    public bool IsTagged => PayloadOffset > Length;

    /// <summary>An EtherType that is a VLAN tag: 802.1Q, 802.1ad, or the older 0x9100 QinQ tag.</summary>
    public static bool IsTagType(ushort etherType) => etherType is Vlan8021Q or Vlan8021AD or 0x9100;

    /// <summary>The frame's first EtherType field is a tag (<see cref="IsTagType"/>): what a VNIC strips in place (and so what a shared group frame must not be).</summary>
    internal static bool StartsWithTag(ReadOnlySpan<byte> frame) => IsTagType(System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(frame.Slice(12)));

    /// <summary>Broadcast or multicast: the group bit of the destination is set.</summary>
    public bool IsGroup => IsGroupAddress(Destination);

    /// <summary>True for a group (multicast or broadcast) MAC: the I/G bit of its first octet.</summary>
    public static bool IsGroupAddress(ulong mac) => (mac & GroupBit) != 0;

    /// <summary>The I/G bit of a MAC held in the low 48 bits of a number.</summary>
    public const ulong GroupBit = 0x0100_0000_0000UL;

    /// <summary>
    /// Reads the header; false when the frame cannot be classified at layer 2 (shorter than an
    /// Ethernet header, or a VLAN tag cut off).
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> frame, out EthernetHeader header)
    {
        if (frame.Length < Length)
        {
            header = default;
            return false;
        }
        var destination = ReadMac(frame);
        var source = ReadMac(frame.Slice(6));
        var etherType = BinaryPrimitives.ReadUInt16BigEndian(frame.Slice(12));
        if (etherType is Vlan8021Q or Vlan8021AD)
        {
            if (frame.Length < Length + TagLength)
            {
                header = default;
                return false;
            }
            var vlan = BinaryPrimitives.ReadUInt16BigEndian(frame.Slice(14)) & 0x0FFF;
            header = new EthernetHeader(destination, source, vlan, BinaryPrimitives.ReadUInt16BigEndian(frame.Slice(16)), Length + TagLength);
            return true;
        }
        header = new EthernetHeader(destination, source, 0, etherType, Length);
        return true;
    }

    /// <summary>A MAC address (6 bytes, network order) as one 48-bit integer.</summary>
    public static ulong ReadMac(ReadOnlySpan<byte> bytes) =>
        ((ulong)BinaryPrimitives.ReadUInt32BigEndian(bytes) << 16) | BinaryPrimitives.ReadUInt16BigEndian(bytes.Slice(4));

    /// <summary>A 48-bit MAC as text: 02:08:20:ac:00:01.</summary>
    public static string FormatMac(ulong mac) =>
        string.Join(":", Enumerable.Range(0, 6).Select(i => ((mac >> (40 - 8 * i)) & 0xFF).ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));

    public static void WriteMac(Span<byte> bytes, ulong mac)
    {
        BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)(mac >> 16));
        BinaryPrimitives.WriteUInt16BigEndian(bytes.Slice(4), (ushort)mac);
    }
}
