using System.Buffers.Binary;
using System.Net;
using System.Net.NetworkInformation;
using PacketDotNet;
using PacketDotNet.Utils;

namespace NicBypass.Runtime.Tests;

/// <summary>Frames built with PacketDotNet — an independent implementation — for the tests to send.</summary>
internal static class TestFrames
{
    public static readonly PhysicalAddress Peer = PhysicalAddress.Parse("02-AA-00-00-00-01");
    public static readonly IPAddress PeerIp = IPAddress.Parse("192.168.10.1");
    public static readonly IPAddress PeerIp6 = IPAddress.Parse("fd00::1");

    public static PhysicalAddress Mac(string text) => PhysicalAddress.Parse(text.Replace(':', '-').ToUpperInvariant());

    public static byte[] Udp(string dstMac, string dstIp, ushort dstPort, byte[] payload, string? srcIp = null, ushort srcPort = 40000)
    {
        var source = srcIp is null ? (IPAddress.Parse(dstIp).AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? PeerIp6 : PeerIp) : IPAddress.Parse(srcIp);
        var udp = new UdpPacket(srcPort, dstPort) { PayloadData = payload };
        Packet ip = source.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
            ? new IPv6Packet(source, IPAddress.Parse(dstIp)) { PayloadPacket = udp }
            : new IPv4Packet(source, IPAddress.Parse(dstIp)) { PayloadPacket = udp };
        var ether = new EthernetPacket(Peer, Mac(dstMac), ip is IPv6Packet ? EthernetType.IPv6 : EthernetType.IPv4) { PayloadPacket = ip };
        ether.UpdateCalculatedValues();
        udp.UpdateUdpChecksum();
        if (ip is IPv4Packet v4) v4.UpdateIPChecksum();
        return ether.Bytes;
    }

    /// <summary>A TCP segment from <paramref name="srcIp"/> (IPv4), with the flags of a SYN unless told otherwise.</summary>
    public static byte[] Tcp(string dstMac, string dstIp, ushort dstPort, string srcIp, ushort srcPort = 40000, bool syn = true, bool ack = false, bool rst = false,
        uint sequence = 1000, uint acknowledgment = 0, byte[]? payload = null, string? srcMac = null)
    {
        var tcp = new TcpPacket(srcPort, dstPort)
        {
            Synchronize = syn, Acknowledgment = ack, Reset = rst, SequenceNumber = sequence, AcknowledgmentNumber = acknowledgment, WindowSize = 65535,
            PayloadData = payload ?? Array.Empty<byte>(),
        };
        var ip = new IPv4Packet(IPAddress.Parse(srcIp), IPAddress.Parse(dstIp)) { PayloadPacket = tcp };
        var ether = new EthernetPacket(srcMac is null ? Peer : Mac(srcMac), Mac(dstMac), EthernetType.IPv4) { PayloadPacket = ip };
        ether.UpdateCalculatedValues();
        tcp.UpdateTcpChecksum();
        ip.UpdateIPChecksum();
        return ether.Bytes;
    }

    public static byte[] ArpRequest(string targetIp, IPAddress? senderIp = null)
    {
        var arp = new ArpPacket(ArpOperation.Request, PhysicalAddress.Parse("00-00-00-00-00-00"), IPAddress.Parse(targetIp), Peer, senderIp ?? PeerIp);
        var ether = new EthernetPacket(Peer, PhysicalAddress.Parse("FF-FF-FF-FF-FF-FF"), EthernetType.Arp) { PayloadPacket = arp };
        return ether.Bytes;
    }

    /// <summary>An ARP reply: <paramref name="senderIp"/> is at <paramref name="senderMac"/> (sent from that MAC), to the target.</summary>
    public static byte[] ArpReply(string senderIp, string senderMac, string targetIp, string targetMac)
    {
        var arp = new ArpPacket(ArpOperation.Response, Mac(targetMac), IPAddress.Parse(targetIp), Mac(senderMac), IPAddress.Parse(senderIp));
        var ether = new EthernetPacket(Mac(senderMac), Mac(targetMac), EthernetType.Arp) { PayloadPacket = arp };
        return ether.Bytes;
    }

    /// <summary>A neighbour advertisement from the peer: <paramref name="targetIp"/> is at <paramref name="mac"/>, to <paramref name="dstIp"/>.</summary>
    public static byte[] NeighborAdvertisement(string dstMac, string dstIp, string targetIp, string mac, bool solicited, int hopLimit = 255) =>
        Icmp6(Mac(dstMac), IPAddress.Parse(dstIp), 136, w =>
        {
            w[4] = (byte)((solicited ? 0x40 : 0) | 0x20); // (S), O
            IPAddress.Parse(targetIp).GetAddressBytes().CopyTo(w, 8);
            w[24] = 2; // target link-layer address option
            w[25] = 1;
            Mac(mac).GetAddressBytes().CopyTo(w, 26);
        }, 32, hopLimit);

    public static byte[] Ping(string dstMac, string dstIp, ushort id = 7, ushort sequence = 1, int dataLength = 32)
    {
        var bytes = new byte[8 + dataLength];
        bytes[0] = 8;
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(4), id);
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(6), sequence);
        for (var i = 0; i < dataLength; i++) bytes[8 + i] = (byte)i;
        var icmp = new IcmpV4Packet(new ByteArraySegment(bytes));
        var ip = new IPv4Packet(PeerIp, IPAddress.Parse(dstIp)) { PayloadPacket = icmp };
        var ether = new EthernetPacket(Peer, Mac(dstMac), EthernetType.IPv4) { PayloadPacket = ip };
        icmp.UpdateIcmpChecksum();
        ip.UpdateCalculatedValues();
        ip.UpdateIPChecksum();
        return ether.Bytes;
    }

    public static byte[] Ping6(string dstMac, string dstIp, ushort id = 9, ushort sequence = 1) =>
        Icmp6(Mac(dstMac), IPAddress.Parse(dstIp), 128, w => { BinaryPrimitives.WriteUInt16BigEndian(w.AsSpan(4), id); BinaryPrimitives.WriteUInt16BigEndian(w.AsSpan(6), sequence); }, 8 + 16);

    /// <summary>A neighbour solicitation for <paramref name="targetIp"/>, to its solicited-node multicast group.</summary>
    public static byte[] NeighborSolicitation(string targetIp)
    {
        var target = IPAddress.Parse(targetIp).GetAddressBytes();
        var group = IPAddress.Parse($"ff02::1:ff{target[13]:x2}:{target[14]:x2}{target[15]:x2}");
        var groupMac = PhysicalAddress.Parse($"33-33-FF-{target[13]:X2}-{target[14]:X2}-{target[15]:X2}");
        return Icmp6(groupMac, group, 135, w =>
        {
            target.CopyTo(w, 8);
            w[24] = 1; // source link-layer address option
            w[25] = 1;
            Peer.GetAddressBytes().CopyTo(w, 26);
        }, 32, hopLimit: 255);
    }

    // Built by hand: PacketDotNet's ICMPv6 constructor pads the message. The test's own checksum
    // code is independent of the runtime's, and PacketDotNet checks the result.
    private static byte[] Icmp6(PhysicalAddress dstMac, IPAddress dst, byte type, Action<byte[]> fill, int length, int hopLimit = 64)
    {
        var icmp = new byte[length];
        icmp[0] = type;
        fill(icmp);
        var frame = new byte[14 + 40 + length];
        dstMac.GetAddressBytes().CopyTo(frame, 0);
        Peer.GetAddressBytes().CopyTo(frame, 6);
        frame[12] = 0x86;
        frame[13] = 0xDD;
        frame[14] = 0x60;
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(18), (ushort)length);
        frame[20] = 58;
        frame[21] = (byte)hopLimit;
        PeerIp6.GetAddressBytes().CopyTo(frame, 22);
        dst.GetAddressBytes().CopyTo(frame, 38);
        var pseudo = new List<byte>();
        pseudo.AddRange(PeerIp6.GetAddressBytes());
        pseudo.AddRange(dst.GetAddressBytes());
        pseudo.AddRange(new byte[] { 0, 0, (byte)(length >> 8), (byte)length, 0, 0, 0, 58 });
        pseudo.AddRange(icmp);
        long sum = 0;
        for (var i = 0; i < pseudo.Count; i += 2) sum += (pseudo[i] << 8) | (i + 1 < pseudo.Count ? pseudo[i + 1] : 0);
        while (sum >> 16 != 0) sum = (sum & 0xFFFF) + (sum >> 16);
        BinaryPrimitives.WriteUInt16BigEndian(icmp.AsSpan(2), (ushort)~sum);
        icmp.CopyTo(frame, 54);
        if (!Parse(frame).Extract<IcmpV6Packet>().ValidIcmpChecksum) throw new InvalidOperationException("test frame has a bad ICMPv6 checksum");
        return frame;
    }

    /// <summary>Inserts an 802.1Q tag with <paramref name="vlan"/> after the MACs.</summary>
    public static byte[] Tag(byte[] frame, int vlan)
    {
        var tagged = new byte[frame.Length + 4];
        frame.AsSpan(0, 12).CopyTo(tagged);
        BinaryPrimitives.WriteUInt16BigEndian(tagged.AsSpan(12), 0x8100);
        BinaryPrimitives.WriteUInt16BigEndian(tagged.AsSpan(14), (ushort)vlan);
        frame.AsSpan(12).CopyTo(tagged.AsSpan(16));
        return tagged;
    }

    public static Packet Parse(byte[] frame) => Packet.ParsePacket(LinkLayers.Ethernet, frame);
}
