using NicBypass.Runtime.Accounting;
using NicBypass.Runtime.Virtualization;

namespace NicBypass.Runtime.Tests;

/// <summary>The cost model (docs/runtime.md): a busy processor makes work wait; rings fill and drop; each processor reports how busy it was.</summary>
public class ProcessorCostTests
{
    // One microsecond of work per frame: the processor can take 1 Mpps.
    private static readonly CostTable MicrosecondPerFrame = new(InterruptNanoseconds: 0, PollNanoseconds: 0, FrameNanoseconds: 1_000,
        CopyNanosecondsPerByte: 0, ClassifyNanoseconds: 0, StackNanoseconds: 0);

    private static NetworkHost Offer(CostTable costs, double framesPerSecond, double seconds)
    {
        var host = OneVmLoad.Build(costs);
        OneVmLoad.Offer(host, framesPerSecond, seconds);
        OneVmLoad.Drain(host);
        return host;
    }

    [Fact]
    public void Offered_twice_what_its_processor_can_do_a_vm_gets_what_the_processor_can_do_and_the_ring_drops_the_rest()
    {
        var host = Offer(MicrosecondPerFrame, framesPerSecond: 2_000_000, seconds: 0.01);

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
        var host = Offer(MicrosecondPerFrame, framesPerSecond: 500_000, seconds: 0.01);

        var vnic = host.Vnic("a");
        Assert.Equal(vnic.Counters.Received, vnic.Counters.Delivered);
        Assert.InRange(host.Report(0.01).Cpus![0].Busy, 0.49, 0.51);
    }

    [Fact]
    public void Without_costs_every_stage_runs_at_once_and_no_processor_is_reported()
    {
        var host = Offer(CostTable.Free, framesPerSecond: 2_000_000, seconds: 0.001);

        Assert.Equal(host.Vnic("a").Counters.Received, host.Vnic("a").Counters.Delivered);
        Assert.Null(host.Report(0.001).Cpus);
        Assert.True(CostTable.Free.IsFree);
        Assert.False(CostTable.Default.IsFree);
    }
}

/// <summary>Dynamic polling against interrupts only (Mogul and Ramakrishnan's receive livelock), on the cost model.</summary>
public class DynamicPollingTests
{
    // A microsecond per interrupt and per frame: without interrupts the processor takes 1 Mpps.
    private static readonly CostTable Costs = new(InterruptNanoseconds: 1_000, PollNanoseconds: 100, FrameNanoseconds: 1_000,
        CopyNanosecondsPerByte: 0, ClassifyNanoseconds: 0, StackNanoseconds: 0);

    internal static (long Delivered, long Interrupts, ReceiveRingView Ring) Run(bool dynamicPolling, double framesPerSecond, double seconds = 0.01)
    {
        var host = OneVmLoad.Build(Costs, dynamicPolling: dynamicPolling);
        OneVmLoad.Offer(host, framesPerSecond, seconds);
        var ring = host.Nic("e0").ReceiveRings[0];
        return (host.Vnic("a").Counters.Delivered, host.Processors[0].HardwareInterrupts, new ReceiveRingView(ring.PollingSwitches));
    }

    internal sealed record ReceiveRingView(long PollingSwitches);

    [Fact]
    public void Past_saturation_interrupts_alone_lose_half_the_processor_and_dynamic_polling_stays_at_its_maximum()
    {
        var interruptsOnly = Run(dynamicPolling: false, framesPerSecond: 2_000_000);
        var polling = Run(dynamicPolling: true, framesPerSecond: 2_000_000);

        // Dynamic polling: the ring switches to polling and the processor delivers what it can,
        // with far fewer than one interrupt in twenty frames.
        Assert.InRange(polling.Delivered, 9_000, 10_300);
        Assert.True(polling.Interrupts / (double)polling.Delivered < 0.05, $"{polling.Interrupts} interrupts for {polling.Delivered} frames");
        Assert.True(polling.Ring.PollingSwitches >= 1);
        // Interrupts only: every frame that reaches the ring interrupts the processor, and that
        // time is lost to delivery. (The full collapse of receive livelock needs work below
        // interrupt level that interrupts starve — the VSQ worker of the serialization-queue issue.)
        Assert.True(interruptsOnly.Delivered < polling.Delivered * 0.6, $"interrupts only delivered {interruptsOnly.Delivered}, polling {polling.Delivered}");
        Assert.True(interruptsOnly.Interrupts >= interruptsOnly.Delivered, $"{interruptsOnly.Interrupts} interrupts for {interruptsOnly.Delivered} frames");
    }

    [Fact]
    public void Below_saturation_both_deliver_everything()
    {
        var interruptsOnly = Run(dynamicPolling: false, framesPerSecond: 200_000);
        var polling = Run(dynamicPolling: true, framesPerSecond: 200_000);

        Assert.InRange(interruptsOnly.Delivered, 1_990, 2_000);
        Assert.InRange(polling.Delivered, 1_990, 2_000);
    }
}

/// <summary>Latency per VNIC, from a frame's last bit on the wire to its delivery, under the cost model.</summary>
public class LatencyTests
{
    [Fact]
    public void Latency_is_the_wait_behind_a_busy_processor_and_grows_with_the_load()
    {
        var costs = new CostTable(InterruptNanoseconds: 0, PollNanoseconds: 0, FrameNanoseconds: 1_000, CopyNanosecondsPerByte: 0, ClassifyNanoseconds: 0, StackNanoseconds: 0);
        LatencyHistogram Run(double framesPerSecond, int burst)
        {
            var host = OneVmLoad.Build(costs, ringSize: 1024);
            OneVmLoad.Offer(host, framesPerSecond, seconds: 0.005, burst);
            OneVmLoad.Drain(host);
            var report = host.Report(0.005).Nics[0].Vnics[0].Latency!;
            var latency = host.Vnic("a").Latency;
            Assert.Equal(latency.Max / 1e3, report.Max);
            return latency;
        }

        var light = Run(100_000, burst: 1);  // 10% of what the processor can do, evenly: each frame finds it idle
        var heavy = Run(950_000, burst: 20); // 95%, in bursts of 20: frames queue behind each other

        Assert.Equal(500, light.Count);
        Assert.True(light.Percentile(0.99) < 1_000, $"light p99 {light.Percentile(0.99)} ns");
        // The last of a burst of 20 waits for most of the 19 before it (latency runs to the start
        // of the batch that delivers it): over 10 µs, where an idle processor takes a frame at once.
        Assert.InRange(heavy.Percentile(0.99), 10_000, 21_000);
        Assert.True(heavy.Percentile(0.5) > 10 * light.Percentile(0.99) + 100, $"heavy p50 {heavy.Percentile(0.5)} ns vs light p99 {light.Percentile(0.99)} ns");
        Assert.True(heavy.Max >= heavy.Percentile(0.99) && heavy.Percentile(0.99) >= heavy.Percentile(0.5));
    }

    [Fact]
    public void The_histogram_reads_percentiles_within_its_bucket_width()
    {
        var histogram = new LatencyHistogram();
        for (var i = 1; i <= 1000; i++) histogram.Record(i * 1000L);

        Assert.InRange(histogram.Percentile(0.5), 500_000, 500_000 * 1.0625);
        Assert.InRange(histogram.Percentile(0.99), 990_000, 990_000 * 1.0625);
        Assert.Equal(1_000_000, histogram.Max);
        Assert.Equal(1_000_000, histogram.Percentile(1));
    }

    [Fact]
    public void An_empty_histogram_reads_zero_and_its_first_latency_is_counted()
    {
        var histogram = new LatencyHistogram();
        Assert.Equal(0, histogram.Count);
        Assert.Equal(0, histogram.Percentile(0.5));
        Assert.Equal(0, histogram.Percentile(1));
        Assert.Equal(0, histogram.Max);

        histogram.Record(7);
        Assert.Equal(1, histogram.Count);
        Assert.Equal(7, histogram.Percentile(0.5));
        Assert.Equal(7, histogram.Max);
    }
}

/// <summary>Regressions from review: idle work costs nothing and time never creeps.</summary>
public class IdleCostTests
{
    [Fact]
    public void An_idle_polling_destination_costs_its_processor_nothing_and_time_jumps_to_the_end()
    {
        const string topology = """
            host h {
                cpus 1
                nic e0 { model simnic-10g; rx-rings 1 }
                container c on e0 { mac 02:00:00:00:00:01; ip 10.0.0.1; protocols udp; ports 53; bandwidth 10M; mode polling }
            }
            """;
        var clock = new VirtualClock();
        var (host, _) = TestHost.Build(topology, clock);
        host.Costs = CostTable.Default;
        var pumps = 0;

        Assert.False(host.RunUntil(() => { pumps++; return false; }, TimeSpan.FromSeconds(1)));

        Assert.Equal(1_000_000_000, clock.Nanoseconds);
        Assert.Equal(0, host.Processors[0].BusyNanoseconds);
        Assert.InRange(pumps, 1, 3); // straight to the end: no tick, no 100 ns steps of empty polls
    }
}

/// <summary>The transmit side of the cost model: a frame a stack builds on a processor costs that processor.</summary>
public class TransmitCostTests
{
    [Fact]
    public void Each_echo_reply_a_container_sends_costs_its_processor_the_transmit_cost_and_an_applications_own_send_costs_none()
    {
        var (host, _) = TestHost.Build("""
            host h {
                cpus 1
                nic e0 { model simnic-10g; rx-rings 1 }
                container c on e0 { mac 02:00:00:00:00:01; ip 10.0.0.1; protocols udp; ports 53; cpu 0 }
            }
            """, new VirtualClock());
        host.Costs = new CostTable(InterruptNanoseconds: 0, PollNanoseconds: 0, FrameNanoseconds: 0, CopyNanosecondsPerByte: 0, ClassifyNanoseconds: 0, StackNanoseconds: 0, TransmitNanoseconds: 5_000);
        var stack = host.NetworkStack("c").Stack;
        stack.AddNeighbor(Stacks.NetworkAddress.Parse("10.0.0.9"), 0x02_00_00_00_00_09);
        var cpu = host.Processors[0];

        // Ten pings, each answered by the VNS on cpu0: ten transmissions, 50 µs.
        for (ushort i = 1; i <= 10; i++)
        {
            host.Nic("e0").Device.Receive(NicBypass.Runtime.Packets.Frames.EchoRequest("02:00:00:00:00:09", "02:00:00:00:00:01", "10.0.0.9", "10.0.0.1", sequence: i));
            Assert.True(host.RunUntil(() => stack.Counters.Answered == i, TimeSpan.FromMilliseconds(1)));
        }
        Assert.Equal(10 * 5_000, cpu.BusyNanoseconds);

        // The application sends from its own thread: no modelled processor runs it.
        Assert.Equal(Stacks.SendStatus.Sent, stack.BindUdp(53).TrySendTo(Stacks.NetworkEndpoint.Parse("10.0.0.9", 53), new byte[10]));
        host.Pump();
        Assert.Equal(10 * 5_000, cpu.BusyNanoseconds);
    }
}

/// <summary>Interrupt moderation (<c>ethtool -C rx-usecs</c>): frames arriving within the delay share one interrupt.</summary>
public class InterruptModerationTests
{
    private static (long Interrupts, long Delivered, double P50) Run(TimeSpan moderation, string declared = "0", double framesPerSecond = 500_000, double seconds = 0.001)
    {
        var host = OneVmLoad.Build(CostTable.Default, moderation: declared);
        if (moderation > TimeSpan.Zero) host.Nic("e0").Device.InterruptModeration = moderation;
        OneVmLoad.Offer(host, framesPerSecond, seconds); // at 500,000 a second, one frame every 2 µs: the processor keeps up
        OneVmLoad.Drain(host);
        var report = host.Report(seconds).Nics[0].Vnics[0];
        return (host.Processors[0].HardwareInterrupts, report.Delivered, report.Latency!.P50);
    }

    [Fact]
    public void Adaptive_moderation_interrupts_at_once_when_quiet_and_shares_interrupts_when_busy()
    {
        // Quiet: 10 frames a millisecond for 10 ms — below 20, so every frame interrupts at once, as with none.
        var quietOff = Run(TimeSpan.Zero, framesPerSecond: 10_000, seconds: 0.01);
        var quiet = Run(TimeSpan.Zero, declared: "adaptive", framesPerSecond: 10_000, seconds: 0.01);
        Assert.Equal(100, quiet.Delivered);
        Assert.InRange(quiet.Interrupts, 95, 100);
        Assert.Equal(quietOff.P50, quiet.P50);

        // Busy: 500 frames a millisecond for 5 ms — past 200, so after its first millisecond it waits
        // 50 µs and about 25 frames share each interrupt.
        var busyOff = Run(TimeSpan.Zero, framesPerSecond: 500_000, seconds: 0.005);
        var busy = Run(TimeSpan.Zero, declared: "adaptive", framesPerSecond: 500_000, seconds: 0.005);
        Assert.Equal(2500, busy.Delivered);
        Assert.InRange(busyOff.Interrupts, 2400, 2500);
        Assert.True(busy.Interrupts < busyOff.Interrupts / 4, $"{busy.Interrupts} interrupts adaptive, {busyOff.Interrupts} without");
    }

    [Fact]
    public void A_ring_armed_after_the_delay_dropped_interrupts_at_its_own_deadline_not_behind_an_earlier_rings()
    {
        // Ring a is armed with 50 µs; the delay then drops to 8 µs (adaptive moderation does so
        // between milliseconds) and ring b is armed: b's interrupt is due first and comes first.
        var (host, _) = TestHost.Build("""
            host h {
                cpus 2
                nic e0 { model simnic-10g; rx-rings 2 }
                vm a on e0 { mac 02:00:00:00:00:01; ip 10.0.0.1; cpu 0 }
                vm b on e0 { mac 02:00:00:00:00:02; ip 10.0.0.2; cpu 1 }
            }
            """, new VirtualClock());
        host.Costs = CostTable.Default;
        var clock = (VirtualClock)host.Time;
        var device = host.Nic("e0").Device;
        device.InterruptModeration = TimeSpan.FromMicroseconds(50);
        var start = clock.Nanoseconds;
        Assert.Equal(1, host.Offer("a", 1_000_000_000, TimeSpan.FromMicroseconds(1))); // one 1,000-byte frame
        device.InterruptModeration = TimeSpan.FromMicroseconds(8);
        Assert.Equal(1, host.Offer("b", 1_000_000_000, TimeSpan.FromMicroseconds(1)));

        host.RunTo(start + 25_000); // b's deadline (about 10 µs in) has passed, a's (about 51 µs) has not
        Assert.Equal(0, host.Vnic("a").Counters.Delivered);
        Assert.Equal(1, host.Vnic("b").Counters.Delivered);
        host.RunTo(start + 60_000);
        Assert.Equal(1, host.Vnic("a").Counters.Delivered);
    }

    [Fact]
    public void With_10_us_of_moderation_about_six_frames_share_each_interrupt_and_wait_for_it()
    {
        var off = Run(TimeSpan.Zero);
        var on = Run(TimeSpan.FromMicroseconds(10));
        Assert.Equal(on, Run(TimeSpan.Zero, declared: "10us")); // the language's `interrupt-moderation 10us` is the same setting
        Assert.Equal(500, off.Delivered);
        Assert.Equal(500, on.Delivered);
        // Without moderation every frame finds the ring idle and interrupts: 1 µs each, half the processor.
        Assert.InRange(off.Interrupts, 490, 500);
        // With it, the first frame's interrupt waits 10 µs and the frames behind it join — those
        // that come while it is serviced too, so a cycle is the delay plus the service: ~84.
        Assert.InRange(on.Interrupts, 75, 110);
        // The price is latency: a frame waits up to the delay for its interrupt.
        Assert.True(on.P50 > off.P50 + 3, $"p50 {on.P50} µs moderated, {off.P50} µs not");
    }
}

/// <summary>A sender its outbound allocation holds back waits for the credit, without charging its processor for tries that cannot go.</summary>
public class HeldBackSenderCostTests
{
    [Fact]
    public void A_vm_held_back_by_its_outbound_allocation_does_not_keep_its_vcpu_busy_retrying()
    {
        // 200 KB from a VM limited to 100 Mbit/s: about 16 ms of sending, the guest's vCPU mostly
        // idle. Its stack used to try the refused segment again each time its vCPU freed up, each
        // try charged: the vCPU read 99% busy through a transfer its allocation paced (found by review).
        var harness = new StackHarness(topology: StackHarness.Topology.Replace("ip fd00::2 }", "ip fd00::2; outbound-bandwidth 100M }"));
        harness.Host.Costs = CostTable.Default;
        var (client, server) = Connected(harness, harness.Guest.Stack, harness.Web.Stack);
        var vcpu = harness.Guest.Vcpu;
        var (busy, start) = (vcpu.BusyNanoseconds, harness.Clock.Nanoseconds);

        var got = harness.SendAndReceive(client, server, new byte[200_000], 30);

        Assert.Equal(200_000, got.Length);
        var took = harness.Clock.Nanoseconds - start;
        Assert.InRange(took / 1e6, 14, 25); // the allocation's pace
        var share = (double)(vcpu.BusyNanoseconds - busy) / took;
        Assert.True(share < 0.1, $"vCPU busy {share:P1} of the transfer; {harness.Guest.Interface.Blocked} sends held back");
    }

    [Fact]
    public void A_container_held_back_by_its_outbound_allocation_tries_again_when_credit_comes_not_at_every_ack()
    {
        var harness = new StackHarness(topology: StackHarness.Topology.Replace("ports 80 53 }", "ports 80 53; outbound-bandwidth 200M }"));
        harness.Host.Costs = CostTable.Default;
        var (client, server) = Connected(harness, harness.Web.Stack, harness.Db.Stack);
        var (passes, start) = (harness.Web.TimerPasses, harness.Clock.Nanoseconds);

        var got = harness.SendAndReceive(client, server, new byte[200_000], 30);

        Assert.Equal(200_000, got.Length);
        // About 140 segments, each held back once or so. The VSQ's worker used to run after every
        // batch of ACKs, and each run tried the held-back segment again (a timer pass each):
        // 4,371 passes for 200 KB; 150 now.
        var segments = 200_000 / 1448;
        Assert.True(harness.Web.TimerPasses - passes < 2 * segments, $"{harness.Web.TimerPasses - passes} timer passes for {segments} segments");
    }

    private static (Stacks.TcpConnection Client, Stacks.TcpConnection Server) Connected(StackHarness harness, Stacks.NetworkStack from, Stacks.NetworkStack to)
    {
        var (address, port) = to == harness.Web.Stack ? ("10.0.0.1", 80) : ("10.0.0.3", 5432); // declared ports
        var listener = to.ListenTcp(port);
        var client = from.ConnectTcp(Stacks.NetworkEndpoint.Parse(address, port));
        Stacks.TcpConnection? server = null;
        Assert.True(harness.RunUntil(() => listener.TryAccept(out server)));
        Assert.True(harness.RunUntil(() => client.State == Stacks.TcpState.Established));
        return (client, server!);
    }
}
