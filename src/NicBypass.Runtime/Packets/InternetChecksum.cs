using System.Buffers.Binary;

namespace NicBypass.Runtime.Packets;

/// <summary>The one's-complement Internet checksum (RFC 1071), with the IPv4/IPv6 pseudo-headers.</summary>
public static class InternetChecksum
{
    /// <summary>Adds <paramref name="data"/> to a running 32-bit sum of 16-bit words.</summary>
    public static uint Add(uint sum, ReadOnlySpan<byte> data)
    {
        var i = 0;
        for (; i + 1 < data.Length; i += 2) sum += BinaryPrimitives.ReadUInt16BigEndian(data.Slice(i));
        if (i < data.Length) sum += (uint)data[i] << 8;
        return sum;
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
