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

    private const ulong PeerMac = 0x02AA_0000_0001UL;

    public static PhysicalAddress Mac(string text) => PhysicalAddress.Parse(text.Replace(':', '-').ToUpperInvariant());

    public static byte[] Udp(string dstMac, string dstIp, ushort dstPort, byte[] payload, string? srcIp = null, ushort srcPort = 40000)
    {
        var destination = IPAddress.Parse(dstIp);
        var source = srcIp is null ? PeerOf(destination) : IPAddress.Parse(srcIp);
        return Frames.Udp(PeerMac, Frames.Mac(dstMac), new IPEndPoint(source, srcPort), new IPEndPoint(destination, dstPort), payload);
    }

    /// <summary>A TCP segment from <paramref name="srcIp"/>, with the flags of a SYN unless told otherwise.</summary>
    public static byte[] Tcp(string dstMac, string dstIp, ushort dstPort, string srcIp, ushort srcPort = 40000, bool syn = true, bool ack = false, bool rst = false,
        uint sequence = 1000, uint acknowledgment = 0, byte[]? payload = null, string? srcMac = null, bool fin = false, bool psh = false)
    {
        var flags = (syn ? TcpSegmentFlags.Syn : 0) | (ack ? TcpSegmentFlags.Ack : 0) | (rst ? TcpSegmentFlags.Rst : 0) | (fin ? TcpSegmentFlags.Fin : 0) | (psh ? TcpSegmentFlags.Psh : 0);
        return Frames.Tcp(srcMac is null ? PeerMac : Frames.Mac(srcMac), Frames.Mac(dstMac), new IPEndPoint(IPAddress.Parse(srcIp), srcPort),
            new IPEndPoint(IPAddress.Parse(dstIp), dstPort), flags, sequence, acknowledgment, payload);
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
