using NicBypass.Runtime.Accounting;
using NicBypass.Runtime.Virtualization;

namespace NicBypass.Runtime.Tests;

/// <summary>The cost model (DESIGN.md §11): a busy processor makes work wait; rings fill and drop; each processor reports how busy it was.</summary>
public class ProcessorCostTests
{
    private const string OneVm = """
        host h {
            cpus 1
            nic e0 { model simnic-10g; rx-rings 1; ring-size 256 }
            vm a on e0 { mac 02:00:00:00:00:01; ip 10.0.0.1; cpu 0 }
        }
        """;

    // One microsecond of work per frame: the processor can take 1 Mpps.
    private static readonly CostTable MicrosecondPerFrame = new(InterruptNanoseconds: 0, PollNanoseconds: 0, FrameNanoseconds: 1_000,
        CopyNanosecondsPerByte: 0, ClassifyNanoseconds: 0, StackNanoseconds: 0);

    private static (NetworkHost Host, VirtualClock Clock) Offer(CostTable costs, double framesPerSecond, double seconds)
    {
        var clock = new VirtualClock();
        var (host, _) = TestHost.Build(OneVm, clock);
        host.Costs = costs;
        var nic = host.Nic("e0").Device;
        var frame = TestFrames.Udp("02:00:00:00:00:01", "10.0.0.1", 9, new byte[18]); // 60 bytes
        var interval = 1e9 / framesPerSecond;
        for (var at = 0.0; at < seconds * 1e9; at += interval)
        {
            clock.AdvanceTo((long)at);
            nic.Offer(frame);
            host.Pump();
        }
        Assert.True(host.RunUntil(() => host.Nic("e0").ReceiveRings[0].Count == 0, TimeSpan.FromSeconds(1)));
        return (host, clock);
    }

    [Fact]
    public void Offered_twice_what_its_processor_can_do_a_vm_gets_what_the_processor_can_do_and_the_ring_drops_the_rest()
    {
        var (host, _) = Offer(MicrosecondPerFrame, framesPerSecond: 2_000_000, seconds: 0.01);

        var vnic = host.Vnic("a");
        Assert.Equal(20_000, vnic.Counters.Received);
        Assert.InRange(vnic.Counters.Delivered, 10_000, 10_000 + 256 + 32); // 10 ms at 1 Mpps, plus what the ring held
        Assert.Equal(vnic.Counters.Received - vnic.Counters.Delivered, vnic.Counters.Dropped(DropReason.RingFull));
        var cpu = host.Report(0.01).Cpus![0];
        Assert.InRange(cpu.Busy, 0.99, 1.03);
        Assert.True(cpu.HardwareInterrupts < vnic.Counters.Delivered / 20, $"{cpu.HardwareInterrupts} interrupts for {vnic.Counters.Delivered} frames: a busy ring stays asserted");
    }

    [Fact]
    public void Within_what_its_processor_can_do_nothing_is_dropped_and_the_processor_is_as_busy_as_the_load()
    {
        var (host, _) = Offer(MicrosecondPerFrame, framesPerSecond: 500_000, seconds: 0.01);

        var vnic = host.Vnic("a");
        Assert.Equal(vnic.Counters.Received, vnic.Counters.Delivered);
        Assert.InRange(host.Report(0.01).Cpus![0].Busy, 0.49, 0.51);
    }

    [Fact]
    public void Without_costs_every_stage_runs_at_once_and_no_processor_is_reported()
    {
        var (host, clock) = Offer(CostTable.Free, framesPerSecond: 2_000_000, seconds: 0.001);

        Assert.Equal(host.Vnic("a").Counters.Received, host.Vnic("a").Counters.Delivered);
        Assert.Null(host.Report(0.001).Cpus);
        Assert.True(CostTable.Free.IsFree);
        Assert.False(CostTable.Default.IsFree);
    }
}
