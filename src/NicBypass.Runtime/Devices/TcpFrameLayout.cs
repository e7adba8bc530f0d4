using System.Buffers.Binary;
using NicBypass.Runtime.Packets;

namespace NicBypass.Runtime.Devices;

/// <summary>
/// Where the headers of an Ethernet frame carrying TCP sit (at most one VLAN tag, as
/// <see cref="EthernetHeader.TryRead"/> reads it; IPv4 without
/// fragmentation, IPv6 with TCP as its next header): what segmentation and coalescing need to
/// cut or join a frame's payload.
/// </summary>
internal readonly record struct TcpFrameLayout(int IpOffset, int TcpOffset, int HeaderLength, int PayloadLength, bool IsV6)
{
    /// <summary>The layout of <paramref name="frame"/>, or false when it is not a whole, unfragmented TCP segment this can handle.</summary>
    public static bool TryRead(ReadOnlySpan<byte> frame, out TcpFrameLayout layout)
    {
        layout = default;
        if (!EthernetHeader.TryRead(frame, out var ethernet)) return false;
        var ip = ethernet.PayloadOffset;
        var etherType = ethernet.EtherType;
        int tcp, end;
        bool v6;
        if (etherType == EtherType.Ipv4)
        {
            if (frame.Length < ip + 20 || frame[ip] >> 4 != 4 || frame[ip + 9] != IpProtocol.Tcp) return false;
            if ((BinaryPrimitives.ReadUInt16BigEndian(frame.Slice(ip + 6)) & 0x3FFF) != 0) return false; // a fragment
            tcp = ip + (frame[ip] & 0xF) * 4;
            end = ip + BinaryPrimitives.ReadUInt16BigEndian(frame.Slice(ip + 2));
            v6 = false;
        }
        else if (etherType == EtherType.Ipv6)
        {
            if (frame.Length < ip + 40 || frame[ip] >> 4 != 6 || frame[ip + 6] != IpProtocol.Tcp) return false;
            tcp = ip + 40;
            end = tcp + BinaryPrimitives.ReadUInt16BigEndian(frame.Slice(ip + 4));
            v6 = true;
        }
        else
        {
            return false;
        }
        if (tcp < ip + 20 || end > frame.Length || tcp + 20 > end) return false;
        var header = tcp + (frame[tcp + 12] >> 4) * 4;
        if (header < tcp + 20 || header > end) return false;
        layout = new TcpFrameLayout(ip, tcp, header, end - header, v6);
        return true;
    }

    /// <summary>The frame's bytes up to the end of its IP datagram (a short frame's padding left out).</summary>
    public int FrameLength => HeaderLength + PayloadLength;

    /// <summary>The one's-complement sum of the pseudo-header for a TCP segment of <paramref name="tcpLength"/> bytes (not yet folded or inverted).</summary>
    public uint PseudoHeaderSum(ReadOnlySpan<byte> frame, int tcpLength)
    {
        var size = IsV6 ? 16 : 4;
        var source = frame.Slice(IpOffset + (IsV6 ? 8 : 12), size);
        return InternetChecksum.PseudoHeaderSum(source, frame.Slice(IpOffset + (IsV6 ? 24 : 16), size), IpProtocol.Tcp, tcpLength);
    }

    /// <summary>Sets the IP length fields for a TCP segment of <paramref name="tcpLength"/> bytes (and the IPv4 header checksum).</summary>
    public void WriteIpLength(Span<byte> frame, int tcpLength)
    {
        if (IsV6)
        {
            BinaryPrimitives.WriteUInt16BigEndian(frame.Slice(IpOffset + 4), (ushort)tcpLength);
            return;
        }
        BinaryPrimitives.WriteUInt16BigEndian(frame.Slice(IpOffset + 2), (ushort)(TcpOffset - IpOffset + tcpLength));
        SealIpv4Header(frame);
    }

    /// <summary>Recomputes the IPv4 header checksum.</summary>
    public void SealIpv4Header(Span<byte> frame)
    {
        var header = frame.Slice(IpOffset, TcpOffset - IpOffset);
        header[10] = 0;
        header[11] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(header.Slice(10), InternetChecksum.Compute(header));
    }
}
