using System.Buffers.Binary;
using System.Net;
using NicBypass.Runtime.Packets;
using NicBypass.Runtime.Stacks;

namespace NicBypass.Runtime.Tests;

/// <summary>
/// Frames to one neighbour leave in the order they were sent, even when some waited for its MAC
/// and another thread sends while the answer releases them.
/// </summary>
public class NeighborResolutionOrderTests
{
    private const ulong Mac = 0x02_00_00_00_00_01, PeerMac = 0x02_00_00_00_00_09;

    [Fact]
    public void A_send_from_another_thread_while_parked_frames_leave_goes_after_them()
    {
        var output = new RacingOutput();
        var stack = new NetworkStack(Mac, new[] { IPAddress.Parse("10.0.0.1") }, 1500, new VirtualClock(), output, new StackSettings(StackProtocols.Udp));
        var socket = stack.BindUdp(53);
        var peer = NetworkEndpoint.Parse("10.0.0.9", 9);
        // Two datagrams wait for the peer's MAC (an ARP request goes out).
        socket.TrySendTo(peer, new byte[] { 1 });
        socket.TrySendTo(peer, new byte[] { 2 });
        // As the first leaves, another thread sends a third to the same peer.
        output.OnFirstDatagram = () => socket.TrySendTo(peer, new byte[] { 3 });

        stack.Receive(Frames.ArpReply(PeerMac, IPAddress.Parse("10.0.0.9"), Mac, IPAddress.Parse("10.0.0.1")));
        output.Racer!.Join(TimeSpan.FromSeconds(10));

        Assert.Equal(new byte[] { 1, 2, 3 }, output.Datagrams());
    }

    [Theory]
    [InlineData(100, 10, 100, 0)]      // 100 small datagrams all wait (Linux's unres_qlen is 101)
    [InlineData(150, 10, 101, 49)]     // past 101 frames the oldest go
    [InlineData(100, 4000, 52, 48)]    // past 212,992 bytes the oldest go: 52 frames of 4,042 bytes fit
    public void Frames_wait_for_a_neighbours_mac_up_to_linuxs_bounds_and_past_them_the_oldest_go(int sent, int size, int arrived, int dropped)
    {
        var output = new RecordingOutput();
        var stack = new NetworkStack(Mac, new[] { IPAddress.Parse("10.0.0.1") }, 9000, new VirtualClock(), output, new StackSettings(StackProtocols.Udp));
        var socket = stack.BindUdp(53);
        var peer = NetworkEndpoint.Parse("10.0.0.9", 9);
        var payload = new byte[size];
        for (var i = 0; i < sent; i++)
        {
            payload[0] = (byte)i;
            Assert.Equal(SendStatus.Queued, socket.TrySendTo(peer, payload));
        }

        stack.Receive(Frames.ArpReply(PeerMac, IPAddress.Parse("10.0.0.9"), Mac, IPAddress.Parse("10.0.0.1")));

        Assert.Equal(arrived, output.Datagrams.Count);
        Assert.Equal((byte)(sent - arrived), output.Datagrams[0]); // the newest waited; the oldest were dropped
        Assert.Equal(dropped, stack.Counters.SendDropped(StackDropReason.Unresolved));
    }

    private sealed class RecordingOutput : IStackOutput
    {
        public List<byte> Datagrams { get; } = new();

        public SendStatus Send(ReadOnlySpan<byte> frame)
        {
            if (BinaryPrimitives.ReadUInt16BigEndian(frame.Slice(12)) == EtherType.Ipv4) Datagrams.Add(frame[EthernetHeader.Length + 20 + 8]);
            return SendStatus.Sent;
        }

        public Task WhenWritable() => Task.CompletedTask;
    }

    // Records the datagrams' first payload bytes in the order they reach the output. On the first
    // one it starts a thread that sends another and gives it time to overtake what is still being
    // released: a send that does not wait for the release would get in before the second frame.
    private sealed class RacingOutput : IStackOutput
    {
        private readonly List<byte> _datagrams = new();

        public Action? OnFirstDatagram { get; set; }
        public Thread? Racer { get; private set; }

        public List<byte> Datagrams()
        {
            lock (_datagrams) return _datagrams.ToList();
        }

        public SendStatus Send(ReadOnlySpan<byte> frame)
        {
            if (BinaryPrimitives.ReadUInt16BigEndian(frame.Slice(12)) != EtherType.Ipv4) return SendStatus.Sent; // the ARP request
            Assert.Equal(PeerMac, EthernetHeader.ReadMac(frame));
            lock (_datagrams) _datagrams.Add(frame[EthernetHeader.Length + 20 + 8]);
            if (OnFirstDatagram is { } send && Racer is null)
            {
                Racer = new Thread(() => send()) { IsBackground = true };
                Racer.Start();
                Racer.Join(TimeSpan.FromMilliseconds(300)); // a sender let through finishes here; one held back waits
            }
            return SendStatus.Sent;
        }

        public Task WhenWritable() => Task.CompletedTask;
    }
}
