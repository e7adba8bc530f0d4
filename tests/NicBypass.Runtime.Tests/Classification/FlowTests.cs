using NicBypass.Runtime.Accounting;
using NicBypass.Runtime.Classification;
using NicBypass.Runtime.Virtualization;

namespace NicBypass.Runtime.Tests;

/// <summary>Flows (flowadm's add-flow, docs/architecture.md § Classification as advertised): selection, own counters, allocation, blocking.</summary>
public class FlowTests
{
    private static string Topology(string model) => $$"""
        host h {
            nic e0 { model {{model}}; rx-rings 2 }
            container web on e0 { mac 02:00:00:00:00:01; ip 10.0.0.1; protocols tcp udp; ports 80 53 }
            flow dns on web { transport udp; local-port 53; bandwidth 0 }
            flow http on web { transport tcp; local-port 80; remote-ip 10.9.0.0/16 }
        }
        """;

    [Theory]
    [InlineData("simnic-100g", true)]
    [InlineData("simnic-10g", false)]
    [InlineData("simnic-1g", false)]
    public void A_blocked_flow_costs_no_processor_time_where_the_hardware_matches_its_fields_and_some_elsewhere(string model, bool inHardware)
    {
        var (host, _) = TestHost.Build(Topology(model), new VirtualClock());
        host.Costs = CostTable.Default;
        var flood = TestFrames.Udp("02:00:00:00:00:01", "10.0.0.1", 53, new byte[64]);
        for (var i = 0; i < 200; i++)
        {
            host.RunTo(i * 10_000L);
            host.Nic("e0").Device.Offer(flood);
        }
        host.RunTo(10_000_000);

        var web = host.Vnic("web");
        var dns = web.Flows.Single(f => f.Name == "dns");
        Assert.Equal(200, dns.Counters.Received);
        Assert.Equal(200, dns.Counters.Dropped(DropReason.Blocked));
        Assert.Equal(200, web.Counters.Dropped(DropReason.Blocked));
        Assert.Equal(0, host.NetworkStack("web").Counters.Received);
        var busy = host.Processors.Sum(p => p.BusyNanoseconds);
        if (inHardware) Assert.Equal(0, busy);
        else Assert.True(busy >= 200 * CostTable.Default.FrameNanoseconds, $"busy {busy} ns");
        var nic = Assert.Single(host.Report().Nics);
        var report = Assert.Single(nic.Vnics);
        Assert.Equal(report.Received, report.Delivered + report.Dropped.Sum(d => d.Value) + report.Queued);
        Assert.Equal(200, report.Flows!.Single(f => f.Name == "dns").Dropped.Single(d => d.Key == "blocked").Value);
    }

    [Fact]
    public void A_flow_selects_by_remote_address_and_port_and_counts_what_it_delivers()
    {
        var (host, _) = TestHost.Build(Topology("simnic-100g"));
        var listener = host.NetworkStack("web").Stack.ListenTcp(80);

        host.Send("e0",
            TestFrames.Tcp("02:00:00:00:00:01", "10.0.0.1", 80, "10.9.1.2"),    // http: from 10.9.0.0/16
            TestFrames.Tcp("02:00:00:00:00:01", "10.0.0.1", 80, "10.8.1.2"),    // port 80, but from elsewhere: no flow
            TestFrames.Udp("02:00:00:00:00:01", "10.0.0.1", 53, new byte[8]));  // dns: blocked

        var http = host.Vnic("web").Flows.Single(f => f.Name == "http");
        Assert.Equal(1, http.Counters.Received);
        Assert.Equal(1, http.Counters.Delivered);
        Assert.Equal(TestFrames.Tcp("02:00:00:00:00:01", "10.0.0.1", 80, "10.9.1.2").Length, http.Counters.DeliveredBytes);
        Assert.Equal(2, host.Vnic("web").Counters.Delivered);
        Assert.NotNull(listener);
    }

    [Fact]
    public void A_flow_is_held_to_its_allocation_and_the_rest_of_the_vnics_traffic_is_not()
    {
        var (host, _) = TestHost.Build("""
            host h {
                nic e0 { model simnic-10g; rx-rings 2 }
                vm v on e0 { mac 02:00:00:00:00:01; ip 10.0.0.1 }
                flow bulk on v { transport udp; local-port 9; bandwidth 8M }
            }
            """, new VirtualClock());
        var bulk = TestFrames.Udp("02:00:00:00:00:01", "10.0.0.1", 9, new byte[958]);   // 1,000-byte frames
        var other = TestFrames.Udp("02:00:00:00:00:01", "10.0.0.1", 7, new byte[958]);
        // 0.1 s at 80 Mbit/s of each: the flow is allowed 8 Mbit/s, 100 frames (plus its burst).
        for (var i = 0; i < 1000; i++)
        {
            host.RunTo(i * 100_000L);
            host.Nic("e0").Device.Offer(bulk);
            host.Nic("e0").Device.Offer(other);
        }
        host.RunTo(100_000_000);

        var flow = host.Vnic("v").Flows.Single();
        Assert.Equal(1000, flow.Counters.Received);
        Assert.InRange(flow.Counters.Delivered, 100, 100 + 20);
        // The excess waits in the flow's own queue until it is full; beyond that it is dropped.
        Assert.InRange(flow.Queued, FlowSettings.DefaultQueueLength - 1, FlowSettings.DefaultQueueLength);
        Assert.Equal(flow.Counters.Received - flow.Counters.Delivered - flow.Queued, flow.Counters.Dropped(DropReason.Bandwidth));
        Assert.Equal(1000 + flow.Counters.Delivered, host.Vnic("v").Counters.Delivered); // everything else got through
        host.Report().AssertAddsUp();
    }

    [Theory]
    [InlineData("vm v on e0 { mac 02:00:00:00:00:01; ip 10.0.0.1 }")]
    [InlineData("container v on e0 { mac 02:00:00:00:00:01; ip 10.0.0.1; protocols udp; ports 9 }")]
    public void A_burst_within_the_flows_queue_waits_for_its_allocation_and_loses_nothing(string vnic)
    {
        // 100 frames of 1,000 bytes at once to a flow allowed 8 Mbit/s: a policer would pass the
        // bucket's millisecond and drop the rest; the flow's queue holds them and lets them out
        // at the allocation, the last about 0.1 s later — to a VM's guest ring, or to a
        // container's serialization queue and on to its stack.
        var (host, _) = TestHost.Build($$"""
            host h {
                nic e0 { model simnic-10g; rx-rings 2 }
                {{vnic}}
                flow bulk on v { transport udp; local-port 9; bandwidth 8M }
            }
            """, new VirtualClock());
        host.Costs = CostTable.Default;
        var bulk = TestFrames.Udp("02:00:00:00:00:01", "10.0.0.1", 9, new byte[958]);
        for (var i = 0; i < 100; i++)
        {
            host.RunTo(i * 5_000L);   // 100 frames in half a millisecond
            host.Nic("e0").Device.Offer(bulk);
        }
        host.RunTo(50_000_000);
        var flow = host.Vnic("v").Flows.Single();
        Assert.Equal(100, flow.Counters.Received);
        Assert.InRange(flow.Counters.Delivered, 45, 56);   // half-way: half of them, at 1 ms each
        Assert.Equal(100 - flow.Counters.Delivered, flow.Queued);
        host.RunTo(200_000_000);

        Assert.Equal(100, flow.Counters.Delivered);
        Assert.Equal(0, flow.Counters.DroppedTotal);
        Assert.Equal(0, flow.Queued);
        Assert.InRange(host.Vnic("v").Latency.Max, 95_000_000, 105_000_000);   // the last waited its turn
        if (host.NetworkStackOf(host.Vnic("v")) is { } stack) Assert.Equal(100, stack.Counters.Received);
        host.Report().AssertAddsUp();
    }

    [Fact]
    public void Under_the_cost_model_a_flow_waiting_for_a_slow_guest_is_served_when_the_guest_makes_room()
    {
        // A guest 20 µs a frame slow takes 300 frames of a flow: its ring (256) fills, the rest
        // wait in the flow's queue, and the guest draining its ring must bring the VNIC's
        // processor back to them (nothing else will: no more frames arrive).
        var (host, nic) = SlowGuestWithFlow(frames: 300);
        var flow = host.Vnic("v").Flows.Single();
        Assert.True(host.RunUntil(() => flow.Counters.Delivered == 300, TimeSpan.FromSeconds(1)),
            $"delivered {flow.Counters.Delivered}, queued {flow.Queued}, dropped {flow.Counters.DroppedTotal}");
        Assert.Equal(0, flow.Counters.DroppedTotal);
        Assert.True(flow.Queue!.HighWater > 0, "frames waited in the flow's queue");
        host.Report().AssertAddsUp();
    }

    // A VM whose guest takes 20 µs a frame (cost model, virtual time), with one flow for UDP port
    // 9, offered `frames` frames of it at once.
    private static (NetworkHost Host, Devices.SimulatedNic Nic) SlowGuestWithFlow(int frames)
    {
        var (host, _) = TestHost.Build("""
            host h {
                nic e0 { model simnic-10g; rx-rings 1; ring-size 4096 }
                vm v on e0 { mac 02:00:00:00:00:01; ip 10.0.0.1 }
                flow bulk on v { transport udp; local-port 9 }
            }
            """, new VirtualClock());
        host.Costs = CostTable.Default with { StackNanoseconds = 20_000 };
        var nic = host.Nic("e0").Device;
        var frame = TestFrames.Udp("02:00:00:00:00:01", "10.0.0.1", 9, new byte[18]);
        for (var i = 0; i < frames; i++) nic.Offer(frame);
        return (host, nic);
    }

    [Fact]
    public void Sorting_frames_into_flow_queues_and_serving_them_allocates_nothing()
    {
        // The same VM and traffic with and without flows, measured in alternating windows of ten
        // rounds after a warm-up: the runtime may allocate now and then while it tiers code up
        // (in both), but flows that allocated would do so in every one of their windows.
        var without = EchoRounds.Build(declarations: "");
        var with = EchoRounds.Build(declarations: """
            flow dns on v { transport udp; local-port 53; priority high }
            flow bulk on v { transport udp; local-port 9; priority low }
            """);
        var withoutWindows = new List<long>();
        var withWindows = new List<long>();
        for (var w = 0; w < 10; w++)
        {
            withoutWindows.Add(Allocated(without));
            withWindows.Add(Allocated(with));
        }

        Assert.True(withWindows.Min() <= withoutWindows.Min(), $"with flows: [{string.Join(", ", withWindows)}]; without: [{string.Join(", ", withoutWindows)}]");

        static long Allocated(Action rounds)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            rounds();
            return GC.GetAllocatedBytesForCurrentThread() - before;
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_tap_that_throws_leaves_every_frame_counted_and_every_buffer_returned(bool flows)
    {
        var (host, _) = TestHost.Build($$"""
            host h {
                nic e0 { model simnic-10g; rx-rings 1 }
                vm v on e0 { mac 02:00:00:00:00:01; ip 10.0.0.1 }
                {{(flows ? "flow bulk on v { transport udp; local-port 9 }" : "")}}
            }
            """);
        var vnic = host.Vnic("v");
        var seen = 0;
        vnic.Tap = (_, _) =>
        {
            if (++seen == 5) throw new InvalidOperationException("the user's tap failed");
        };
        var pool = host.Nic("e0").Device.Pool;
        var free = pool.Available;
        var frame = TestFrames.Udp("02:00:00:00:00:01", "10.0.0.1", 9, new byte[18]);

        for (var i = 0; i < 10; i++) host.Nic("e0").Device.Receive(frame);
        Assert.Equal("the user's tap failed", Assert.Throws<InvalidOperationException>(() => host.Pump()).Message);

        Assert.Equal(5, vnic.Counters.Delivered); // the fifth reached the guest before the tap saw it (it was counted dropped as well)
        Assert.Equal(5, vnic.Counters.Dropped(DropReason.HandlerFault)); // the rest of its batch
        Assert.Equal(free, pool.Available);
        vnic.Tap = null;
        host.Nic("e0").Device.Receive(frame);
        host.Pump();
        Assert.Equal(6, vnic.Counters.Delivered); // the host goes on
        Assert.Equal(6, host.VirtualMachine("v").Counters.Received); // what was delivered, and nothing counted dropped
        host.Report().AssertAddsUp();
    }

    [Fact]
    public void A_flow_whose_queue_is_full_while_it_waits_for_room_drops_as_flow_queue_full()
    {
        var (host, nic) = SlowGuestWithFlow(frames: 1000);
        var flow = host.Vnic("v").Flows.Single();
        Assert.True(host.RunUntil(() => nic.OnWire == 0 && flow.Queued == 0 && host.Nic("e0").ReceiveRings[0].Count == 0, TimeSpan.FromSeconds(1)));

        Assert.True(flow.Counters.Dropped(DropReason.FlowQueueFull) > 0, "the queue overflowed");
        Assert.Equal(0, flow.Counters.Dropped(DropReason.GuestRingFull));
        Assert.Equal(flow.Counters.Dropped(DropReason.FlowQueueFull), host.Vnic("v").Counters.Dropped(DropReason.FlowQueueFull));
        Assert.Equal(FlowSettings.DefaultQueueLength, flow.Queue!.HighWater);
        host.Report().AssertAddsUp();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Under_a_full_guest_ring_flows_wait_in_their_own_queues_and_the_high_priority_one_goes_first(bool ranked)
    {
        // The NIC's processor hands the VM batches of 32 faster than the guest drains its ring of
        // 256. 8 blocked frames, then 240 of no flow, then 32 alternating between a high and a
        // low flow: the last batch finds room for 8. The flows' frames that do not fit wait in
        // their own queues (nothing is lost) and come out as the guest makes room: ranked, the
        // high flow's first; in arrival order, half and half.
        var (host, _) = TestHost.Build($$"""
            host p {
                nic e0 { model simnic-10g; rx-rings 2; ring-size 1024 }
                vm g on e0 { mac 02:00:00:00:00:01; ip 10.0.0.1 }
                flow dns on g { transport udp; local-port 53; priority {{(ranked ? "high" : "medium")}} }
                flow bulk on g { transport udp; local-port 9; priority {{(ranked ? "low" : "medium")}} }
                flow off on g { transport udp; local-port 19; bandwidth 0 }
            }
            """);
        var device = host.Nic("e0").Device;
        var vnic = host.Vnic("g");
        var order = new List<int>();
        vnic.Tap = (_, frame) => order.Add(frame[36] << 8 | frame[37]);   // the UDP destination port
        byte[] To(int port) => TestFrames.Udp("02:00:00:00:00:01", "10.0.0.1", (ushort)port, new byte[16]);
        for (var i = 0; i < 8; i++) device.Receive(To(19));
        for (var i = 0; i < 240; i++) device.Receive(To(7));
        for (var i = 0; i < 32; i++) device.Receive(To(i % 2 == 0 ? 9 : 53));
        host.Pump();

        var dns = vnic.Flows.Single(f => f.Name == "dns").Counters;
        var bulk = vnic.Flows.Single(f => f.Name == "bulk").Counters;
        Assert.Equal(0, vnic.Counters.Dropped(DropReason.GuestRingFull));
        Assert.Equal(16, dns.Delivered);
        Assert.Equal(16, bulk.Delivered);
        var flows = order.Where(port => port is 53 or 9).ToList();
        Assert.Equal(32, flows.Count);
        // The last twelve are the ones that waited longest: ranked, all the low flow's; else both.
        var lastTwelve = flows.Skip(20).ToList();
        if (ranked) Assert.All(lastTwelve, port => Assert.Equal(9, port));
        else Assert.InRange(lastTwelve.Count(port => port == 53), 4, 8);
        host.Report().AssertAddsUp();
    }
}
