using NicBypass.Runtime.Stacks;
using PacketDotNet;

namespace NicBypass.Runtime.Tests;

/// <summary>
/// RFC 5961's blind-injection defences on an established connection, against an attacker who
/// can guess the four-tuple but not the exact sequence numbers.
/// </summary>
public class BlindInjectionTests
{
    private const string Topology = """
        host s {
            nic e0 { model simnic-10g; rx-rings 2 }
            container web on e0 { mac 02:00:00:00:00:01; ip 192.168.10.20; protocols tcp; ports 80 }
        }
        """;

    private const string Peer = "192.168.10.1";
    internal const uint PeerIss = 1000;

    [Fact]
    public void A_blind_reset_inside_the_window_but_not_exact_gets_a_challenge_ack_not_a_reset()
    {
        var (host, wires, connection, ourNext) = Established();

        host.Send("e0", Segment(PeerIss + 1 + 500, ourNext, rst: true, ack: false));

        Assert.Equal(TcpState.Established, connection.State);
        var challenge = LastSegment(wires);
        Assert.True(challenge.Acknowledgment && !challenge.Reset);
        Assert.Equal(PeerIss + 1, challenge.AcknowledgmentNumber); // it tells the true next sequence number

        host.Send("e0", Segment(PeerIss + 1, ourNext, rst: true, ack: false)); // the exact one: a real reset
        Assert.Equal(TcpState.Closed, connection.State);
        Assert.Equal(TcpError.Reset, connection.Error);
    }

    [Fact]
    public void A_syn_on_an_established_connection_gets_a_challenge_ack_and_resets_nothing()
    {
        var (host, wires, connection, _) = Established();

        host.Send("e0", TestFrames.Tcp("02:00:00:00:00:01", "192.168.10.20", 80, Peer, sequence: 7777));

        Assert.Equal(TcpState.Established, connection.State);
        var challenge = LastSegment(wires);
        Assert.True(challenge.Acknowledgment && !challenge.Synchronize && !challenge.Reset);
    }

    [Fact]
    public void Data_carrying_an_ack_far_below_snd_una_is_dropped_and_challenged()
    {
        var (host, wires, connection, ourNext) = Established();
        var frames = wires["e0"].Frames.Count;

        host.Send("e0", Segment(PeerIss + 1, ourNext - 200_000, ack: true, payload: "injected"u8.ToArray()));

        Assert.Equal(0, connection.Read(new byte[64]));              // nothing delivered
        Assert.Equal(frames + 1, wires["e0"].Frames.Count);          // one challenge ACK
        host.Send("e0", Segment(PeerIss + 1, ourNext, ack: true, payload: "honest"u8.ToArray()));
        var buffer = new byte[64];
        Assert.Equal("honest", System.Text.Encoding.ASCII.GetString(buffer, 0, connection.Read(buffer)));
    }

    [Fact]
    public void Data_exactly_half_the_sequence_space_away_is_an_old_duplicate_not_a_crash()
    {
        var (host, wires, connection, ourNext) = Established();
        var frames = wires["e0"].Frames.Count;

        host.Send("e0", Segment(PeerIss + 1 + 0x8000_0000, ourNext, ack: true, payload: new byte[] { 1 }));

        Assert.Equal(TcpState.Established, connection.State);
        Assert.Equal(0, connection.Read(new byte[64]));     // nothing delivered
        Assert.Equal(frames + 1, wires["e0"].Frames.Count); // acknowledged: RCV.NXT stays where it was
        Assert.Equal(PeerIss + 1, LastSegment(wires).AcknowledgmentNumber);
    }

    [Fact]
    public void Data_carrying_an_ack_of_data_never_sent_is_acknowledged_and_dropped()
    {
        // RFC 9293 3.10.7.4 (the ACK of something not yet sent) and RFC 5961 5.2: an ACK, and
        // the segment dropped. It was acknowledged and then delivered: with no timestamps a blind
        // sender needed only a sequence number in the window, half of all ACK values passing.
        var (host, wires, connection, ourNext) = Established();
        var frames = wires["e0"].Frames.Count;

        host.Send("e0", Segment(PeerIss + 1, ourNext + 0x4000_0000, ack: true, payload: "evil"u8.ToArray()));

        Assert.Equal(0, connection.Read(new byte[64]));
        Assert.Equal(frames + 1, wires["e0"].Frames.Count);
        Assert.Equal(PeerIss + 1, LastSegment(wires).AcknowledgmentNumber); // RCV.NXT did not move
        host.Send("e0", Segment(PeerIss + 1, ourNext, ack: true, payload: "honest"u8.ToArray()));
        var buffer = new byte[64];
        Assert.Equal("honest", System.Text.Encoding.ASCII.GetString(buffer, 0, connection.Read(buffer)));
    }

    [Fact]
    public void An_ack_inside_the_flight_on_a_segment_outside_the_window_acknowledges_nothing()
    {
        // RFC 9293 3.10.7.4's first check comes before the ACK is read: a segment outside the
        // receive window is acknowledged and dropped. Its ACK discarded data the peer never got,
        // and the real ACKs, now below SND.UNA, never repaired it (found by review).
        var (host, wires, connection, ourNext) = Established();
        connection.Send(new byte[3000]);
        host.Pump();
        Assert.Equal(3000, connection.Unacknowledged);

        host.Send("e0", Segment(PeerIss + 1 + 0x2000_0000, ourNext + 1000, ack: true));

        Assert.Equal(3000, connection.Unacknowledged);
        Assert.Equal(PeerIss + 1, LastSegment(wires).AcknowledgmentNumber); // answered with where we are
        host.Send("e0", Segment(PeerIss + 1, ourNext + 1000, ack: true)); // the peer's own
        Assert.Equal(2000, connection.Unacknowledged);
    }

    [Fact]
    public void A_keepalive_probe_one_byte_before_the_window_is_answered_and_moves_nothing()
    {
        // RFC 9293 3.8.4: an empty segment at RCV.NXT − 1 is not acceptable, and gets an ACK.
        var (host, wires, connection, ourNext) = Established();
        var frames = wires["e0"].Frames.Count;

        host.Send("e0", Segment(PeerIss, ourNext, ack: true));

        Assert.Equal(frames + 1, wires["e0"].Frames.Count);
        Assert.Equal(PeerIss + 1, LastSegment(wires).AcknowledgmentNumber);
        Assert.Equal(TcpState.Established, connection.State);
    }

    // A connection the peer opened with a hand-made handshake; returns our next sequence number.
    internal static (Runtime.Virtualization.NetworkHost Host, Dictionary<string, CapturingWire> Wires, TcpConnection Connection, uint OurNext) Established()
    {
        // On virtual time: on the system clock a run slowed past 5 s (a loaded machine) probes the
        // peer's neighbour entry, learned from its SYN, with an ARP among the segments looked at.
        var (host, wires) = TestHost.Build(Topology, new VirtualClock());
        var listener = host.NetworkStack("web").Stack.ListenTcp(80);
        host.Send("e0", TestFrames.Tcp("02:00:00:00:00:01", "192.168.10.20", 80, Peer, sequence: PeerIss));
        var synAck = LastSegment(wires);
        Assert.True(synAck.Synchronize && synAck.Acknowledgment);
        var ourNext = synAck.SequenceNumber + 1;
        host.Send("e0", Segment(PeerIss + 1, ourNext, ack: true));
        Assert.True(listener.TryAccept(out var connection));
        Assert.Equal(TcpState.Established, connection.State);
        return (host, wires, connection, ourNext);
    }

    internal static byte[] Segment(uint sequence, uint acknowledgment, bool ack = true, bool rst = false, byte[]? payload = null) =>
        TestFrames.Tcp("02:00:00:00:00:01", "192.168.10.20", 80, Peer, syn: false, ack: ack, rst: rst, sequence: sequence, acknowledgment: acknowledgment, payload: payload);

    internal static TcpPacket LastSegment(Dictionary<string, CapturingWire> wires) => TestFrames.Parse(wires["e0"].Frames.Last()).Extract<TcpPacket>();
}
