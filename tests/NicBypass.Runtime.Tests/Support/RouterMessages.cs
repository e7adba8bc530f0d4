using System.Buffers.Binary;
using System.Net;

namespace NicBypass.Runtime.Tests;

/// <summary>
/// Messages a router on the path sends about a packet the container of <see cref="HandMadePeer"/>
/// (MAC <see cref="HandMadePeer.Mac"/>, 192.168.10.20 and fd00::20) sent: path MTU discovery's.
/// </summary>
internal static class RouterMessages
{
    // An ICMP "fragmentation needed" from a router, quoting `frame`'s IP header and 8 bytes.
    public static byte[] FragmentationNeeded(byte[] frame, int mtu, int quoteLength = 20 + 8) => Unreachable(frame, 4, mtu, quoteLength);

    // An ICMP destination unreachable with `code` (3: port, 1: host…) from a router, quoting `frame`'s IP header and 8 bytes.
    public static byte[] Unreachable(byte[] frame, byte code, int mtu = 0, int quoteLength = 20 + 8)
    {
        var quoted = frame.AsSpan(14, quoteLength);
        var icmp = new byte[8 + quoted.Length];
        icmp[0] = 3;
        icmp[1] = code;
        BinaryPrimitives.WriteUInt16BigEndian(icmp.AsSpan(6), (ushort)mtu);
        quoted.CopyTo(icmp.AsSpan(8));
        BinaryPrimitives.WriteUInt16BigEndian(icmp.AsSpan(2), Packets.InternetChecksum.Compute(icmp));
        var result = new byte[14 + 20 + icmp.Length];
        Packets.EthernetHeader.WriteMac(result, HandMadePeer.Mac);
        Packets.EthernetHeader.WriteMac(result.AsSpan(6), 0x02AA_0000_00FEUL);
        BinaryPrimitives.WriteUInt16BigEndian(result.AsSpan(12), 0x0800);
        var ip = result.AsSpan(14, 20);
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(2), (ushort)(20 + icmp.Length));
        ip[8] = 64;
        ip[9] = 1;
        IPAddress.Parse("192.168.10.254").GetAddressBytes().CopyTo(result, 14 + 12);
        IPAddress.Parse("192.168.10.20").GetAddressBytes().CopyTo(result, 14 + 16);
        BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(10), Packets.InternetChecksum.Compute(ip));
        icmp.CopyTo(result.AsSpan(14 + 20));
        return result;
    }

    // An ICMPv6 Packet Too Big from a router, quoting as much of `frame`'s packet as fits in 1,280 bytes.
    public static byte[] PacketTooBig(byte[] frame, int mtu)
    {
        var packet = frame.AsSpan(14, 40 + BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(14 + 4)));
        var quoted = packet.Slice(0, Math.Min(packet.Length, 1280 - 48));
        var icmp = new byte[8 + quoted.Length];
        icmp[0] = 2;
        BinaryPrimitives.WriteUInt32BigEndian(icmp.AsSpan(4), (uint)mtu);
        quoted.CopyTo(icmp.AsSpan(8));
        return TestFrames.IcmpV6(0x02AA_0000_00FEUL, HandMadePeer.Mac, "fd00::fe", "fd00::20", 64, icmp);
    }
}
