using System.Buffers.Binary;
using NicBypass.Runtime.Packets;

namespace NicBypass.Runtime.Devices;

/// <summary>
/// What a NIC that offers Linux TCP segmentation and checksum offload does with what Linux hands
/// it (virtio-net's side of <see cref="VirtioNetHeader"/>): completes a checksum Linux left
/// partial, and cuts a TCP super-frame of up to 64 KB into the segments Linux would otherwise have
/// cut itself — each with its own IP length (and IPv4 identification and header checksum),
/// sequence number and TCP checksum; FIN and PSH only on the last, CWR only on the first.
/// Pure and allocation-free: the caller gives the buffers.
/// </summary>
internal static class SegmentationOffload
{
    private const byte Cwr = 0x80; // congestion window reduced (RFC 3168); TcpSegmentFlags has no ECN bits

    /// <summary>
    /// Completes the checksum at <paramref name="start"/> + <paramref name="offset"/>, whose field
    /// holds the pseudo-header's sum: the one's-complement sum from <paramref name="start"/> to the
    /// end of the frame, inverted. False when the place lies outside the frame.
    /// </summary>
    public static bool TryCompleteChecksum(Span<byte> frame, int start, int offset)
    {
        if (start < EthernetHeader.Length || offset < 0 || start + offset + 2 > frame.Length) return false;
        var checksum = InternetChecksum.Finish(InternetChecksum.Add(0, frame.Slice(start)));
        // 0 and 0xFFFF are the same one's-complement number; UDP reserves 0 for "no checksum".
        BinaryPrimitives.WriteUInt16BigEndian(frame.Slice(start + offset), checksum == 0 ? (ushort)0xFFFF : checksum);
        return true;
    }

    /// <summary>How many segments of <paramref name="segmentSize"/> payload bytes the super-frame makes (at least one).</summary>
    public static int SegmentCount(in TcpFrameLayout layout, int segmentSize) =>
        Math.Max(1, (layout.PayloadLength + segmentSize - 1) / segmentSize);

    /// <summary>Writes segment <paramref name="index"/> of the super-frame <paramref name="frame"/> into <paramref name="into"/>: its length.</summary>
    public static int WriteSegment(ReadOnlySpan<byte> frame, in TcpFrameLayout layout, int segmentSize, int index, Span<byte> into)
    {
        var offset = index * segmentSize;
        var length = Math.Max(0, Math.Min(segmentSize, layout.PayloadLength - offset));
        var last = offset + length >= layout.PayloadLength;
        var total = layout.HeaderLength + length;
        frame.Slice(0, layout.HeaderLength).CopyTo(into);
        frame.Slice(layout.HeaderLength + offset, length).CopyTo(into.Slice(layout.HeaderLength));
        var segment = into.Slice(0, total);
        if (!layout.IsV6)
        {
            var id = segment.Slice(layout.IpOffset + 4);
            BinaryPrimitives.WriteUInt16BigEndian(id, (ushort)(BinaryPrimitives.ReadUInt16BigEndian(id) + index));
        }
        var tcpLength = total - layout.TcpOffset;
        layout.WriteIpLength(segment, tcpLength);
        var tcp = segment.Slice(layout.TcpOffset);
        BinaryPrimitives.WriteUInt32BigEndian(tcp.Slice(4), BinaryPrimitives.ReadUInt32BigEndian(tcp.Slice(4)) + (uint)offset);
        var flags = tcp[13];
        if (!last) flags &= unchecked((byte)~(TcpSegmentFlags.Fin | TcpSegmentFlags.Psh));
        if (index > 0) flags &= unchecked((byte)~Cwr);
        tcp[13] = flags;
        tcp[16] = 0;
        tcp[17] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(tcp.Slice(16), InternetChecksum.Finish(InternetChecksum.Add(layout.PseudoHeaderSum(segment, tcpLength), tcp)));
        return total;
    }

    /// <summary>True when the TCP checksum of <paramref name="frame"/> is right.</summary>
    public static bool TcpChecksumValid(ReadOnlySpan<byte> frame, in TcpFrameLayout layout)
    {
        var tcpLength = layout.FrameLength - layout.TcpOffset;
        return InternetChecksum.Finish(InternetChecksum.Add(layout.PseudoHeaderSum(frame, tcpLength), frame.Slice(layout.TcpOffset, tcpLength))) == 0;
    }
}
