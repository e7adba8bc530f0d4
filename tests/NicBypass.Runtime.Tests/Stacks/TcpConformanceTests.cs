using System.Net;
using NicBypass.Runtime.Packets;
using NicBypass.Runtime.Stacks;
using PacketDotNet;
using static NicBypass.Runtime.Tests.HandMadePeer;

namespace NicBypass.Runtime.Tests;

/// <summary>
/// RFC 9293's processing rules where a review of the connection found it wrong: the window an
/// old ACK carries, a simultaneous open, TIME-WAIT's restart, round trips measured without
/// timestamps (RFC 6298) and initial sequence numbers no one can guess (RFC 6528). Each against
/// a peer made by hand.
/// </summary>
public class TcpConformanceTests
{
    private const string OwnMac = "02:00:00:00:00:01", Own = "192.168.10.20";

    private static byte[] FromPeer(uint sequence, uint acknowledgment, ushort window = 65535, bool syn = false, bool fin = false, byte[]? payload = null, ushort sourcePort = 40000, ushort port = 80)
    {
        var flags = TcpSegmentFlags.Ack | (syn ? TcpSegmentFlags.Syn : 0) | (fin ? TcpSegmentFlags.Fin : 0);
        return Frames.Tcp(TestFrames.PeerMac, Frames.Mac(OwnMac), new IPEndPoint(IPAddress.Parse(Peer), sourcePort), new IPEndPoint(IPAddress.Parse(Own), port),
            flags, sequence, acknowledgment, payload, window: window);
    }

    private static List<TcpPacket> DataSegments(Connected c) =>
        c.Wire.Frames.Select(f => TestFrames.Parse(f).Extract<TcpPacket>()).Where(t => t is { PayloadData.Length: > 0 }).ToList();

    [Fact]
    public void An_ack_overtaken_by_a_later_one_does_not_reopen_the_window_the_later_one_closed()
    {
        // RFC 9293 3.10.7.4 (SND.WL1, SND.WL2): the peer acknowledged 1,000 bytes offering its
        // window, then 2,000 closing it; the second came first. The first, older, must not open
        // the window again: what went into it was dropped by the peer, and its timer counted a loss.
        var c = Establish();
        c.Connection.Send(new byte[2000]);
        c.Host.Pump();
        Assert.Equal(2000, c.Connection.Unacknowledged);

        c.Send(FromPeer(Data, c.OurNext + 2000, window: 0));   // B: all taken, window shut
        c.Send(FromPeer(Data, c.OurNext + 1000, window: 65535)); // A: older, overtaken
        c.Wire.Frames.Clear();
        c.Connection.Send(new byte[5000]);
        c.Host.Pump();

        Assert.Empty(DataSegments(c)); // the window is shut: nothing goes (a probe waits for its timer)

        // The peer opens it: the data goes.
        c.Send(FromPeer(Data, c.OurNext + 2000, window: 65535));
        Assert.Equal(5000, DataSegments(c).Sum(t => t.PayloadData.Length));
    }

    [Fact]
    public void A_simultaneous_open_completes_on_the_peers_syn_ack_with_an_ack()
    {
        // RFC 9293 figure 8: both sides send a SYN; each answers the other's with a SYN-ACK; each
        // SYN-ACK completes the handshake. It was answered with our SYN-ACK again, once a round
        // trip, for ever.
        var (host, clock, wire, vns) = Container(new StackSettings(StackProtocols.Tcp, new[] { 80 }));
        host.Nic("e0").Device.Receive(TestFrames.ArpRequest(Own, IPAddress.Parse(Peer))); // the peer's MAC, learned from its ARP
        host.Pump();
        var connection = vns.Stack.ConnectTcp(new NetworkEndpoint(NetworkAddress.Parse(Peer), 5000));
        host.Pump();
        var ourSyn = TestFrames.Parse(wire.Frames.Last()).Extract<TcpPacket>();
        Assert.True(ourSyn.Synchronize && !ourSyn.Acknowledgment);
        var ourPort = ourSyn.SourcePort;
        var iss = ourSyn.SequenceNumber;

        // The peer's SYN crosses ours: we answer with a SYN-ACK.
        host.Nic("e0").Device.Receive(TestFrames.Tcp(OwnMac, Own, ourPort, Peer, srcPort: 5000, sequence: PeerIss));
        host.Pump();
        var ourSynAck = TestFrames.Parse(wire.Frames.Last()).Extract<TcpPacket>();
        Assert.True(ourSynAck.Synchronize && ourSynAck.Acknowledgment);
        Assert.Equal(TcpState.SynReceived, connection.State);

        // The peer's SYN-ACK (its answer to our SYN): the connection is established and acknowledges it.
        var sent = wire.Frames.Count;
        host.Nic("e0").Device.Receive(FromPeer(PeerIss, iss + 1, syn: true, sourcePort: 5000, port: ourPort));
        host.Pump();

        Assert.Equal(TcpState.Established, connection.State);
        Assert.True(connection.Connected.IsCompletedSuccessfully);
        Assert.Equal(sent + 1, wire.Frames.Count);
        var ack = TestFrames.Parse(wire.Frames.Last()).Extract<TcpPacket>();
        Assert.True(ack.Acknowledgment && !ack.Synchronize);
        Assert.Equal(PeerIss + 1, ack.AcknowledgmentNumber);
        Assert.Equal(iss + 1, ack.SequenceNumber);

        // And data flows.
        connection.Send("hello"u8.ToArray());
        host.Pump();
        Assert.Equal("hello"u8.ToArray(), TestFrames.Parse(wire.Frames.Last()).Extract<TcpPacket>().PayloadData);
        GC.KeepAlive(clock);
    }

    [Fact]
    public void A_fin_again_in_time_wait_is_acknowledged_and_starts_the_wait_over()
    {
        // RFC 9293 3.10.7.4: our last ACK was lost, the peer sends its FIN again — the wait
        // restarts, so its next retransmission is still answered, not reset.
        var c = Establish();
        c.Connection.Close();
        c.Host.Pump();
        var ourFin = LastSegment(c);
        Assert.True(ourFin.Finished);
        c.Send(FromPeer(Data, c.OurNext + 1, fin: true)); // the peer acknowledges our FIN and closes too
        Assert.Equal(TcpState.TimeWait, c.Connection.State);

        c.Clock.Advance(TimeSpan.FromMilliseconds(800));
        c.Host.Pump();
        var sent = c.Wire.Frames.Count;
        c.Send(FromPeer(Data, c.OurNext + 1, fin: true)); // its FIN again
        Assert.Equal(sent + 1, c.Wire.Frames.Count);
        Assert.True(LastSegment(c) is { Acknowledgment: true, Reset: false } again && again.AcknowledgmentNumber == Data + 1);

        c.Clock.Advance(TimeSpan.FromMilliseconds(800)); // 1.6 s after entering: past the first wait's end
        c.Host.Pump();
        Assert.Equal(TcpState.TimeWait, c.Connection.State);
        c.Clock.Advance(TimeSpan.FromMilliseconds(300));
        c.Host.Pump();
        Assert.Equal(TcpState.Closed, c.Connection.State);
    }

    [Fact]
    public void Without_timestamps_the_timeout_follows_the_round_trip_of_timed_segments()
    {
        // RFC 6298 3: without timestamps a segment is timed (Karn's rule: not one sent twice).
        // Every ACK reset the timeout to the initial 200 ms instead: a 250 ms path timed out on
        // every flight.
        var c = Establish();
        Assert.False(c.Connection.Negotiated.Timestamps);
        var acknowledged = 0u;
        for (var flight = 0; flight < 4; flight++)
        {
            c.Connection.Send(new byte[1000]);
            c.Host.Pump();
            c.Clock.Advance(TimeSpan.FromMilliseconds(flight == 0 ? 100 : 250));
            acknowledged += 1000;
            c.Send(FromPeer(Data, c.OurNext + acknowledged));
        }

        Assert.Equal(0, c.Connection.Retransmissions);
        Assert.NotNull(c.Connection.SmoothedRoundTripTime);
        Assert.InRange(c.Connection.SmoothedRoundTripTime!.Value.TotalMilliseconds, 100, 250);
        Assert.True(c.Connection.RetransmissionTimeout > TimeSpan.FromMilliseconds(250), $"timeout {c.Connection.RetransmissionTimeout}");
    }

    [Fact]
    public void Without_timestamps_the_handshakes_round_trip_sets_the_first_flights_timeout()
    {
        // RFC 6298 2.2 with the handshake as the first measure (as Linux's): three times it.
        var (host, clock, wire, vns) = Container(new StackSettings(StackProtocols.Tcp, new[] { 80 }));
        var listener = vns.Stack.ListenTcp(80);
        host.Nic("e0").Device.Receive(TestFrames.Tcp(OwnMac, Own, 80, Peer, sequence: PeerIss));
        host.Pump();
        var synAck = TestFrames.Parse(wire.Frames.Last()).Extract<TcpPacket>();
        clock.Advance(TimeSpan.FromMilliseconds(150));
        host.Nic("e0").Device.Receive(FromPeer(Data, synAck.SequenceNumber + 1));
        host.Pump();
        Assert.True(listener.TryAccept(out var connection));

        Assert.Equal(TimeSpan.FromMilliseconds(450), connection.RetransmissionTimeout);
        Assert.Null(connection.SmoothedRoundTripTime); // a seed, not a sample: the data's first sample starts the estimate
    }

    [Fact]
    public void A_shut_window_opens_again_by_a_segment_at_least_not_by_each_small_read()
    {
        // Receiver-side silly window avoidance (RFC 1122 4.2.3.3): reads of 100 bytes from a
        // full buffer offered 100-byte windows, and a sender filled each with a 100-byte segment.
        var c = Establish(new StackSettings(StackProtocols.Tcp, new[] { 80 }, TcpBuffer: 4096));
        var sequence = Data;
        foreach (var length in new[] { 1000, 1000, 1000, 1096 })
        {
            c.Send(BlindSegment(c, sequence, new byte[length], psh: true));
            sequence += (uint)length;
        }
        Assert.Equal(0, LastSegment(c).WindowSize); // full

        Assert.Equal(100, c.Connection.Read(new byte[100]));
        c.Host.Pump();
        c.Send(BlindSegment(c, sequence, new byte[1], psh: false)); // the peer's zero-window probe
        sequence++;
        var answer = LastSegment(c);
        Assert.Equal(sequence, answer.AcknowledgmentNumber);
        Assert.Equal(0, answer.WindowSize); // 99 bytes free: not worth offering

        var sent = c.Wire.Frames.Count;
        Assert.Equal(2000, c.Connection.Read(new byte[2000]));
        c.Host.Pump();
        Assert.Equal(sent + 1, c.Wire.Frames.Count); // the window update, at once
        Assert.InRange(LastSegment(c).WindowSize, 1460, 4096);
    }

    [Fact]
    public void Initial_sequence_numbers_of_consecutive_connections_do_not_tell_each_other()
    {
        // RFC 6528: ISN = M + F(addresses, ports, secret). They were a counter times a constant
        // plus the clock: at one instant each next connection's was the last one's plus 0x01000193.
        var (host, _, wire, vns) = Container(new StackSettings(StackProtocols.Tcp, new[] { 80 }));
        vns.Stack.ListenTcp(80);
        var isns = new List<uint>();
        for (ushort port = 40000; port < 40006; port++)
        {
            host.Nic("e0").Device.Receive(TestFrames.Tcp(OwnMac, Own, 80, Peer, srcPort: port, sequence: PeerIss));
            host.Pump();
            isns.Add(TestFrames.Parse(wire.Frames.Last()).Extract<TcpPacket>().SequenceNumber);
        }
        var steps = isns.Zip(isns.Skip(1), (a, b) => b - a).ToList();
        Assert.Equal(steps.Count, steps.Distinct().Count()); // no common step
        Assert.DoesNotContain(0x01000193u, steps);
    }
}
