using NicBypass.Runtime.Devices;
using NicBypass.Runtime.Stacks;
using NicBypass.Runtime.Virtualization;

namespace NicBypass.Runtime.Tests;

/// <summary>
/// TCP's buffers grow as Linux's do (tcp_rcv_space_adjust, tcp_sndbuf_expand): the receive buffer
/// with what the application reads each round trip, the send buffer while it alone holds the
/// flight back — so a long path is not held to one buffer per round trip.
/// </summary>
public class BufferAutotuningTests
{
    private const int Initial = StackSettings.DefaultTcpBuffer;

    // Sends `length` bytes as the send buffer takes them, reading at the other end as they come
    // (and calling `look` after each read); the virtual time it took.
    private static TimeSpan Transfer(StackHarness harness, TcpConnection client, TcpConnection server, int length, Action? look = null)
    {
        var data = StackHarness.Pattern(length, 1);
        var received = new byte[length];
        int sent = 0, got = 0;
        var start = harness.Clock.GetUtcNow();
        Assert.True(harness.RunUntil(() =>
        {
            if (sent < length) sent += client.Send(data.AsSpan(sent));
            got += server.Read(received.AsSpan(got));
            look?.Invoke();
            return got == length;
        }, seconds: 60), $"{got} of {length} bytes");
        Assert.Equal(data, received);
        return harness.Clock.GetUtcNow() - start;
    }

    [Fact]
    public void Over_a_10_ms_round_trip_both_buffers_grow_and_the_transfer_outruns_one_buffer_a_round_trip()
    {
        var harness = new StackHarness();
        harness.Host.AddCable(harness.Cable.WithLatency(TimeSpan.FromMilliseconds(5), harness.Clock)); // each way
        var (client, server) = harness.Connect();
        Assert.InRange(server.ReceiveRoundTrip!.Value.TotalMilliseconds, 9.9, 11); // the handshake timed it

        var took = Transfer(harness, client, server, 16 << 20);

        // 256 KiB a round trip is 210 Mbit/s: 16 MiB would take 0.64 s at best.
        var bound = TimeSpan.FromSeconds(16.0 * (1 << 20) / Initial * 0.010);
        Assert.True(took < bound / 2, $"16 MiB took {took.TotalMilliseconds:N0} ms; one buffer a round trip allows no less than {bound.TotalMilliseconds:N0}");
        Assert.InRange(server.ReceiveBufferSize, 2 * Initial, StackSettings.DefaultTcpBufferLimit);
        Assert.InRange(client.SendBufferSize, 2 * Initial, StackSettings.DefaultTcpBufferLimit);
        harness.AssertBalanced();
    }

    [Fact]
    public void A_round_trip_that_grows_after_the_handshake_is_learned_from_the_echoed_timestamps()
    {
        // The handshake crosses an ideal cable (microseconds); then the path takes 5 ms each way.
        // A receiver that kept the handshake's round trip would measure what its application
        // reads over microseconds, never grow its buffer, and hold the sender to one buffer a
        // round trip. The timestamps the sender echoes on full-sized segments (RFC 7323, as
        // Linux's tcp_rcv_rtt_measure_ts) tell it the round trip is now 10 ms.
        var harness = new StackHarness();
        var (client, server) = harness.Connect();
        Assert.True(server.ReceiveRoundTrip < TimeSpan.FromMilliseconds(1), $"{server.ReceiveRoundTrip}");
        harness.Host.AddCable(harness.Cable.WithLatency(TimeSpan.FromMilliseconds(5), harness.Clock));

        var took = Transfer(harness, client, server, 16 << 20);

        var bound = TimeSpan.FromSeconds(16.0 * (1 << 20) / Initial * 0.010);
        Assert.True(took < bound / 2, $"16 MiB took {took.TotalMilliseconds:N0} ms; one buffer a round trip allows no less than {bound.TotalMilliseconds:N0}");
        Assert.InRange(server.ReceiveRoundTrip!.Value.TotalMilliseconds, 9, 13);
        Assert.InRange(server.ReceiveBufferSize, 2 * Initial, StackSettings.DefaultTcpBufferLimit);
        harness.AssertBalanced();
    }

    [Fact]
    public void When_the_path_is_short_again_the_handshakes_finer_round_trip_stands_again()
    {
        // Microseconds at the handshake, 10 ms for a while, then microseconds again: the stamps,
        // in milliseconds, can only say "under 2 ms"; once the estimate is down there, the
        // handshake's round trip, timed on the stack's clock, is the better one (it stayed at
        // about 2 ms, measuring what the application reads over 2 ms instead of microseconds).
        var harness = new StackHarness();
        var (client, server) = harness.Connect();
        var handshake = server.ReceiveRoundTrip!.Value;
        Assert.True(handshake < TimeSpan.FromMilliseconds(1), $"{handshake}");
        harness.Host.AddCable(harness.Cable.WithLatency(TimeSpan.FromMilliseconds(5), harness.Clock));
        Transfer(harness, client, server, 4 << 20);
        Assert.InRange(server.ReceiveRoundTrip!.Value.TotalMilliseconds, 9, 13);

        // 10 Gbit/s (a queue of at most about a millisecond): 48 MiB take some 40 ms, a stamp a millisecond.
        harness.Cable.WithLatency(TimeSpan.Zero, harness.Clock).WithRate(10_000_000_000, harness.Clock);
        Transfer(harness, client, server, 48 << 20);

        Assert.Equal(handshake, server.ReceiveRoundTrip);
    }

    [Fact]
    public void After_an_idle_spell_the_first_flight_counts_the_spell_once_not_once_a_segment()
    {
        // The first flight after 500 ms of silence echoes one ACK's stamp, 500 ms old, on every
        // segment: measured once (Linux's rcv_rtt_last_tsecr) it moves the 10 ms estimate an
        // eighth of the way (to about 70 ms, and back as the flights go on); measured on each of
        // its ten segments it took the estimate to about 375 ms.
        var harness = new StackHarness();
        harness.Host.AddCable(harness.Cable.WithLatency(TimeSpan.FromMilliseconds(5), harness.Clock));
        var (client, server) = harness.Connect();
        Transfer(harness, client, server, 4 << 20);
        harness.Host.RunTo(harness.Clock.Nanoseconds + 500_000_000);

        var highest = TimeSpan.Zero;
        Transfer(harness, client, server, 1 << 20, () =>
        {
            if (server.ReceiveRoundTrip > highest) highest = server.ReceiveRoundTrip.Value;
        });

        Assert.InRange(highest.TotalMilliseconds, 9, 100);
        Assert.InRange(server.ReceiveRoundTrip!.Value.TotalMilliseconds, 9, 13);
    }

    [Fact]
    public void On_a_lossy_long_path_the_buffers_still_grow_and_the_data_arrives_whole()
    {
        // Holes held out of order hold the growth back only until they fill.
        var harness = new StackHarness(loss: 0.0005, seed: 3);
        harness.Host.AddCable(harness.Cable.WithLatency(TimeSpan.FromMilliseconds(5), harness.Clock));
        var (client, server) = harness.Connect();
        Transfer(harness, client, server, 8 << 20);
        Assert.True(harness.Cable.Lost > 0, "nothing was lost");
        Assert.True(server.ReceiveBufferSize > Initial, $"{server.ReceiveBufferSize}");
        harness.AssertBalanced();
    }

    [Fact]
    public void When_the_handshake_cannot_time_the_round_trip_the_smoothed_one_does()
    {
        // The SYN-ACK is lost and goes twice (Karn's rule: the handshake times nothing); the
        // receiver then works with the round trip its timestamps measured.
        var harness = new StackHarness();
        harness.Cable.Lose = frame => frame == 1;
        harness.Host.AddCable(harness.Cable.WithLatency(TimeSpan.FromMilliseconds(5), harness.Clock));
        var (client, server) = harness.Connect();
        Assert.Null(server.ReceiveRoundTrip);
        Transfer(harness, client, server, 8 << 20);
        Assert.True(server.ReceiveBufferSize > Initial, $"{server.ReceiveBufferSize}");
    }

    [Fact]
    public void On_a_short_path_the_buffers_stay_as_they_were()
    {
        // The round trip is microseconds on a 10 Gbit/s cable: what the application reads in one
        // is far below the buffer.
        var harness = new StackHarness();
        harness.Host.AddCable(harness.Cable.WithRate(10_000_000_000, harness.Clock));
        var (client, server) = harness.Connect();
        Assert.True(server.ReceiveRoundTrip < TimeSpan.FromMilliseconds(1), $"{server.ReceiveRoundTrip}");
        var took = Transfer(harness, client, server, 8 << 20);
        Assert.Equal(Initial, server.ReceiveBufferSize);
        Assert.Equal(Initial, client.SendBufferSize);
    }

    [Fact]
    public void A_receiver_that_does_not_read_does_not_grow_its_buffer()
    {
        var harness = new StackHarness();
        harness.Host.AddCable(harness.Cable.WithLatency(TimeSpan.FromMilliseconds(5), harness.Clock));
        var (client, server) = harness.Connect();
        var data = StackHarness.Pattern(2 << 20, 2);
        var sent = 0;
        harness.RunUntil(() =>
        {
            sent += client.Send(data.AsSpan(sent));
            return false;
        }, seconds: 2);
        Assert.True(server.Available > Initial - 2 * 1460, $"{server.Available}"); // the window is the buffer, full (to its last 128-byte unit)
        Assert.Equal(Initial, server.ReceiveBufferSize);
        // Nor does the sender's: the peer's window, not the buffer, holds the flight back.
        Assert.Equal(Initial, client.SendBufferSize);
    }

    [Fact]
    public void The_window_scale_offered_fits_the_limit_as_linuxs_does()
    {
        // Linux offers the shift its largest receive buffer needs (7 for tcp_rmem's 6 MiB), not
        // the one of the buffer it starts with (3 for 256 KiB): the window can grow to the limit without a
        // second negotiation.
        var harness = new StackHarness();
        var shifts = new List<int>();
        harness.Cable.Tap = (_, frame) => shifts.AddRange(TestHost.SynOptions(frame.Span, 3));
        harness.Connect();
        Assert.Equal(new[] { 7, 7 }, shifts);
    }

    [Fact]
    public void A_stacks_connections_grow_their_buffers_within_its_budget_and_give_it_back_when_they_end()
    {
        const long Budget = 512 * 1024;
        var (host, _, _, client, server) = TestHost.ConnectedPair("budget", new StackSettings(StackProtocols.Tcp, new[] { 80 }, TcpBufferBudget: Budget), TimeSpan.FromMilliseconds(5));
        var data = StackHarness.Pattern(8 << 20, 4);
        Assert.Equal(data, TestHost.Stream(host, client, server, data));

        // Grown, but no further than the budget (the limit alone would have let it reach 6 MiB).
        Assert.InRange(server.ReceiveBufferSize, Initial + 1, Initial + Budget);
        Assert.Equal(server.ReceiveBufferSize - Initial, host.NetworkStack("b").Stack.BufferGrowth);
        Assert.InRange(client.SendBufferSize - Initial, 0, Budget);

        client.Abort();
        Assert.True(host.RunUntil(() => server.State == TcpState.Closed, TimeSpan.FromSeconds(5)));
        Assert.Equal(0, host.NetworkStack("a").Stack.BufferGrowth);
        Assert.Equal(0, host.NetworkStack("b").Stack.BufferGrowth);
    }

    [Fact]
    public void A_buffer_set_at_the_limit_is_not_tuned()
    {
        var (host, _, _, client, server) = TestHost.ConnectedPair("fixed", new StackSettings(StackProtocols.Tcp, new[] { 80 }, TcpBuffer: Initial, TcpBufferLimit: Initial), TimeSpan.FromMilliseconds(5));
        var data = StackHarness.Pattern(4 << 20, 3);
        Assert.Equal(data, TestHost.Stream(host, client, server, data));
        Assert.Equal(Initial, server.ReceiveBufferSize);
        Assert.Equal(Initial, client.SendBufferSize);
    }
}
