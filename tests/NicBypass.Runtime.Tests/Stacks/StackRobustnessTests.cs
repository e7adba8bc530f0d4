using System.Net;
using CsCheck;
using NicBypass.Runtime;
using NicBypass.Runtime.Packets;
using NicBypass.Runtime.Stacks;

namespace NicBypass.Runtime.Tests;

/// <summary>
/// Whatever arrives — valid frames of every kind the stack handles, with bytes flipped and ends
/// cut off — the stack never throws, every frame ends delivered, answered or dropped with a
/// reason, and whatever it sends is a well-formed frame from its own MAC.
/// </summary>
public class StackRobustnessTests
{
    private const ulong Mac = 0x02_00_00_00_00_01;

    private static readonly byte[][] Seeds =
    {
        TestFrames.ArpRequest("10.0.0.1"),
        TestFrames.Ping("02:00:00:00:00:01", "10.0.0.1"),
        TestFrames.Udp("02:00:00:00:00:01", "10.0.0.1", 53, new byte[24]),
        TestFrames.Udp("02:00:00:00:00:01", "10.0.0.1", 9999, new byte[24]),
        TestFrames.Udp("02:00:00:00:00:01", "fd00::1", 53, new byte[24]),
        TestFrames.NeighborSolicitation("fd00::1"),
        TestFrames.Ping6("02:00:00:00:00:01", "fd00::1"),
        Syn("10.0.0.1", 80),
        Syn("10.0.0.1", 81),
        Syn("fd00::1", 80),
    };

    [Fact]
    public void Mangled_frames_never_crash_the_stack_and_every_one_is_accounted_for()
    {
        var mutation = Gen.Select(Gen.Int[0, Seeds.Length - 1], Gen.Int[0, 6], Gen.Int[0, 10_000].Array[6], Gen.Byte.Array[6], Gen.Int[0, 3]);
        mutation.Array[1, 60].Sample(frames =>
        {
            var output = new CheckingOutput();
            var stack = new NetworkStack(Mac, new[] { IPAddress.Parse("10.0.0.1"), IPAddress.Parse("fd00::1") }, 1500, new VirtualClock(), output,
                new StackSettings(Ports: new[] { 53, 80 }));
            stack.BindUdp(53);
            stack.ListenTcp(80);
            foreach (var (seed, flips, positions, values, cut) in frames)
            {
                var frame = (byte[])Seeds[seed].Clone();
                for (var i = 0; i < flips; i++) frame[positions[i] % frame.Length] = values[i];
                // Half the time the checksums are made right again, so mangled headers get past them
                // into ARP, ICMP, UDP and the TCP state machine.
                if (cut >= 2) Reseal(frame);
                var length = cut == 0 ? positions[5] % (frame.Length + 1) : frame.Length;
                stack.Receive(frame.AsSpan(0, length));
                stack.Tick();
            }
            var c = stack.Counters;
            Assert.Equal(frames.Length, c.Received);
            Assert.Equal(c.Received, c.Delivered + c.Answered + c.DroppedTotal + c.FragmentsJoined + c.FragmentsHeld);
            Assert.Null(output.Problem);
        }, iter: 300);
    }

    [Fact]
    public void A_connection_accepted_on_a_second_address_answers_from_it()
    {
        var harness = new StackHarness(topology: StackHarness.Topology.Replace("ip 10.0.0.3;", "ip 10.0.0.3; ip 10.0.0.33;"));
        var listener = harness.Db.Stack.ListenTcp(5432);
        var client = harness.Web.Stack.ConnectTcp(NetworkEndpoint.Parse("10.0.0.33", 5432));
        TcpConnection? server = null;

        Assert.True(harness.RunUntil(() => listener.TryAccept(out server)));
        Assert.Equal(NetworkAddress.Parse("10.0.0.33"), server!.LocalAddress);
        Assert.Equal(TcpState.Established, client.State);
    }

    private static void Reseal(byte[] frame)
    {
        if (frame.Length < 14) return;
        var ip = frame.AsSpan(14);
        int headerLength, payloadLength;
        byte protocol;
        if (frame[12] == 0x08 && frame[13] == 0x00 && ip.Length >= 20 && ip[0] >> 4 == 4)
        {
            headerLength = (ip[0] & 0x0F) * 4;
            if (headerLength < 20 || headerLength > ip.Length) return;
            ip[10] = ip[11] = 0;
            var sum = InternetChecksum.Compute(ip.Slice(0, headerLength));
            ip[10] = (byte)(sum >> 8);
            ip[11] = (byte)sum;
            payloadLength = Math.Min(ip.Length, (ip[2] << 8) | ip[3]) - headerLength;
            protocol = ip[9];
        }
        else if (frame[12] == 0x86 && frame[13] == 0xDD && ip.Length >= 40)
        {
            headerLength = 40;
            payloadLength = Math.Min(ip.Length - 40, (ip[4] << 8) | ip[5]);
            protocol = ip[6];
        }
        else return;
        if (payloadLength < 8) return;
        var segment = ip.Slice(headerLength, payloadLength);
        var offset = protocol switch { 6 when segment.Length >= 20 => 16, 17 => 6, 1 or 58 => 2, _ => -1 };
        if (offset < 0) return;
        segment[offset] = segment[offset + 1] = 0;
        var v6 = headerLength == 40;
        var checksum = protocol == 1
            ? InternetChecksum.Compute(segment)
            : v6 ? InternetChecksum.ComputeV6(ip.Slice(8, 16), ip.Slice(24, 16), protocol, segment) : InternetChecksum.ComputeV4(ip.Slice(12, 4), ip.Slice(16, 4), protocol, segment);
        segment[offset] = (byte)(checksum >> 8);
        segment[offset + 1] = (byte)checksum;
    }

    private static byte[] Syn(string destination, ushort port)
    {
        var address = IPAddress.Parse(destination);
        var v6 = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;
        var syn = new PacketDotNet.TcpPacket(40000, port) { Synchronize = true, SequenceNumber = 7, WindowSize = 4096 };
        PacketDotNet.Packet ip = v6
            ? new PacketDotNet.IPv6Packet(TestFrames.PeerIp6.Equals(address) ? IPAddress.Parse("fd00::9") : TestFrames.PeerIp6, address) { PayloadPacket = syn }
            : new PacketDotNet.IPv4Packet(TestFrames.PeerIp, address) { PayloadPacket = syn };
        var ether = new PacketDotNet.EthernetPacket(TestFrames.Peer, TestFrames.Mac("02:00:00:00:00:01"), v6 ? PacketDotNet.EthernetType.IPv6 : PacketDotNet.EthernetType.IPv4) { PayloadPacket = ip };
        ether.UpdateCalculatedValues();
        syn.UpdateTcpChecksum();
        if (ip is PacketDotNet.IPv4Packet v4) v4.UpdateIPChecksum();
        return ether.Bytes;
    }

    // Checks every frame the stack sends: a whole Ethernet header from the stack's own MAC, and
    // for IP an IP header whose length fits the frame.
    private sealed class CheckingOutput : IStackOutput
    {
        public string? Problem { get; private set; }

        public SendStatus Send(ReadOnlySpan<byte> frame)
        {
            if (frame.Length < EthernetHeader.Length || EthernetHeader.ReadMac(frame.Slice(6)) != Mac) Problem ??= $"a {frame.Length}-byte frame not from the stack's MAC";
            else if (frame[12] == 0x08 && frame[13] == 0x00 && (frame.Length < 34 || 14 + ((frame[16] << 8) | frame[17]) > frame.Length)) Problem ??= "an IPv4 packet longer than its frame";
            else if (frame[12] == 0x86 && frame[13] == 0xDD && (frame.Length < 54 || 54 + ((frame[18] << 8) | frame[19]) > frame.Length)) Problem ??= "an IPv6 packet longer than its frame";
            return SendStatus.Sent;
        }

        public Task WhenWritable() => Task.CompletedTask;
    }
}
