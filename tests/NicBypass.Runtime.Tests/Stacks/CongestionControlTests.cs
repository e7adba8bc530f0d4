using NicBypass.Runtime.Stacks;

namespace NicBypass.Runtime.Tests;

/// <summary>
/// The sender's congestion control (RFC 5681, with RFC 3465's byte counting and RFC 6675's SACK
/// recovery): slow start up to the threshold, congestion avoidance past it, a threshold of half the
/// flight after a loss, one segment after a timeout, and the restart after idle.
/// </summary>
public class CongestionControlTests
{
    private const int Mss = 1460; // the harness's MTU of 1,500 less the IPv4 and TCP headers

    [Fact]
    public void Without_loss_the_window_slow_starts_from_ten_segments_and_the_threshold_stays_unset()
    {
        var harness = new StackHarness();
        var (client, server) = harness.Connect();
        Assert.Equal(10 * Mss, client.CongestionWindow); // RFC 6928

        var data = StackHarness.Pattern(200_000, 1);
        Assert.Equal(data, harness.SendAndReceive(client, server, data));

        Assert.Equal(int.MaxValue, client.SlowStartThreshold);
        // Slow start: every acknowledged byte grew the window (200 KB acknowledged, from 14.6 KB).
        Assert.True(client.CongestionWindow >= 10 * Mss + data.Length - 2 * Mss, $"cwnd {client.CongestionWindow}");
        harness.AssertBalanced();
    }

    [Fact]
    public void Three_duplicate_acks_halve_the_flight_into_the_threshold_and_the_window_then_grows_a_segment_per_window()
    {
        var harness = new StackHarness();
        var (client, server) = harness.Connect();
        var first = harness.Cable.Frames;
        harness.Cable.Lose = frame => frame == first + 5; // the sixth segment of the first window of ten

        var data = StackHarness.Pattern(200_000, 2);
        Assert.Equal(data, harness.SendAndReceive(client, server, data));
        Assert.Equal(1, harness.Cable.Lost);
        Assert.True(client.Retransmissions >= 1);
        // The flight when the third duplicate came was the first window and what its ACKs let out:
        // half of it, at least two segments (RFC 5681 (4)).
        var threshold = client.SlowStartThreshold;
        Assert.InRange(threshold, 2 * Mss, 20 * Mss);

        // Congestion avoidance from there: one segment per window's worth of acknowledged bytes —
        // at most 1 MB / cwnd segments for 1 MB, where slow start would have grown it by 1 MB.
        var before = client.CongestionWindow;
        Assert.True(before >= threshold, $"cwnd {before} below the threshold {threshold} after the recovery");
        var more = StackHarness.Pattern(1_000_000, 3);
        var received = new MemoryStream();
        var buffer = new byte[65536];
        var sent = 0;
        Assert.True(harness.RunUntil(() =>
        {
            if (sent < more.Length) sent += client.Send(more.AsSpan(sent));
            int n;
            while ((n = server.Read(buffer)) > 0) received.Write(buffer, 0, n);
            return received.Length == more.Length;
        }, seconds: 30));
        Assert.Equal(more, received.ToArray());
        var growth = client.CongestionWindow - before;
        Assert.True(growth > 0, "the window grew in avoidance");
        Assert.True(growth <= (more.Length / before + 1) * Mss, $"cwnd grew {growth} bytes from {before} over 1 MB: more than a segment per window");
        Assert.Equal(threshold, client.SlowStartThreshold); // no loss since: unchanged
        harness.AssertBalanced();
    }

    [Fact]
    public void A_timeout_restarts_from_one_segment_with_the_threshold_at_half_the_flight()
    {
        var harness = new StackHarness();
        var (client, server) = harness.Connect();
        var first = harness.Cable.Frames;
        // Three segments; the last is lost, so no duplicate ACK follows it: only the timer finds it.
        harness.Cable.Lose = frame => frame == first + 2;

        var data = StackHarness.Pattern(3 * 1448, 4);
        Assert.Equal(data, harness.SendAndReceive(client, server, data));
        Assert.Equal(1, harness.Cable.Lost);
        Assert.Equal(1, client.Retransmissions);
        // One segment was in flight at the timeout: half of it is below the two-segment floor.
        Assert.Equal(2 * Mss, client.SlowStartThreshold);
        // From one segment, the retransmission's ACK slow-started it to the threshold.
        Assert.Equal(2 * Mss, client.CongestionWindow);

        // And past the threshold it grows in avoidance: 100 KB grow it by a few segments, not 100 KB.
        var more = StackHarness.Pattern(100_000, 5);
        Assert.Equal(more, harness.SendAndReceive(client, server, more, seconds: 30));
        Assert.InRange(client.CongestionWindow, 3 * Mss, 2 * Mss + (more.Length / (2 * Mss) + 1) * Mss);
        harness.AssertBalanced();
    }

    [Fact]
    public void A_sender_idle_for_longer_than_the_retransmission_timeout_restarts_from_the_initial_window()
    {
        var harness = new StackHarness();
        var (client, server) = harness.Connect();
        var data = StackHarness.Pattern(200_000, 6);
        Assert.Equal(data, harness.SendAndReceive(client, server, data));
        var grown = client.CongestionWindow;
        Assert.True(grown > 20 * Mss, $"cwnd {grown}");

        // At once: the window is as it was, and a small write's ACK grows it.
        var small = StackHarness.Pattern(100, 7);
        Assert.Equal(small, harness.SendAndReceive(client, server, small));
        Assert.True(client.CongestionWindow >= grown, $"cwnd {client.CongestionWindow} after no idle, was {grown}");
        grown = client.CongestionWindow;

        // Two seconds with nothing to send (the timeout is 200 ms to 1 s here): the ACK clock is gone.
        var until = harness.Clock.GetUtcNow() + TimeSpan.FromSeconds(2);
        harness.RunUntil(() => harness.Clock.GetUtcNow() >= until, seconds: 3);
        Assert.True(client.RetransmissionTimeout < TimeSpan.FromSeconds(2), $"RTO {client.RetransmissionTimeout}");
        Assert.Equal(small, harness.SendAndReceive(client, server, small));
        // Ten segments again (RFC 5681 4.1), one more for the ACK of the small write.
        Assert.InRange(client.CongestionWindow, 10 * Mss, 11 * Mss);
        harness.AssertBalanced();
    }
}
