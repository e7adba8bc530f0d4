using System.Buffers.Binary;

namespace NicBypass.Runtime.Packets;

/// <summary>The one's-complement Internet checksum (RFC 1071), with the IPv4/IPv6 pseudo-headers.</summary>
internal static class InternetChecksum
{
    /// <summary>Adds <paramref name="data"/> to a running 32-bit sum of 16-bit words.</summary>
    public static uint Add(uint sum, ReadOnlySpan<byte> data)
    {
        // Eight bytes at a time: a 32-bit big-endian word is congruent to the sum of its two
        // 16-bit halves modulo 0xFFFF (2^16 = 1), so 32-bit halves summed in 64 bits and folded
        // give the same one's-complement sum as 16-bit words.
        ulong accumulator = sum;
        var i = 0;
        for (; i + 8 <= data.Length; i += 8)
        {
            var eight = BinaryPrimitives.ReadUInt64BigEndian(data.Slice(i));
            accumulator += (eight >> 32) + (eight & 0xFFFF_FFFF);
        }
        for (; i + 1 < data.Length; i += 2) accumulator += BinaryPrimitives.ReadUInt16BigEndian(data.Slice(i));
        if (i < data.Length) accumulator += (uint)data[i] << 8;
        accumulator = (accumulator & 0xFFFF_FFFF) + (accumulator >> 32);
        accumulator = (accumulator & 0xFFFF_FFFF) + (accumulator >> 32);
        var folded = (uint)accumulator;
        folded = (folded & 0xFFFF) + (folded >> 16);
        return (folded & 0xFFFF) + (folded >> 16);
    }

    /// <summary>Folds a running sum into the final 16-bit checksum.</summary>
    public static ushort Finish(uint sum)
    {
        while (sum >> 16 != 0) sum = (sum & 0xFFFF) + (sum >> 16);
        return (ushort)~sum;
    }

    public static ushort Compute(ReadOnlySpan<byte> data) => Finish(Add(0, data));

    /// <summary>Checksum of a transport segment with the IPv4 pseudo-header.</summary>
    public static ushort ComputeV4(ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination, byte protocol, ReadOnlySpan<byte> segment)
    {
        var sum = Add(Add(0, source), destination);
        sum += protocol;
        sum += (uint)segment.Length;
        return Finish(Add(sum, segment));
    }

    /// <summary>Checksum of a transport segment with the IPv6 pseudo-header.</summary>
    public static ushort ComputeV6(ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination, byte nextHeader, ReadOnlySpan<byte> segment)
    {
        var sum = Add(Add(0, source), destination);
        sum += (uint)segment.Length >> 16;
        sum += (uint)segment.Length & 0xFFFF;
        sum += nextHeader;
        return Finish(Add(sum, segment));
    }
}
