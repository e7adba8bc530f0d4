using NicBypass.Runtime.Devices;
using NicBypass.Runtime.Stacks;

namespace NicBypass.Runtime.Tests;

/// <summary>
/// HyStart (Linux's CUBIC's <c>hystart_update</c>): slow start ends when a round's ACK train
/// lasts the path's least round trip, or its round trips grow by a queue — before the
/// bottleneck's queue overflows, not at the loss its overflow brings.
/// </summary>
public class HybridSlowStartTests
{
    // A 16 MB transfer a → b over a hairpin of `megabits` Mbit/s with `queue` frames of queue and
    // `latency` each way; what the queue dropped, and the connection and stack after.
    private static (long Overflowed, double Seconds, TcpConnection Client, StackCounters Counters) Transfer(bool hystart, int megabits, int latencyMs, int queue, int bytes)
    {
        var clock = new VirtualClock();
        var host = TestHost.TwoContainers("hystart", new StackSettings(StackProtocols.Tcp, new[] { 80 }, HybridSlowStart: hystart), clock);
        var cable = host.AddCable(SimulatedCable.Hairpin(host.Nic("e0").Device).WithLatency(TimeSpan.FromMilliseconds(latencyMs), clock).WithRate(megabits * 1_000_000L, clock, queue));
        var listener = host.NetworkStack("b").Stack.ListenTcp(80);
        var client = host.NetworkStack("a").Stack.ConnectTcp(NetworkEndpoint.Parse("10.0.0.2", 80));
        TcpConnection? server = null;
        Assert.True(host.RunUntil(() => listener.TryAccept(out server), TimeSpan.FromSeconds(10)));
        var start = clock.Nanoseconds;
        var data = StackHarness.Pattern(bytes, 3);
        Assert.Equal(data, TestHost.Stream(host, client, server!, data));
        return (cable.Overflowed, (clock.Nanoseconds - start) / 1e9, client, host.NetworkStack("a").Counters);
    }

    [Theory]
    [InlineData(1000, 5, 1000)]   // 1 Gbit/s, 10 ms round trip, 12 ms of queue
    [InlineData(10000, 1, 1000)]  // 10 Gbit/s, 2 ms round trip, 1.2 ms of queue
    public void The_ack_train_ends_slow_start_before_the_bottleneck_queue_overflows(int megabits, int latencyMs, int queue)
    {
        var on = Transfer(true, megabits, latencyMs, queue, 16 << 20);
        var off = Transfer(false, megabits, latencyMs, queue, 16 << 20);

        Assert.Equal(0, on.Overflowed);
        Assert.Equal(1, on.Counters.SlowStartTrainExits);
        Assert.Equal(0, on.Client.Retransmissions);
        Assert.NotEqual(int.MaxValue, on.Client.SlowStartThreshold); // left slow start with no loss
        // Slow start run to the loss overflowed the queue by hundreds of segments, and took longer.
        Assert.True(off.Overflowed > 300, $"without HyStart {off.Overflowed} frames overflowed");
        Assert.True(on.Seconds < off.Seconds, $"{on.Seconds:F3} s with, {off.Seconds:F3} s without");
        Assert.Equal(0, off.Counters.SlowStartTrainExits + off.Counters.SlowStartDelayExits);
    }

    [Fact]
    public void On_a_slow_link_whose_acks_come_too_far_apart_for_a_train_the_growing_round_trip_ends_slow_start()
    {
        // 2 Mbit/s: a segment every 6 ms, so no ACK train; the queue's delay shows in the echoed
        // timestamps instead. Slow start run to the loss overflowed the 100-frame queue and
        // waited for a timeout.
        var on = Transfer(true, 2, 20, 100, 1 << 20);
        var off = Transfer(false, 2, 20, 100, 1 << 20);

        Assert.Equal(0, on.Overflowed);
        Assert.Equal(1, on.Counters.SlowStartDelayExits);
        Assert.Equal(0, on.Counters.SlowStartTrainExits);
        Assert.True(off.Overflowed > 30, $"without HyStart {off.Overflowed} frames overflowed");
        Assert.True(on.Seconds < off.Seconds, $"{on.Seconds:F3} s with, {off.Seconds:F3} s without");
    }

    // The detector alone: ACKs of a round at `spacing` seconds, on a clock of nanoseconds.
    private static HybridSlowStart Train(int acks, double spacing, double least, bool paced, int windowSegments = 100, double roundTrip = -1)
    {
        var hystart = new HybridSlowStart();
        const long frequency = 1_000_000_000;
        for (var i = 0; i < acks && !hystart.Found; i++)
        {
            hystart.Acknowledged((uint)(1000 + i), 1_000_000, (long)(i * spacing * frequency), frequency, windowSegments * 1448, 1448, roundTrip, least, paced);
        }
        return hystart;
    }

    [Fact]
    public void A_train_longer_than_the_least_round_trip_and_its_allowance_is_found_paced_and_half_of_it_unpaced()
    {
        // 10 ms least round trip; the allowance (hystart_ack_delay) is a millisecond at this rate;
        // unpaced (the threaded mode) half of it and of a millisecond's poll more: 6 ms.
        Assert.False(Train(100, 0.0001, 0.010, paced: true).Found);        // a 9.9 ms train
        Assert.True(Train(120, 0.0001, 0.010, paced: true).Found);         // 11.9 ms
        Assert.False(Train(60, 0.0001, 0.010, paced: false).Found);        // 5.9 ms
        Assert.True(Train(62, 0.0001, 0.010, paced: false).Found);         // 6.1 ms
        Assert.False(Train(120, 0.0001, 0, paced: true).Found);            // no least round trip yet: no train
        Assert.False(Train(120, 0.0001, 0.010, paced: true, windowSegments: 15).Found); // below 16 segments: not watched
    }

    [Fact]
    public void Acks_more_than_two_milliseconds_apart_are_no_train()
    {
        Assert.False(Train(100, 0.0021, 0.010, paced: true).Found);
        Assert.True(Train(100, 0.0019, 0.010, paced: true).Found);
    }

    [Fact]
    public void The_round_trip_counts_after_eight_samples_and_by_at_least_four_and_at_most_sixteen_milliseconds()
    {
        static bool Delay(double least, double later, int samples)
        {
            var hystart = new HybridSlowStart();
            // A first round sets the least; the second (past its end) samples `later` (its ACKs 3 ms apart: no train).
            hystart.Acknowledged(1, 100, 0, 1000, 100 * 1448, 1448, least, least, true);
            for (var i = 0; i < samples; i++) hystart.Acknowledged((uint)(101 + i), 1000, 3 * (i + 1), 1000, 100 * 1448, 1448, later, least, true);
            return hystart.Found && hystart.ByDelay;
        }
        Assert.False(Delay(0.010, 0.0141, 8)); // 4.1 ms up: the threshold is max(10/8, 4) = 4 ms, exceeded...
        Assert.True(Delay(0.010, 0.0141, 9));  // ...counts only past the round's first eight samples
        Assert.False(Delay(0.010, 0.0139, 20)); // 3.9 ms: under 4
        Assert.False(Delay(0.200, 0.2159, 20)); // 200 ms: 200/8 = 25, held to 16
        Assert.True(Delay(0.200, 0.2161, 20));
    }

    [Fact]
    public void A_timeout_restarts_the_watch_and_the_least_round_trip_is_learned_again()
    {
        const long ms = 1_000_000;
        var hystart = new HybridSlowStart();
        hystart.Acknowledged(1, 100, 0, 1000 * ms, 100 * 1448, 1448, 0.010, 0.010, true); // 10 ms learned
        for (var i = 0; i < 9; i++) hystart.Acknowledged((uint)(101 + i), 1000, 3 * ms * (i + 1), 1000 * ms, 100 * 1448, 1448, 0.016, 0.010, true);
        Assert.True(hystart.Found && hystart.ByDelay); // 16 ms is 6 ms up
        Assert.False(hystart.Restarted);

        hystart.Restart();
        Assert.False(hystart.Found);
        Assert.True(hystart.Restarted);
        // After the timeout a standing queue makes 16 ms the least: no longer a rise.
        hystart.Acknowledged(2000, 3000, 100 * ms, 1000 * ms, 100 * 1448, 1448, 0.016, 0, true);
        for (var i = 0; i < 20; i++) hystart.Acknowledged((uint)(3001 + i), 9000, 100 * ms + 3 * ms * (i + 1), 1000 * ms, 100 * 1448, 1448, 0.017, 0, true);
        Assert.False(hystart.Found);
    }

    [Fact]
    public void Reno_slow_starts_to_the_loss_as_linuxs_does()
    {
        // Linux's HyStart is CUBIC's: with Reno the queue overflows as before.
        var clock = new VirtualClock();
        var host = TestHost.TwoContainers("reno", new StackSettings(StackProtocols.Tcp, new[] { 80 }, CongestionControl: CongestionControl.Reno), clock);
        var cable = host.AddCable(SimulatedCable.Hairpin(host.Nic("e0").Device).WithLatency(TimeSpan.FromMilliseconds(5), clock).WithRate(1_000_000_000L, clock, 1000));
        var listener = host.NetworkStack("b").Stack.ListenTcp(80);
        var client = host.NetworkStack("a").Stack.ConnectTcp(NetworkEndpoint.Parse("10.0.0.2", 80));
        TcpConnection? server = null;
        Assert.True(host.RunUntil(() => listener.TryAccept(out server), TimeSpan.FromSeconds(10)));
        var data = StackHarness.Pattern(16 << 20, 3);
        Assert.Equal(data, TestHost.Stream(host, client, server!, data));
        Assert.True(cable.Overflowed > 300, $"{cable.Overflowed} overflowed");
        Assert.Equal(0, host.NetworkStack("a").Counters.SlowStartTrainExits + host.NetworkStack("a").Counters.SlowStartDelayExits);
    }
}
