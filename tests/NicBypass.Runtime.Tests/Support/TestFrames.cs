using System.Net;
using System.Net.NetworkInformation;
using NicBypass.Runtime.Packets;
using PacketDotNet;

namespace NicBypass.Runtime.Tests;

/// <summary>
/// The test peer: its MAC and addresses as defaults for the package's own <see cref="Frames"/>,
/// which builds every frame the tests send. PacketDotNet, an independent implementation, reads
/// frames back (<see cref="Parse"/>) and checks <see cref="Frames"/> itself in FramesTests.
/// </summary>
internal static class TestFrames
{
    public static readonly PhysicalAddress Peer = PhysicalAddress.Parse("02-AA-00-00-00-01");
    public static readonly IPAddress PeerIp = IPAddress.Parse("192.168.10.1");
    public static readonly IPAddress PeerIp6 = IPAddress.Parse("fd00::1");

    internal const ulong PeerMac = 0x02AA_0000_0001UL;

    /// <summary>An ICMPv6 message (<paramref name="icmp"/>, its checksum filled in here) in an IPv6 frame from <paramref name="source"/> to <paramref name="destination"/>.</summary>
    public static byte[] IcmpV6(ulong srcMac, ulong dstMac, string source, string destination, byte hopLimit, byte[] icmp)
    {
        var from = IPAddress.Parse(source).GetAddressBytes();
        var to = IPAddress.Parse(destination).GetAddressBytes();
        icmp[2] = icmp[3] = 0;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(icmp.AsSpan(2), InternetChecksum.ComputeV6(from, to, 58, icmp));
        var frame = new byte[14 + 40 + icmp.Length];
        EthernetHeader.WriteMac(frame, dstMac);
        EthernetHeader.WriteMac(frame.AsSpan(6), srcMac);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), 0x86DD);
        frame[14] = 0x60;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(14 + 4), (ushort)icmp.Length);
        frame[14 + 6] = 58;
        frame[14 + 7] = hopLimit;
        from.CopyTo(frame, 14 + 8);
        to.CopyTo(frame, 14 + 24);
        icmp.CopyTo(frame, 14 + 40);
        return frame;
    }

    public static PhysicalAddress Mac(string text) => PhysicalAddress.Parse(text.Replace(':', '-').ToUpperInvariant());

    public static byte[] Udp(string dstMac, string dstIp, ushort dstPort, byte[] payload, string? srcIp = null, ushort srcPort = 40000)
    {
        var destination = IPAddress.Parse(dstIp);
        var source = srcIp is null ? PeerOf(destination) : IPAddress.Parse(srcIp);
        return Frames.Udp(PeerMac, Frames.Mac(dstMac), new IPEndPoint(source, srcPort), new IPEndPoint(destination, dstPort), payload);
    }

    /// <summary>A TCP segment from <paramref name="srcIp"/>, with the flags of a SYN unless told otherwise.</summary>
    public static byte[] Tcp(string dstMac, string dstIp, ushort dstPort, string srcIp, ushort srcPort = 40000, bool syn = true, bool ack = false, bool rst = false,
        uint sequence = 1000, uint acknowledgment = 0, byte[]? payload = null, string? srcMac = null, bool fin = false, bool psh = false, byte[]? options = null)
    {
        var flags = (syn ? TcpSegmentFlags.Syn : 0) | (ack ? TcpSegmentFlags.Ack : 0) | (rst ? TcpSegmentFlags.Rst : 0) | (fin ? TcpSegmentFlags.Fin : 0) | (psh ? TcpSegmentFlags.Psh : 0);
        return Frames.Tcp(srcMac is null ? PeerMac : Frames.Mac(srcMac), Frames.Mac(dstMac), new IPEndPoint(IPAddress.Parse(srcIp), srcPort),
            new IPEndPoint(IPAddress.Parse(dstIp), dstPort), flags, sequence, acknowledgment, payload, options: options);
    }

    public static byte[] ArpRequest(string targetIp, IPAddress? senderIp = null) =>
        Frames.ArpRequest(PeerMac, senderIp ?? PeerIp, IPAddress.Parse(targetIp));

    /// <summary>An ARP reply: <paramref name="senderIp"/> is at <paramref name="senderMac"/> (sent from that MAC), to the target.</summary>
    public static byte[] ArpReply(string senderIp, string senderMac, string targetIp, string targetMac) =>
        Frames.ArpReply(senderMac, senderIp, targetMac, targetIp);

    /// <summary>A neighbour advertisement from the peer: <paramref name="targetIp"/> is at <paramref name="mac"/>, to <paramref name="dstIp"/>.</summary>
    public static byte[] NeighborAdvertisement(string dstMac, string dstIp, string targetIp, string mac, bool solicited, int hopLimit = 255) =>
        Frames.NeighborAdvertisement(PeerMac, Frames.Mac(dstMac), PeerIp6, IPAddress.Parse(dstIp), IPAddress.Parse(targetIp), Frames.Mac(mac), solicited, hopLimit);

    public static byte[] Ping(string dstMac, string dstIp, ushort id = 7, ushort sequence = 1, int dataLength = 32) =>
        Frames.EchoRequest(PeerMac, Frames.Mac(dstMac), PeerIp, IPAddress.Parse(dstIp), id, sequence, dataLength: dataLength);

    public static byte[] Ping6(string dstMac, string dstIp, ushort id = 9, ushort sequence = 1) =>
        Frames.EchoRequest(PeerMac, Frames.Mac(dstMac), PeerIp6, IPAddress.Parse(dstIp), id, sequence, dataLength: 16);

    /// <summary>A neighbour solicitation for <paramref name="targetIp"/>, to its solicited-node multicast group.</summary>
    public static byte[] NeighborSolicitation(string targetIp) => Frames.NeighborSolicitation(PeerMac, PeerIp6, IPAddress.Parse(targetIp));

    /// <summary>Inserts an 802.1Q tag with <paramref name="vlan"/> after the MACs.</summary>
    public static byte[] Tag(byte[] frame, int vlan) => Frames.Tag(frame, vlan);

    public static Packet Parse(byte[] frame) => Packet.ParsePacket(LinkLayers.Ethernet, frame);

    private static IPAddress PeerOf(IPAddress destination) =>
        destination.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? PeerIp6 : PeerIp;
}
