using NicBypass.Runtime.Stacks;

namespace NicBypass.Runtime.Tests;

/// <summary>
/// The virtual clock's timers run on virtual time: Task.Delay, a timeout's cancellation and
/// WaitAsync given the host's clock fire as the clock passes their due time, and a host's event
/// loop stops there. They ran on the system clock: a run on virtual time jumped past them to its
/// limit while the real timer had not fired (found by review).
/// </summary>
public class VirtualClockTests
{
    [Fact]
    public void Timers_fire_in_order_at_their_due_times_as_the_clock_passes_them_periodic_ones_again()
    {
        var clock = new VirtualClock();
        var fired = new List<(string Name, long At)>();
        using var once = clock.CreateTimer(_ => fired.Add(("once", clock.Nanoseconds)), null, TimeSpan.FromMilliseconds(5), Timeout.InfiniteTimeSpan);
        using var every = clock.CreateTimer(_ => fired.Add(("every", clock.Nanoseconds)), null, TimeSpan.FromMilliseconds(2), TimeSpan.FromMilliseconds(3));
        var moved = clock.CreateTimer(_ => fired.Add(("moved", clock.Nanoseconds)), null, TimeSpan.FromMilliseconds(1), Timeout.InfiniteTimeSpan);
        moved.Change(TimeSpan.FromMilliseconds(7), Timeout.InfiniteTimeSpan);
        var gone = clock.CreateTimer(_ => fired.Add(("gone", clock.Nanoseconds)), null, TimeSpan.FromMilliseconds(4), Timeout.InfiniteTimeSpan);
        gone.Dispose();
        Assert.Equal(2_000_000, clock.NextTimer);

        clock.Advance(TimeSpan.FromMilliseconds(9));

        Assert.Equal(new[] { ("every", 2_000_000L), ("once", 5_000_000L), ("every", 5_000_000L), ("moved", 7_000_000L), ("every", 8_000_000L) }, fired);
        Assert.Equal(9_000_000, clock.Nanoseconds);
        Assert.Equal(11_000_000, clock.NextTimer);
        Assert.False(gone.Change(TimeSpan.Zero, Timeout.InfiniteTimeSpan));
    }

    [Fact]
    public async Task A_delay_on_the_clock_completes_when_the_clock_reaches_it_not_on_real_time()
    {
        var clock = new VirtualClock();
        var delay = Task.Delay(TimeSpan.FromSeconds(30), clock);
        clock.Advance(TimeSpan.FromSeconds(29));
        Assert.False(delay.IsCompleted);
        clock.Advance(TimeSpan.FromSeconds(1));
        await delay.WaitAsync(TimeSpan.FromSeconds(10)); // (real time: only in case it did not fire)
    }

    [Fact]
    public void A_run_stops_at_a_timer_on_its_clock_and_a_timeout_on_virtual_time_cancels_a_read_there()
    {
        var harness = new StackHarness();
        var (client, server) = harness.Connect();
        var start = harness.Clock.Nanoseconds;
        long resumedAt = 0;
        var read = -1;
        Assert.True(harness.Host.Run(async () =>
        {
            await Task.Delay(TimeSpan.FromMilliseconds(250), harness.Clock);
            resumedAt = harness.Clock.Nanoseconds;
            using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(100), harness.Clock);
            try
            {
                read = await server.ReadAsync(new byte[10], timeout.Token); // nothing is sent: it times out
            }
            catch (OperationCanceledException)
            {
                read = 0;
            }
        }, TimeSpan.FromSeconds(10)));

        Assert.Equal(250_000_000, resumedAt - start);
        Assert.Equal(0, read);
        Assert.Equal(350_000_000, harness.Clock.Nanoseconds - start); // the timeout's instant, not the run's limit
        Assert.Equal(TcpState.Established, client.State);
    }
}
