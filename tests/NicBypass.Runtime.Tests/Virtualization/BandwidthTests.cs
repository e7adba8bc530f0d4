using NicBypass.Hosting;
using NicBypass.Runtime;
using NicBypass.Runtime.Accounting;
using NicBypass.Runtime.Virtualization;

namespace NicBypass.Runtime.Tests;

/// <summary>
/// Bandwidth on virtual time: offered twice its allocation for one second, a VNIC delivers its
/// allocation within ±1% — a VM's policed at its VNIC (excess dropped as bandwidth), a
/// destination's enforced by polling (excess waits in the ring, a full ring drops).
/// </summary>
public class BandwidthTests
{
    public static TheoryData<string, string, long> Allocations => new()
    {
        { "vm", "64K", 64_000 },
        { "vm", "1M", 1_000_000 },
        { "vm", "100M", 100_000_000 },
        { "vm", "1G", 1_000_000_000 },
        { "container", "64K", 64_000 },
        { "container", "1M", 1_000_000 },
        { "container", "100M", 100_000_000 },
        { "container", "1G", 1_000_000_000 },
    };

    [Theory]
    [MemberData(nameof(Allocations))]
    public void Offered_twice_its_allocation_a_vnic_delivers_its_allocation_within_one_percent(string kind, string rate, long bitsPerSecond)
    {
        var clock = new VirtualClock();
        var extra = kind == "container" ? "; mode polling" : "";
        var (host, _) = TestHost.Build($$"""
            host b {
                nic e0 { model simnic-10g; rx-rings 1 }
                {{kind}} x on e0 { mac 02:00:00:00:00:01; bandwidth {{rate}}{{extra}} }
            }
            """, clock);

        // Frames small enough that one frame is under 1% of a second's allocation (a 1,000-byte
        // frame is 12.5% of 64 Kbps for a second): accuracy is measured, not frame rounding.
        var frameSize = bitsPerSecond <= 1_000_000 ? 64 : 1000;
        var report = TrafficSimulation.Run(host, clock, new SimulationOptions(Seconds: 1, FrameSize: frameSize, Mix: false));

        var vnic = report.Nics[0].Vnics[0];
        var ratio = vnic.DeliveredBytes * 8.0 / bitsPerSecond;
        Assert.InRange(ratio, 0.99, 1.01);
        var counters = host.Vnic("x").Counters;
        var queued = host.Vnic("x").Ring!.Count;
        if (kind == "vm") Assert.True(counters.Dropped(DropReason.Bandwidth) > 0, "a VM's excess is dropped as bandwidth");
        else Assert.True(counters.Dropped(DropReason.RingFull) + queued > 0, "a destination's excess waits in its ring, and a full ring drops");
        Assert.Equal(0, kind == "vm" ? counters.Dropped(DropReason.RingFull) : counters.Dropped(DropReason.Bandwidth));
        // Nothing lost silently: what is neither delivered nor dropped still waits in the ring.
        Assert.Equal(counters.Received, counters.Delivered + counters.DroppedTotal + queued);
    }

    [Theory]
    [InlineData("1M", 125)]    // 1,000-byte frames: 125 a second
    [InlineData("4M", 500)]
    public void A_polling_destination_polls_at_a_rate_that_follows_its_allocation(string rate, int framesPerSecond)
    {
        var clock = new VirtualClock();
        var (host, _) = TestHost.Build($$"""
            host b {
                nic e0 { model simnic-10g; rx-rings 1 }
                container x on e0 { mac 02:00:00:00:00:01; bandwidth {{rate}}; mode polling }
            }
            """, clock);

        TrafficSimulation.Run(host, clock, new SimulationOptions(Seconds: 1, FrameSize: 1000, Mix: false));

        var poller = host.NetworkStack("x").Poller!;
        Assert.False(host.Vnic("x").Ring!.InterruptsEnabled);
        // The simulation runs the processor every millisecond or so; the VNS polls its ring only
        // when the allocation will allow the next frame, about once per frame, not on every turn.
        Assert.InRange(poller.Polls, framesPerSecond * 0.9, framesPerSecond * 1.1);
        Assert.True(poller.Deferred > poller.Polls, $"{poller.Deferred} turns deferred, {poller.Polls} polls");
    }

    [Fact]
    public void The_limiter_holds_back_a_frame_until_its_credit_has_accrued()
    {
        var clock = new VirtualClock();
        var limiter = new BandwidthLimiter(64_000, 1000, clock);

        Assert.True(limiter.TryConsume(8));          // it starts with 1 ms of credit (64 bits) at 64 Kbps
        Assert.False(limiter.TryConsume(1000));      // 8,000 bits: 125 ms of 64 Kbps
        clock.Advance(TimeSpan.FromMilliseconds(124));
        Assert.False(limiter.TryConsume(1000));
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(limiter.TryConsume(1000));       // 125 ms of credit
        Assert.False(limiter.TryConsume(8));
        clock.Advance(TimeSpan.FromSeconds(10));
        Assert.True(limiter.TryConsume(1000));       // a long idle gap fills the bucket to one waiting frame…
        Assert.False(limiter.TryConsume(1000));      // …and no more: no burst beyond it
    }
}
