using System.Buffers.Binary;
using System.Net;
using NicBypass.Runtime.Packets;
using NicBypass.Runtime.Stacks;
using PacketDotNet;

namespace NicBypass.Runtime.Tests;

/// <summary>The test author's frame builders and captures (README.md § Use it in a project), checked by PacketDotNet and by a host's own stacks.</summary>
public class FramesTests
{
    private const string Topology = """
        host h {
            nic e0 { model simnic-100g; rx-rings 4 }
            vm v on e0 { mac 02:00:00:00:00:01; ip 10.0.0.1; ip fd00::1 }
            container web on e0 { mac 02:00:00:00:00:02; ip 10.0.0.2; vlan 7; protocols tcp udp; ports 53 80 }
        }
        """;

    [Fact]
    public void Each_builder_makes_a_frame_packetdotnet_reads_with_valid_checksums()
    {
        var udp = TestFrames.Parse(Frames.Udp("02:aa:00:00:00:01", "02:00:00:00:00:02", "10.0.0.9:5000", "10.0.0.2:53", new byte[] { 1, 2, 3 }));
        var udpPacket = udp.Extract<UdpPacket>();
        Assert.Equal((5000, 53), (udpPacket.SourcePort, udpPacket.DestinationPort));
        Assert.True(udpPacket.ValidUdpChecksum);
        Assert.True(udp.Extract<IPv4Packet>().ValidIPChecksum);

        var syn6 = TestFrames.Parse(Frames.TcpSyn("02:aa:00:00:00:01", "02:00:00:00:00:01", "[fd00::9]:40000", "[fd00::1]:80"));
        var tcp = syn6.Extract<TcpPacket>();
        Assert.True(tcp.Synchronize && !tcp.Acknowledgment);
        Assert.True(tcp.ValidTcpChecksum);
        Assert.Equal(IPAddress.Parse("fd00::1"), syn6.Extract<IPv6Packet>().DestinationAddress);

        var arp = TestFrames.Parse(Frames.ArpRequest("02:aa:00:00:00:01", "10.0.0.9", "10.0.0.1")).Extract<ArpPacket>();
        Assert.Equal(IPAddress.Parse("10.0.0.1"), arp.TargetProtocolAddress);

        var tagged = Frames.EchoRequest("02:aa:00:00:00:01", "02:00:00:00:00:02", "10.0.0.9", "10.0.0.2", vlan: 7);
        Assert.Equal(0x8100, BinaryPrimitives.ReadUInt16BigEndian(tagged.AsSpan(12)));
        Assert.Equal(7, BinaryPrimitives.ReadUInt16BigEndian(tagged.AsSpan(14)));
        Assert.Throws<FormatException>(() => Frames.Udp("02:aa:00:00:00:01", "02:00", "10.0.0.9:1", "10.0.0.2:53", default));
        Assert.Throws<ArgumentException>(() => Frames.Udp("02:aa:00:00:00:01", "02:00:00:00:00:02", "10.0.0.9:1", "[fd00::2]:53", default));
    }

    [Fact]
    public void Ipv4_options_are_inserted_padded_with_the_lengths_and_checksum_made_right()
    {
        var ping = Frames.EchoRequest("02:aa:00:00:00:01", "02:00:00:00:00:01", "10.0.0.9", "10.0.0.1");

        var frame = Frames.WithIpv4Options(ping, [7, 7, 4, 0, 0, 0, 0]); // a record route of one slot: 7 bytes, padded to 8

        var ip = TestFrames.Parse(frame).Extract<IPv4Packet>();
        Assert.Equal(28, ip.HeaderLength * 4);
        Assert.True(ip.ValidIPChecksum);
        Assert.Equal(ping.Length - 14 + 8, ip.TotalLength);
        Assert.Equal(new byte[] { 7, 7, 4, 0, 0, 0, 0, 0 }, frame[34..42]); // the option, then end-of-options
        Assert.Equal(ping[34..], frame[42..]);                            // the ICMP message as it was
        Assert.Throws<ArgumentOutOfRangeException>(() => Frames.WithIpv4Options(ping, new byte[41]));
        Assert.Throws<ArgumentException>(() => Frames.WithIpv4Options(frame, [1]));                  // options already there
        Assert.Throws<ArgumentException>(() => Frames.WithIpv4Options(Frames.Tag(ping, 7), [1]));    // tagged
    }

    [Fact]
    public void Tcp_segments_arp_replies_neighbour_discovery_and_tags_are_what_packetdotnet_reads()
    {
        var data = TestFrames.Parse(Frames.Tcp("02:aa:00:00:00:01", "02:00:00:00:00:02", "10.0.0.9:40000", "10.0.0.2:80",
            TcpSegmentFlags.Ack | TcpSegmentFlags.Psh, sequence: 5, acknowledgment: 9, payload: [1, 2, 3, 4], window: 1000));
        var tcp = data.Extract<TcpPacket>();
        Assert.True(tcp.Acknowledgment && tcp.Push && !tcp.Synchronize && !tcp.Reset);
        Assert.Equal((5u, 9u, (ushort)1000), (tcp.SequenceNumber, tcp.AcknowledgmentNumber, tcp.WindowSize));
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, tcp.PayloadData);
        Assert.True(tcp.ValidTcpChecksum);

        var reply = TestFrames.Parse(Frames.ArpReply("02:aa:00:00:00:01", "10.0.0.9", "02:00:00:00:00:01", "10.0.0.1"));
        var arp = reply.Extract<ArpPacket>();
        Assert.Equal(ArpOperation.Response, arp.Operation);
        Assert.Equal(IPAddress.Parse("10.0.0.9"), arp.SenderProtocolAddress);
        Assert.Equal(TestFrames.Mac("02:00:00:00:00:01"), arp.TargetHardwareAddress);
        Assert.Equal(TestFrames.Mac("02:00:00:00:00:01"), ((EthernetPacket)reply).DestinationHardwareAddress);

        var solicitation = TestFrames.Parse(Frames.NeighborSolicitation("02:aa:00:00:00:01", "fd00::9", "fd00::1:2:3"));
        var ns = solicitation.Extract<NdpNeighborSolicitationPacket>();
        Assert.Equal(IPAddress.Parse("fd00::1:2:3"), ns.TargetAddress);
        Assert.Equal(IPAddress.Parse("ff02::1:ff02:3"), solicitation.Extract<IPv6Packet>().DestinationAddress);
        Assert.Equal(255, solicitation.Extract<IPv6Packet>().HopLimit);
        Assert.Equal(TestFrames.Mac("33:33:ff:02:00:03"), ((EthernetPacket)solicitation).DestinationHardwareAddress);
        Assert.True(solicitation.Extract<IcmpV6Packet>().ValidIcmpChecksum);

        var advertisement = TestFrames.Parse(Frames.NeighborAdvertisement("02:aa:00:00:00:01", "02:00:00:00:00:01", "fd00::9", "fd00::1", "fd00::9", "02:aa:00:00:00:01", solicited: true, hopLimit: 64));
        var na = advertisement.Extract<NdpNeighborAdvertisementPacket>();
        Assert.True(na.Solicited && na.Override && !na.Router);
        Assert.Equal(IPAddress.Parse("fd00::9"), na.TargetAddress);
        Assert.Equal(64, advertisement.Extract<IPv6Packet>().HopLimit);
        Assert.True(advertisement.Extract<IcmpV6Packet>().ValidIcmpChecksum);

        var untagged = Frames.EchoRequest("02:aa:00:00:00:01", "02:00:00:00:00:02", "10.0.0.9", "10.0.0.2", dataLength: 100);
        var tagged = Frames.Tag(untagged, 20);
        Assert.Equal(untagged.Length + 4, tagged.Length);
        var vlan = TestFrames.Parse(tagged).Extract<Ieee8021QPacket>();
        Assert.Equal(20, vlan.VlanIdentifier);
        Assert.Equal(100, TestFrames.Parse(tagged).Extract<IcmpV4Packet>().Data.Length);
        Assert.True(TestFrames.Parse(tagged).Extract<IPv4Packet>().ValidIPChecksum);
    }

    [Fact]
    public void A_host_answers_the_built_frames_and_a_capture_holds_what_the_vnic_delivered()
    {
        var (host, wires) = TestHost.Build(Topology);
        var path = Path.Combine(Path.GetTempPath(), $"nicbypass-capture-{Guid.NewGuid():N}.pcap");
        try
        {
            var listener = host.NetworkStack("web").Stack.ListenTcp(80);
            using (var capture = host.Capture("web", path))
            {
                host.Send("e0",
                    Frames.EchoRequest("02:aa:00:00:00:01", "02:00:00:00:00:01", "10.0.0.9", "10.0.0.1", id: 3, sequence: 4),
                    Frames.EchoRequest("02:aa:00:00:00:01", "02:00:00:00:00:01", "fd00::9", "fd00::1"),
                    Frames.TcpSyn("02:aa:00:00:00:01", "02:00:00:00:00:02", "10.0.0.9:40000", "10.0.0.2:80", vlan: 7));
                Assert.Equal(1, capture.Frames);
            }
            Assert.Equal(2, host.VirtualMachine("v").Counters.EchoRepliesSent);
            Assert.Contains(wires["e0"].Frames, f => TestFrames.Parse(f).Extract<TcpPacket>() is { Synchronize: true, Acknowledgment: true });

            // The capture: a pcap header, then the SYN as the VNS saw it (tag removed).
            var bytes = File.ReadAllBytes(path);
            Assert.Equal(0xA1B23C4D, BinaryPrimitives.ReadUInt32LittleEndian(bytes)); // pcap, nanosecond timestamps
            var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(24 + 8));
            Assert.Equal(24 + 16 + length, bytes.Length);
            Assert.Equal(0x0800, BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(24 + 16 + 12)));
            Assert.NotNull(listener);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
