using NicBypass.Runtime.Stacks;
using PacketDotNet;

namespace NicBypass.Runtime.Tests;

/// <summary>
/// Stretch ACKs (AcknowledgmentBatch): in-order data that arrives in one batch is acknowledged
/// once, at the batch's end; what needs an answer at once still gets it; and PSH marks the end of
/// what the application wrote, not every segment. The peer is hand-made (BlindInjectionTests'
/// handshake); the frames of a batch land in the ring before the host runs.
/// </summary>
public class StretchAcknowledgmentTests
{
    private const uint Data = BlindInjectionTests.PeerIss + 1;

    [Fact]
    public void Ten_segments_in_one_batch_get_one_ack_for_all_of_them()
    {
        var (host, wires, connection, ourNext) = BlindInjectionTests.Established();
        var before = wires["e0"].Frames.Count;

        host.Send("e0", Enumerable.Range(0, 10).Select(i => BlindInjectionTests.Segment(Data + (uint)(i * 1000), ourNext, payload: new byte[1000])).ToArray());

        Assert.Equal(before + 1, wires["e0"].Frames.Count);
        var ack = BlindInjectionTests.LastSegment(wires);
        Assert.True(ack.Acknowledgment);
        Assert.Empty(ack.PayloadData);
        Assert.Equal(Data + 10_000, ack.AcknowledgmentNumber);
        Assert.Equal(10_000, connection.Read(new byte[20_000]));
    }

    [Fact]
    public void A_gap_in_the_batch_is_answered_at_once_and_so_is_the_segment_that_fills_it()
    {
        var (host, wires, connection, ourNext) = BlindInjectionTests.Established();
        var before = wires["e0"].Frames.Count;

        // 0 and 1 in order, 3 beyond a gap: the duplicate ACK goes at once and carries 0 and 1.
        host.Send("e0", BlindInjectionTests.Segment(Data, ourNext, payload: new byte[1000]),
                        BlindInjectionTests.Segment(Data + 1000, ourNext, payload: new byte[1000]),
                        BlindInjectionTests.Segment(Data + 3000, ourNext, payload: new byte[1000]));
        var answers = wires["e0"].Frames.Skip(before).Select(f => TestFrames.Parse(f).Extract<TcpPacket>()).ToList();
        Assert.Equal(Data + 2000, Assert.Single(answers).AcknowledgmentNumber);

        // The missing segment fills the gap: acknowledged at once, with what was held behind it.
        before = wires["e0"].Frames.Count;
        host.Send("e0", BlindInjectionTests.Segment(Data + 2000, ourNext, payload: new byte[1000]));
        Assert.Equal(before + 1, wires["e0"].Frames.Count);
        Assert.Equal(Data + 4000, BlindInjectionTests.LastSegment(wires).AcknowledgmentNumber);
        Assert.Equal(4000, connection.Read(new byte[8000]));
    }

    [Fact]
    public void A_fin_in_the_batch_is_acknowledged_with_the_data_before_it()
    {
        var (host, wires, connection, ourNext) = BlindInjectionTests.Established();
        var before = wires["e0"].Frames.Count;
        var fin = TestFrames.Tcp("02:00:00:00:00:01", "192.168.10.20", 80, "192.168.10.1", syn: false, ack: true, fin: true,
            sequence: Data + 2000, acknowledgment: ourNext);

        host.Send("e0", BlindInjectionTests.Segment(Data, ourNext, payload: new byte[1000]),
                        BlindInjectionTests.Segment(Data + 1000, ourNext, payload: new byte[1000]), fin);

        Assert.Equal(before + 1, wires["e0"].Frames.Count);
        Assert.Equal(Data + 2001, BlindInjectionTests.LastSegment(wires).AcknowledgmentNumber);
        Assert.Equal(TcpState.CloseWait, connection.State);
    }

    [Fact]
    public void Psh_marks_only_the_segment_that_empties_what_the_application_wrote()
    {
        var (host, wires, connection, _) = BlindInjectionTests.Established();
        var before = wires["e0"].Frames.Count;

        Assert.Equal(5000, connection.Send(new byte[5000]));
        host.Pump();

        var segments = wires["e0"].Frames.Skip(before).Select(f => TestFrames.Parse(f).Extract<TcpPacket>()).Where(s => s.PayloadData.Length > 0).ToList();
        Assert.True(segments.Count >= 4, $"{segments.Count} segments");
        Assert.Equal(5000, segments.Sum(s => s.PayloadData.Length));
        Assert.All(segments.SkipLast(1), s => Assert.False(s.Push));
        Assert.True(segments[^1].Push);
    }
}
