using NicBypass.Runtime.Stacks;

namespace NicBypass.Runtime.Tests;

/// <summary>CUBIC's window function (RFC 9438), driven by an ACK clock of its own: a window's worth of segments acknowledged each round trip.</summary>
public class CubicWindowTests
{
    // Runs avoidance from `cwnd` for `seconds` on a path of `roundTrip`, starting at `start`:
    // each round trip acknowledges the window in ten ACKs. The window at each round trip's end.
    private static List<(double Time, double Window)> Run(CubicWindow cubic, double cwnd, double roundTrip, double seconds, double start = 0)
    {
        var trace = new List<(double, double)>();
        for (var t = start; t < start + seconds; t += roundTrip)
        {
            var acks = cwnd / 10;
            for (var i = 0; i < 10; i++) cwnd = cubic.Grow(t + i * roundTrip / 10, roundTrip, cwnd, acks);
            trace.Add((t + roundTrip, cwnd));
        }
        return trace;
    }

    [Fact]
    public void After_a_loss_the_window_returns_to_where_the_loss_came_in_about_K_seconds_and_dwells_there()
    {
        var cubic = new CubicWindow();
        cubic.OnLoss(1000);
        Assert.Equal(1000, cubic.WindowAtLoss);
        // From 0.7 of it, on a 100 ms path: K = ∛(1000 · 0.3 / 0.4) ≈ 9.09 s (RFC 9438 (2)).
        var k = Math.Cbrt(1000 * (1 - CubicWindow.Beta) / CubicWindow.C);
        var trace = Run(cubic, 1000 * CubicWindow.Beta, 0.1, 20);
        double At(double time) => trace.First(p => p.Time >= time - 1e-9).Window;
        // Concave: most of the way back within half of K (Reno, a segment a round trip: 745).
        Assert.InRange(At(k / 2), 940, 1000);
        // Around K it dwells near the loss's window: a second either side moves it by few segments.
        Assert.InRange(At(k - 1), 985, 1000);
        Assert.InRange(At(k + 1), 1000, 1010);
        // Then convex: probing beyond, faster and faster (Reno after 20 s: 900).
        Assert.True(At(20) > 1300, $"cwnd {At(20)} at 20 s");
        Assert.True(At(20) - At(19) > At(15) - At(14), "growth accelerates past the plateau");
    }

    [Fact]
    public void A_loss_before_the_window_regains_the_last_ones_remembers_less_fast_convergence()
    {
        var cubic = new CubicWindow();
        cubic.OnLoss(1000);
        cubic.OnLoss(800); // below the last loss's window: another flow took bandwidth
        Assert.Equal(800 * (1 + CubicWindow.Beta) / 2, cubic.WindowAtLoss, 6);
        cubic.OnLoss(900); // above it: as it was
        Assert.Equal(900, cubic.WindowAtLoss);
    }

    [Fact]
    public void On_a_short_path_it_grows_no_slower_than_reno_would_the_friendly_region()
    {
        // 1 ms round trips and a small window: the cubic (K ≈ 2.5 s) barely moves in 100 round
        // trips; the Reno-friendly estimate (α = 0.53 a round trip up to the loss's window, then
        // one segment) carries the window.
        var cubic = new CubicWindow();
        cubic.OnLoss(20);
        var trace = Run(cubic, 14, 0.001, 0.1);
        Assert.InRange(trace[^1].Window, 95, 115);
    }

    [Fact]
    public void Without_a_loss_an_epoch_starts_where_the_window_is_and_probes_convexly()
    {
        var cubic = new CubicWindow();
        var trace = Run(cubic, 100, 0.05, 10);
        Assert.Equal(100, cubic.WindowAtLoss); // the window at the epoch's start is its plateau: K = 0
        Assert.True(trace[^1].Window > 100 + 0.4 * 9 * 9 * 9 * 0.9, $"cwnd {trace[^1].Window}");
        cubic.Restart();
        var again = Run(cubic, 200, 0.05, 1, start: 20);
        // A fresh epoch from the window it has: Reno's segment a round trip (20 in the second), the cubic from there barely anything.
        Assert.InRange(again[^1].Window, 215, 222);
    }
}
