using System.Net;
using NicBypass.Runtime.Devices;
using NicBypass.Runtime.Stacks;
using NicBypass.Runtime.Virtualization;
using PacketDotNet;
using static NicBypass.Runtime.Tests.HandMadePeer;

namespace NicBypass.Runtime.Tests;

/// <summary>
/// Delayed ACKs (RFC 1122 4.2.3.2, RFC 5681 4.2): a batch that brings one full-sized segment,
/// asking for nothing at once, holds its ACK for a second segment or the delay (40 ms, as Linux),
/// whichever comes first; PSH, a short segment and the first data after a pause are acknowledged
/// at the batch's end. Each frame here is its own batch (sent and pumped alone), as each landing
/// is on a NIC without interrupt moderation. The peer is hand-made.
/// </summary>
public class DelayedAcknowledgmentTests
{

    [Fact]
    public void A_lone_full_sized_segment_waits_for_a_second_and_one_ack_covers_both()
    {
        var c = Establish();
        c.Send(Segment(c, 0)); // the first data: acknowledged at once (quick)
        var before = c.Wire.Frames.Count;

        c.Send(Segment(c, 1));
        Assert.Equal(before, c.Wire.Frames.Count); // held
        c.Send(Segment(c, 2));

        Assert.Equal(before + 1, c.Wire.Frames.Count);
        Assert.Equal(Data + 3000, LastSegment(c).AcknowledgmentNumber);
        Assert.Equal(3000, c.Connection.Read(new byte[8000]));
    }

    [Fact]
    public void A_held_ack_goes_when_the_delay_runs_out_and_not_before()
    {
        var c = Establish();
        c.Send(Segment(c, 0));
        c.Send(Segment(c, 1));
        var before = c.Wire.Frames.Count;

        c.Clock.Advance(TimeSpan.FromMilliseconds(39));
        c.Host.Pump();
        Assert.Equal(before, c.Wire.Frames.Count);
        c.Clock.Advance(TimeSpan.FromMilliseconds(1));
        c.Host.Pump();

        Assert.Equal(before + 1, c.Wire.Frames.Count);
        Assert.Equal(Data + 2000, LastSegment(c).AcknowledgmentNumber);
        c.Clock.Advance(TimeSpan.FromMilliseconds(100));
        c.Host.Pump();
        Assert.Equal(before + 1, c.Wire.Frames.Count); // one ACK: the timer does not fire again
    }

    [Fact]
    public void The_simulation_loop_wakes_for_a_held_ack()
    {
        var c = Establish();
        c.Send(Segment(c, 0));
        c.Send(Segment(c, 1));
        var start = c.Clock.Nanoseconds;

        Assert.True(c.Host.RunUntil(() => c.Wire.Frames.Count > 0 && LastSegment(c).AcknowledgmentNumber == Data + 2000, TimeSpan.FromSeconds(1)));

        Assert.Equal(40_000_000, c.Clock.Nanoseconds - start, tolerance: 1_000_000);
    }

    [Theory]
    [InlineData(true, 1000)]  // PSH: the end of what the peer's application wrote
    [InlineData(false, 500)]  // shorter than the segments before it
    public void Psh_or_a_short_segment_is_acknowledged_at_the_batch_end(bool psh, int length)
    {
        var c = Establish();
        c.Send(Segment(c, 0));
        var before = c.Wire.Frames.Count;

        c.Send(BlindSegment(c, Data + 1000, new byte[length], psh));

        Assert.Equal(before + 1, c.Wire.Frames.Count);
        Assert.Equal(Data + 1000 + (uint)length, LastSegment(c).AcknowledgmentNumber);
    }

    [Fact]
    public void The_first_data_after_a_pause_is_acknowledged_at_the_batch_end()
    {
        var c = Establish();
        c.Send(Segment(c, 0));
        c.Send(Segment(c, 1));
        c.Send(Segment(c, 2)); // the pair is acknowledged
        c.Clock.Advance(TimeSpan.FromMilliseconds(200)); // longer than the retransmission floor: the peer may restart from one segment
        var before = c.Wire.Frames.Count;

        c.Send(Segment(c, 3));

        Assert.Equal(before + 1, c.Wire.Frames.Count);
        Assert.Equal(Data + 4000, LastSegment(c).AcknowledgmentNumber);
    }

    [Fact]
    public void A_zero_delay_acknowledges_every_batch()
    {
        var c = Establish(new StackSettings(StackProtocols.Tcp, new[] { 80 }, DelayedAcknowledgment: TimeSpan.Zero));
        c.Send(Segment(c, 0));
        var before = c.Wire.Frames.Count;

        c.Send(Segment(c, 1));

        Assert.Equal(before + 1, c.Wire.Frames.Count);
        Assert.Equal(Data + 2000, LastSegment(c).AcknowledgmentNumber);
    }

    [Fact]
    public void The_hold_is_at_most_half_a_shortened_retransmission_timeout()
    {
        // A 10 ms first timeout lowers the floor to 10 ms: an ACK is held 5 ms, not 40.
        var c = Establish(new StackSettings(StackProtocols.Tcp, new[] { 80 }, RetransmissionTimeout: TimeSpan.FromMilliseconds(10)));
        c.Send(Segment(c, 0));
        c.Send(Segment(c, 1));
        var before = c.Wire.Frames.Count;

        c.Clock.Advance(TimeSpan.FromMilliseconds(4));
        c.Host.Pump();
        Assert.Equal(before, c.Wire.Frames.Count);
        c.Clock.Advance(TimeSpan.FromMilliseconds(1));
        c.Host.Pump();

        Assert.Equal(before + 1, c.Wire.Frames.Count);
    }

    [Fact]
    public void Data_the_connection_sends_carries_the_held_ack_and_the_timer_sends_nothing_more()
    {
        var c = Establish();
        c.Send(Segment(c, 0));
        c.Send(Segment(c, 1));
        var before = c.Wire.Frames.Count;

        Assert.Equal(100, c.Connection.Send(new byte[100]));
        c.Host.Pump();
        Assert.Equal(before + 1, c.Wire.Frames.Count);
        var reply = LastSegment(c);
        Assert.Equal(100, reply.PayloadData.Length);
        Assert.Equal(Data + 2000, reply.AcknowledgmentNumber);

        c.Clock.Advance(TimeSpan.FromMilliseconds(40));
        c.Host.Pump();
        Assert.Equal(before + 1, c.Wire.Frames.Count); // nothing owed any more
    }

    [Fact]
    public void A_read_that_at_least_doubles_the_window_the_peer_was_told_sends_the_held_ack()
    {
        // A 6,000-byte buffer: after four segments the peer was told 2,000 bytes of room.
        var c = Establish(new StackSettings(StackProtocols.Tcp, new[] { 80 }, TcpBuffer: 6000));
        for (var i = 0; i < 4; i++) c.Send(Segment(c, i)); // 3 is held
        Assert.Equal(Data + 3000, LastSegment(c).AcknowledgmentNumber);
        var before = c.Wire.Frames.Count;

        Assert.Equal(4000, c.Connection.Read(new byte[8000])); // 6,000 free: three times what it was told
        c.Host.Pump(); // the ACK leaves through the NIC's transmit ring

        Assert.Equal(before + 1, c.Wire.Frames.Count);
        var ack = LastSegment(c);
        Assert.Equal(Data + 4000, ack.AcknowledgmentNumber);
        Assert.Equal(6000, ack.WindowSize);
        c.Clock.Advance(TimeSpan.FromMilliseconds(40));
        c.Host.Pump();
        Assert.Equal(before + 1, c.Wire.Frames.Count); // and the timer has nothing left to send
    }

    [Fact]
    public void A_read_that_leaves_the_window_much_as_it_was_keeps_the_ack_held()
    {
        // Bulk receive with a 256 KiB buffer: reading each segment as it comes must not turn every
        // held ACK back into one ACK per segment.
        var c = Establish();
        c.Send(Segment(c, 0));
        c.Send(Segment(c, 1));
        var before = c.Wire.Frames.Count;

        Assert.Equal(2000, c.Connection.Read(new byte[8000]));
        c.Host.Pump();

        Assert.Equal(before, c.Wire.Frames.Count);
    }

    [Fact]
    public void After_a_gap_the_next_segments_are_not_held()
    {
        var c = Establish();
        c.Send(Segment(c, 0));
        c.Send(Segment(c, 2)); // beyond a gap: a duplicate ACK
        c.Send(Segment(c, 1)); // fills it: acknowledged at once
        var before = c.Wire.Frames.Count;

        c.Send(Segment(c, 3)); // in order again, full-sized, but the sender is recovering (quick ACKs)

        Assert.Equal(before + 1, c.Wire.Frames.Count);
        Assert.Equal(Data + 4000, LastSegment(c).AcknowledgmentNumber);
    }

    [Fact]
    public void A_segment_that_fills_the_window_the_peer_was_told_is_not_held()
    {
        // A 6,000-byte buffer, nothing read: each ACK tells the peer the window ends at Data + 6,000.
        var c = Establish(new StackSettings(StackProtocols.Tcp, new[] { 80 }, TcpBuffer: 6000));
        c.Send(Segment(c, 0));
        for (var i = 1; i < 5; i++) c.Send(Segment(c, i)); // 1 held, 2 acknowledges both; 3 held, 4 likewise
        Assert.Equal(Data + 5000, LastSegment(c).AcknowledgmentNumber);
        var before = c.Wire.Frames.Count;

        c.Send(Segment(c, 5)); // the last 1,000 bytes the peer may send: it cannot send the second one

        Assert.Equal(before + 1, c.Wire.Frames.Count);
        Assert.Equal(Data + 6000, LastSegment(c).AcknowledgmentNumber);
    }

    [Fact]
    public void A_held_ack_echoes_the_timestamp_of_the_earliest_segment_it_covers()
    {
        // RFC 7323 4.3: TS.Recent comes from the segment the ACK acknowledges first. The peer
        // offers timestamps; segment 1 (TSval 200) is held, segment 2 (TSval 300) sends the ACK:
        // it must echo 200, the earliest it covers, not 300.
        var c = Establish(timestamps: true);
        c.Send(WithTimestamps(Segment(c, 0), 100, 0));
        c.Send(WithTimestamps(Segment(c, 1), 200, 0));
        var before = c.Wire.Frames.Count;
        c.Send(WithTimestamps(Segment(c, 2), 300, 0));

        Assert.Equal(before + 1, c.Wire.Frames.Count);
        Assert.Equal(Data + 3000, LastSegment(c).AcknowledgmentNumber);
        Assert.Equal(200u, EchoOf(c.Wire.Frames.Last()));
    }

    [Fact]
    public void A_fin_after_a_held_segment_is_acknowledged_at_once_with_it_and_the_timer_sends_nothing_more()
    {
        var c = Establish();
        c.Send(Segment(c, 0));
        c.Send(Segment(c, 1)); // held
        var before = c.Wire.Frames.Count;

        c.Send(TestFrames.Tcp("02:00:00:00:00:01", "192.168.10.20", 80, Peer, syn: false, ack: true, fin: true, sequence: Data + 2000, acknowledgment: c.OurNext));

        Assert.Equal(before + 1, c.Wire.Frames.Count);
        Assert.Equal(Data + 2001, LastSegment(c).AcknowledgmentNumber);
        Assert.Equal(TcpState.CloseWait, c.Connection.State);
        c.Clock.Advance(TimeSpan.FromMilliseconds(40));
        c.Host.Pump();
        Assert.Equal(before + 1, c.Wire.Frames.Count);
    }

    // The TSecr of a segment's timestamps option.
    private static uint EchoOf(byte[] frame)
    {
        const int Tcp = 14 + 20;
        var end = Tcp + (frame[Tcp + 12] >> 4) * 4;
        for (var i = Tcp + 20; i < end;)
        {
            if (frame[i] == 1) { i++; continue; }
            if (frame[i] == 8) return System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(frame.AsSpan(i + 6));
            if (frame[i] == 0) break;
            i += frame[i + 1];
        }
        throw new Xunit.Sdk.XunitException("no timestamps option on the segment");
    }
}
