using System.Text;
using NicBypass.Runtime.Stacks;
using NicBypass.Runtime.Virtualization;

namespace NicBypass.Runtime.Tests;

/// <summary>The deterministic mode's scheduler (RunQueue): an event costs what it touches, not the size of the host.</summary>
public class RunQueueTests
{
    private static NetworkHost LargeHost(int vms, string protocols = "udp", string ports = "7")
    {
        var text = new StringBuilder("host big {\n    cpus 32\n    nic e0 { model simnic-100g; rx-rings 8 }\n");
        for (var i = 0; i < vms; i++)
        {
            text.Append($"    {(i % 2 == 0 ? "vm" : "container")} t{i} on e0 {{ mac 02:00:00:00:{i >> 8:x2}:{i & 0xff:x2}; ip 10.0.{i >> 8}.{(i & 0xff) + 1}; cpu {i % 32}");
            text.Append(i % 2 == 0 ? " }\n" : $"; protocols {protocols}; ports {ports} }}\n");
        }
        text.Append("}\n");
        var (host, _) = TestHost.Build(text.ToString(), new VirtualClock());
        host.Costs = CostTable.Default;
        return host;
    }

    [Fact]
    public void Offered_to_one_vnic_of_a_200_vnic_host_only_the_processors_that_serve_it_run()
    {
        var host = LargeHost(200);
        var target = host.Vnic("t101"); // a container: its VNS runs on cpu 5
        var before = host.Processors.Concat(host.VirtualProcessors).ToDictionary(p => p, p => p.Runs);

        var offered = host.Offer("t101", 100_000_000, TimeSpan.FromMilliseconds(10));

        Assert.Equal(offered, target.Counters.Delivered);
        Assert.Equal(offered, host.NetworkStack("t101").Counters.Received);
        var serving = new HashSet<Processor> { target.Processor };
        foreach (var ring in host.Nic("e0").AllReceiveRings())
        {
            if (ring.Client is not null && ring.InterruptTarget is MsiVector vector) serving.Add(vector.Processor);
            if (ring.Client is not null && ring.InterruptTarget is Processor processor) serving.Add(processor);
        }
        // Everyone looks once when the offer starts (the caller may have changed anything); the
        // rest of the 1,250 frames run only what serves them.
        foreach (var processor in host.Processors.Concat(host.VirtualProcessors).Where(p => !serving.Contains(p)))
        {
            Assert.True(processor.Runs - before[processor] <= 2, $"{processor} ran {processor.Runs - before[processor]} times");
        }
        Assert.True(target.Processor.Runs - before[target.Processor] >= offered, $"the container's processor ran {target.Processor.Runs - before[target.Processor]} times for {offered} frames");
    }

    [Fact]
    public void A_processor_that_frees_up_with_nothing_waiting_is_not_run_then()
    {
        // 125 frames 80 µs apart, each taken in a microsecond or two: a frame is an interrupt on
        // each processor on its way (the NIC's ring, the software ring behind it, the VNIC's),
        // and each runs once for it. The VNIC's used to run a second time as it freed up, to find
        // nothing: its VSQ's worker was woken after every batch, though the batch went inline.
        var host = LargeHost(200);
        var target = host.Vnic("t101");
        var serving = host.Nic("e0").AllReceiveRings()
            .Where(r => r.Client is not null)
            .Select(r => r.InterruptTarget switch { MsiVector v => v.Processor, Processor p => p, _ => null })
            .OfType<Processor>().Append(target.Processor).Distinct().ToList();
        var before = serving.ToDictionary(p => p, p => p.Runs);

        var offered = host.Offer("t101", 100_000_000, TimeSpan.FromMilliseconds(10));

        Assert.Equal(offered, host.NetworkStack("t101").Counters.Received);
        foreach (var processor in serving)
        {
            // Every processor looks when the offer starts and as it ends; between, one run an interrupt.
            var runs = processor.Runs - before[processor];
            var interrupts = processor.HardwareInterrupts + processor.SoftwareInterrupts;
            Assert.True(runs <= interrupts + 2, $"{processor} ran {runs} times for {interrupts} interrupts ({offered} frames)");
        }
        Assert.Equal(3 * offered, serving.Sum(p => p.HardwareInterrupts + p.SoftwareInterrupts));
    }

    [Fact]
    public void An_interrupt_for_a_busy_processor_waits_for_it_to_free_up_without_a_run()
    {
        // 100-byte frames every ~450 ns into one VM's ring, whose processor takes a microsecond
        // an interrupt: most frames land while it is busy. It takes each interrupt (or polls the
        // ring it switched to polling) as it frees up; a frame that woke it at once only found it
        // busy and put it back to sleep, a run that did nothing.
        var (host, _) = TestHost.Build("""
            host h {
                cpus 2
                nic e0 { model simnic-10g; rx-rings 1 }
                vm a on e0 { mac 02:00:00:00:00:01; ip 10.0.0.1; cpu 1 }
            }
            """, new VirtualClock());
        host.Costs = CostTable.Default;
        var cpu = host.Processors[host.Nic("e0").AllReceiveRings().Single(r => r.Client is not null).InterruptTarget switch
        {
            MsiVector v => v.Processor.Id,
            Processor p => p.Id,
            _ => throw new InvalidOperationException("no interrupt target"),
        }];
        var before = (cpu.Runs, cpu.HardwareInterrupts, cpu.Polls);

        var offered = host.Offer("a", 2_000_000_000, TimeSpan.FromMicroseconds(100), frameSize: 100);

        Assert.InRange(host.Vnic("a").Counters.Delivered, offered - 1, offered); // the last may still wait for the processor
        var runs = cpu.Runs - before.Runs;
        var steps = cpu.HardwareInterrupts - before.HardwareInterrupts + cpu.Polls - before.Polls;
        Assert.True(runs <= steps + 2, $"{cpu} ran {runs} times for {steps} interrupts and polls ({offered} frames)");
    }

    [Fact]
    public void RunUntil_runs_between_events_only_the_processors_a_tcp_transfer_uses()
    {
        // A VM sends 200 KB to a container over a hairpin on a 32-processor host: every step of
        // RunUntil used to wake all 32 (and the VMs' vCPUs) twice, around the caller's predicate.
        var host = LargeHost(20, "tcp udp", "7 1007");
        host.AddCable(Devices.SimulatedCable.Hairpin(host.Nic("e0").Device));
        var listener = host.NetworkStack("t1").Stack.ListenTcp(7 + 1000);
        var client = host.VirtualMachine("t0").Stack.ConnectTcp(NetworkEndpoint.Parse("10.0.0.2", 7 + 1000));
        TcpConnection? server = null;
        Assert.True(host.RunUntil(() => listener.TryAccept(out server), TimeSpan.FromSeconds(1)));
        var before = host.Processors.Concat(host.VirtualProcessors).ToDictionary(p => p, p => p.Runs);
        Transfer(host, client, server!, 200 * 1024);

        // t0 is a VM on cpu 0 (its vCPU sends), t1 a container on cpu 1; the NIC's rings interrupt
        // theirs. Everyone else looks once, when RunUntil starts.
        var serving = new HashSet<Processor> { host.Vnic("t0").Processor, host.Vnic("t1").Processor, host.VirtualMachine("t0").Vcpu };
        foreach (var ring in host.Nic("e0").AllReceiveRings())
        {
            if (ring.Client is not null && ring.InterruptTarget is MsiVector vector) serving.Add(vector.Processor);
        }
        foreach (var processor in host.Processors.Concat(host.VirtualProcessors).Where(p => !serving.Contains(p)))
        {
            Assert.True(processor.Runs - before[processor] <= 2, $"{processor} ran {processor.Runs - before[processor]} times");
        }
    }

    [Fact]
    public void RunUntil_runs_no_pump_when_the_predicate_queued_nothing()
    {
        // Between two events the caller's predicate runs; when it finds nothing to send or read
        // it queues nothing, and a pump then would find nothing to do: RunUntil moves on to the
        // next event. 2 MB over a 10G hairpin under the cost model: about 1,450 data segments and
        // an ACK for every second, 3.7 pumps a segment (each an event: a frame landing, a busy
        // processor freeing up); a pump after every predicate as well made it 7.4.
        var (host, client, server) = ConnectedOverAHairpin();
        var pumps = host.Pumps;

        Transfer(host, client, server, 2 * 1024 * 1024);

        var segments = 2 * 1024 * 1024 / 1448.0;
        var perSegment = (host.Pumps - pumps) / segments;
        Assert.True(perSegment < 5, $"{host.Pumps - pumps} pumps for {segments:0} data segments: {perSegment:0.00} a segment");
    }

    [Fact]
    public void A_pump_whose_round_leaves_nothing_for_this_instant_runs_no_round_to_find_that_out()
    {
        // Over a 10G hairpin every frame lands at a time of its own: most pumps run one round that
        // moves it (a frame off the cable, the stack's answer on its way back). A second round to
        // learn that nothing else is due at that instant doubled the scheduler's work an event.
        var (host, client, server) = ConnectedOverAHairpin();
        var (pumps, rounds) = (host.Pumps, host.RoundsRun);

        Transfer(host, client, server, 2 * 1024 * 1024);

        var perPump = (double)(host.RoundsRun - rounds) / (host.Pumps - pumps);
        Assert.True(perPump < 1.5, $"{host.RoundsRun - rounds} rounds in {host.Pumps - pumps} pumps: {perPump:0.00} a pump");
    }

    // A VM connected to a container's port 80 over a 10G hairpin, on a host of four tenants under the cost model.
    private static (NetworkHost Host, TcpConnection Client, TcpConnection Server) ConnectedOverAHairpin()
    {
        var host = LargeHost(4, "tcp", "80");
        host.AddCable(Devices.SimulatedCable.Hairpin(host.Nic("e0").Device).WithRate(10_000_000_000, (VirtualClock)host.Time));
        var listener = host.NetworkStack("t1").Stack.ListenTcp(80);
        var client = host.VirtualMachine("t0").Stack.ConnectTcp(NetworkEndpoint.Parse("10.0.0.2", 80));
        TcpConnection? server = null;
        Assert.True(host.RunUntil(() => listener.TryAccept(out server), TimeSpan.FromSeconds(1)));
        return (host, client, server!);
    }

    // Sends `bytes` from `client` and reads them at `server`, the application polling between
    // the host's events as any caller of RunUntil does.
    private static void Transfer(NetworkHost host, TcpConnection client, TcpConnection server, int bytes)
    {
        var data = new byte[bytes];
        var buffer = new byte[64 * 1024];
        var (sent, got) = (0, 0L);
        Assert.True(host.RunUntil(() =>
        {
            if (sent < data.Length) sent += client.Send(data.AsSpan(sent));
            int n;
            while ((n = server.Read(buffer)) > 0) got += n;
            return got == data.Length;
        }, TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public void A_wake_from_another_thread_while_the_processor_runs_is_not_lost()
    {
        // An application's continuation (another thread) gives a processor work while it is
        // running and has already looked: the wake finds its bit still set. It must look again
        // rather than go to sleep with the work undone.
        var processor = new Processor(0);
        var poller = new WakeFromAnotherThread(processor);
        processor.AddPoller(poller);
        var queue = new RunQueue(new[] { processor }, new VirtualClock());

        queue.RunRound(); // the poller finds nothing, and meanwhile another thread wakes the processor

        Assert.True(poller.WokenWhileRunning);
        Assert.True(queue.IsAwake(0), "the wake from the other thread was lost");
        queue.RunRound();
        Assert.False(queue.IsAwake(0)); // it looked, found nothing more, and sleeps
    }

    private sealed class WakeFromAnotherThread(Processor processor) : IPollingConsumer
    {
        public bool WokenWhileRunning { get; private set; }

        public bool Poll()
        {
            if (WokenWhileRunning) return false;
            var thread = new Thread(processor.Awaken);
            thread.Start();
            thread.Join();
            WokenWhileRunning = true;
            return false;
        }
    }

    [Fact]
    public void A_busy_processor_polling_a_flooded_ring_is_not_woken_by_every_frame_that_lands()
    {
        // One processor, offered far more than it can take: the container's VSQ fills, its ring
        // switches to polling and the processor is busy with one batch after another. A frame landing in the ring it polls
        // waits for it to free up; waking it for each frame would only put it back to sleep.
        var (host, _) = TestHost.Build("""
            host lone {
                cpus 1
                nic e0 { model simnic-100g; rx-rings 1; ring-size 1024 }
                container a on e0 { mac 02:00:00:00:00:01; ip 10.0.0.1; protocols udp; ports 7; cpu 0 }
            }
            """, new VirtualClock());
        host.Costs = CostTable.Default;
        var cpu = host.Processors[0];
        var before = cpu.Runs;

        var offered = host.Offer("a", 10_240_000_000, TimeSpan.FromMilliseconds(1), frameSize: 64); // 20 Mpps

        var vnic = host.Vnic("a");
        Assert.Equal(offered, vnic.Counters.Received);
        Assert.True(vnic.Counters.Delivered > 0 && vnic.Counters.Delivered < offered, $"delivered {vnic.Counters.Delivered} of {offered}: not saturated");
        Assert.True(host.Nic("e0").AllReceiveRings().Sum(r => r.PollingSwitches) > 0, "the ring never switched to polling");
        var runs = cpu.Runs - before;
        Assert.True(runs < offered / 4, $"the processor ran {runs} times for {offered} frames"); // 747 here; 13,436 when every frame woke it
    }

    [Fact]
    public void A_sleeping_processor_wakes_at_its_deadline_a_stack_retries_on_time()
    {
        // Nobody answers: the only thing that moves the host after the first request is the
        // stack's retry timer, on a processor asleep until then.
        var (host, _) = TestHost.Build("""
            host h {
                cpus 2
                nic e0 { model simnic-10g; rx-rings 2 }
                container a on e0 { mac 02:00:00:00:00:01; ip 10.0.0.1; protocols tcp; cpu 1 }
            }
            """, new VirtualClock());
        host.Costs = CostTable.Default;
        _ = host.NetworkStack("a").Stack.ConnectTcp(NetworkEndpoint.Parse("10.0.0.9", 80)); // ARP first, then the SYN, each retried on a timer
        host.Pump();
        var sent = host.Nic("e0").Device.Transmitted;
        host.RunTo(((VirtualClock)host.Time).Nanoseconds + 3_000_000_000L); // past the first retry
        Assert.True(host.Nic("e0").Device.Transmitted > sent, "nothing was retried");
    }

    // Twenty containers on one processor, each a poller of it, and a spy poller beside them.
    private static (NetworkHost Host, SpyPoller Spy, int SpyIndex) CrowdedProcessor()
    {
        var text = new StringBuilder("host h {\n    cpus 2\n    nic e0 { model simnic-10g; rx-rings 2 }\n");
        for (var i = 0; i < 20; i++) text.Append($"    container c{i} on e0 {{ mac 02:00:00:00:01:{i:x2}; ip 10.0.1.{i + 1}; protocols udp; ports 7; cpu 1 }}\n");
        var (host, _) = TestHost.Build(text.Append("}\n").ToString(), new VirtualClock());
        host.Costs = CostTable.Default;
        var spy = new SpyPoller((VirtualClock)host.Time);
        var index = host.Processors[1].AddPoller(spy);
        host.Pump();
        return (host, spy, index);
    }

    [Fact]
    public void Within_a_crowded_processor_only_the_tenant_with_work_is_polled()
    {
        var (host, spy, _) = CrowdedProcessor();
        var polls = spy.Polls;

        var offered = host.Offer("c7", 200_000_000, TimeSpan.FromMilliseconds(10)); // 250 frames, each a batch for c7's VSQ

        Assert.Equal(offered, host.NetworkStack("c7").Counters.Received);
        Assert.True(host.Processors[1].Runs > offered, $"the processor ran {host.Processors[1].Runs} times");
        // Once as the offer starts (the caller may have changed anything), then never: nothing
        // named it and its time never came. Before, it was polled at each of the processor's steps.
        Assert.InRange(spy.Polls - polls, 1, 2);
    }

    [Fact]
    public void A_pollers_time_set_with_a_wake_that_names_it_is_kept()
    {
        var (host, spy, index) = CrowdedProcessor();
        var clock = (VirtualClock)host.Time;
        // A frame delivered to c3 (run on the same processor) sets the spy's time 1 ms ahead and wakes it by name.
        host.Vnic("c3").Tap = (_, _) =>
        {
            if (spy.Due != long.MaxValue) return;
            spy.Due = clock.Nanoseconds + 1_000_000;
            host.Processors[1].AwakenPoller(index);
        };

        host.Offer("c3", 1_000_000, TimeSpan.FromMilliseconds(5)); // one frame at once, nothing else moves the processor
        Assert.Equal(1, spy.Fired);
    }

    [Fact]
    public void A_poller_that_wakes_itself_each_run_and_moves_nothing_lets_the_pump_end()
    {
        // (Review) A stack whose refused send re-arms its retry at every timer pass marks its own
        // poller from inside its run: that mark alone must not keep the processor awake.
        var (host, _, _) = CrowdedProcessor();
        var processor = host.Processors[1];
        var selfWaking = new SelfWakingPoller();
        selfWaking.Wake = processor.AwakenPoller;
        selfWaking.Index = processor.AddPoller(selfWaking);

        host.Pump(); // before: the same instant, round after round, without end (stopped at 10,000 runs)

        Assert.InRange(selfWaking.Polls, 1, 3);
    }

    [Fact]
    public void A_pollers_time_that_passes_while_its_processor_is_awake_for_another_is_kept()
    {
        // (Review) The run queue counts a deadline only for a processor asleep until it; one woken
        // by name for another poller just before must still run the poller whose time it was.
        var (host, spy, _) = CrowdedProcessor();
        var other = new SpyPoller((VirtualClock)host.Time);
        var processor = host.Processors[1];
        var otherIndex = processor.AddPoller(other);
        var clock = (VirtualClock)host.Time;
        var due = clock.Nanoseconds + 1_000_000;
        spy.Due = due;
        host.Pump(); // every poller looks: the spy's time is known, the processor sleeps until it

        processor.AwakenPoller(otherIndex); // woken by name for the other, before the spy's time...
        clock.AdvanceTo(due + 10);          // ...and time moves on before it runs
        host.RunAwakeTo(due + 20);

        Assert.Equal(1, spy.Fired);
    }

    [Fact]
    public void A_pollers_time_that_comes_as_an_interrupt_wakes_its_processor_is_kept()
    {
        // (Review) Costs on but charging nothing for the interrupt: a frame for a VM lands at the
        // very instant a poller on the same processor is due. The interrupt wakes the processor
        // before its deadline is looked at, the step services the ring to the end (the VM's vCPU
        // takes it from there) and leaves nothing marked: the poller's time must still be kept.
        var (host, _) = TestHost.Build("""
            host h {
                cpus 2
                nic e0 { model simnic-10g; rx-rings 2 }
                vm v on e0 { mac 02:00:00:00:00:01; ip 10.0.0.1; cpu 1 }
            }
            """, new VirtualClock());
        host.Costs = new CostTable(0, 0, 0, 0, 0, 0, TransmitNanoseconds: 5_000);
        var clock = (VirtualClock)host.Time;
        var spy = new SpyPoller(clock);
        var processor = host.Vnic("v").Ring!.InterruptTarget is MsiVector vector ? vector.Processor : host.Processors[1];
        processor.AddPoller(spy);
        var due = clock.Nanoseconds + 1_000_000;
        spy.Due = due;
        host.Pump(); // the spy's time is known; the processor sleeps until it

        clock.AdvanceTo(due);
        host.Nic("e0").Device.Receive(TestFrames.Udp("02:00:00:00:00:01", "10.0.0.1", 9, new byte[8]));
        host.RunAwakeTo(due + 10);

        Assert.Equal(1, host.VirtualMachine("v").VirtualInterrupts);
        Assert.Equal(1, spy.Fired);
    }

    [Fact]
    public void A_poller_that_throws_leaves_the_others_marked_in_its_step_to_run_at_the_next()
    {
        // (Review) The marks a step takes are cleared as it starts: user code throwing in the
        // first poller must not take the later ones' turns with it.
        var (host, _, _) = CrowdedProcessor();
        var processor = host.Processors[1];
        var thrower = new ThrowingPoller();
        var throwerIndex = processor.AddPoller(thrower);
        var other = new SpyPoller((VirtualClock)host.Time);
        var otherIndex = processor.AddPoller(other);
        host.Pump();
        var polls = other.Polls;

        thrower.Armed = true;
        processor.AwakenPoller(throwerIndex);
        processor.AwakenPoller(otherIndex);
        var now = ((VirtualClock)host.Time).Nanoseconds;
        Assert.Throws<InvalidOperationException>(() => host.RunAwakeTo(now)); // the thrower runs first (added first)
        Assert.Equal(polls, other.Polls);
        host.RunAwakeTo(now); // the simulation's own driver goes on: no public entry point marks everyone

        Assert.Equal(polls + 1, other.Polls);
    }

    [Fact]
    public void Under_the_cost_model_the_public_next_due_sees_a_timer_armed_after_the_last_pump()
    {
        var harness = new StackHarness();
        harness.Host.Costs = CostTable.Default;
        harness.Host.Pump();
        var before = harness.Host.NextDue();
        _ = harness.Web.Stack.ConnectTcp(NetworkEndpoint.Parse("10.0.0.99", 80)); // unresolved: an ARP solicitation and its retry timer
        Assert.True(harness.Host.NextDue() < before, $"next due {harness.Host.NextDue()} (before {before})");
    }

#if DEBUG
    [Fact]
    public void Debug_builds_fail_loudly_when_a_pollers_time_moves_without_a_wake()
    {
        // As above, without the wake: the processor sleeps with the spy's old time (none), and the
        // scheduler's check, asking each poller afresh, says a wake-up was lost.
        var (host, spy, _) = CrowdedProcessor();
        var clock = (VirtualClock)host.Time;
        host.Vnic("c3").Tap = (_, _) =>
        {
            if (spy.Due == long.MaxValue && spy.Fired == 0) spy.Due = clock.Nanoseconds + 1_000_000;
        };
        var lost = Assert.Throws<InvalidOperationException>(() => host.Offer("c3", 1_000_000, TimeSpan.FromMilliseconds(5)));
        Assert.Contains("wake-up was lost", lost.Message);
    }

    [Fact]
    public void Debug_builds_fail_loudly_when_a_wake_up_is_lost()
    {
        // A container with an allocation polls its ring (interrupts off): a frame arriving there
        // must wake its processor. Unplug that wake-up and the scheduler's check says so.
        var (host, _) = TestHost.Build("""
            host h {
                cpus 2
                nic e0 { model simnic-10g; rx-rings 2 }
                container a on e0 { mac 02:00:00:00:00:01; ip 10.0.0.1; protocols udp; ports 7; bandwidth 10M; cpu 1 }
            }
            """, new VirtualClock());
        host.Pump();
        host.Vnic("a").Ring!.PollWake = null;
        var lost = Assert.Throws<InvalidOperationException>(() => host.Offer("a", 1_000_000, TimeSpan.FromMilliseconds(10)));
        Assert.Contains("wake-up was lost", lost.Message);
    }
#endif
}

/// <summary>A poller that does work only when its time comes, and counts its polls.</summary>
internal sealed class SpyPoller(VirtualClock clock) : IPollingConsumer
{
    public long Polls;
    public long Fired;
    public long Due = long.MaxValue;

    public bool Poll()
    {
        if (!RunQueue.IsChecking) Polls++; // Debug builds' check of sleepers polls everyone after each pump
        if (clock.Nanoseconds < Due) return false;
        Fired++;
        Due = long.MaxValue;
        return true;
    }

    public long NextDue() => Due;
}

/// <summary>A poller that, like a stack re-arming a refused send's retry, wakes itself at each run and moves nothing.</summary>
internal sealed class SelfWakingPoller : IPollingConsumer
{
    public long Polls;
    public int Index;
    public Action<int> Wake = _ => { };

    public bool Poll()
    {
        if (!RunQueue.IsChecking && ++Polls > 10_000) throw new InvalidOperationException("polled 10,000 times at one instant");
        Wake(Index);
        return false;
    }
}

/// <summary>A poller whose user code throws on its first run once armed.</summary>
internal sealed class ThrowingPoller : IPollingConsumer
{
    public bool Armed;

    public bool Poll()
    {
        if (!Armed || RunQueue.IsChecking) return false;
        Armed = false;
        throw new InvalidOperationException("user code threw");
    }
}

/// <summary>Wake-ups the datapath owes when one stack acts on another's behalf (found by review).</summary>
public class CrossStackWakeTests
{
    [Fact]
    public void A_segment_sent_from_another_stacks_handler_and_lost_is_retransmitted()
    {
        // db's UDP handler (run on db's processor) sends on web's TCP connection: web's
        // retransmission timer is armed from a processor that is not web's, while web's
        // processor sleeps with nothing due. The armed timer must wake it.
        var harness = new StackHarness(topology: StackHarness.Topology
            .Replace("ports 80 53 }", "ports 80 53; cpu 0 }")
            .Replace("ports 5432 5353 }", "ports 5432 5353; cpu 1 }")
            .Replace("ip fd00::2 }", "ip fd00::2; cpu 1 }"));
        Assert.NotSame(harness.Web.Vnic.Processor, harness.Db.Vnic.Processor);
        var (client, server) = harness.Connect();
        var trigger = harness.Db.Stack.BindUdp(5353);
        trigger.Handler = (_, _) => client.Send(new byte[100]);
        var first = harness.Cable.Frames;
        harness.Cable.Lose = frame => frame == first + 1; // the datagram goes through, the segment it sets off is lost

        Assert.Equal(SendStatus.Sent, harness.Web.Stack.BindUdp(53).TrySendTo(NetworkEndpoint.Parse("10.0.0.3", 5353), new byte[8]));
        harness.Host.RunTo(harness.Clock.Nanoseconds + 3_000_000_000L);

        Assert.Equal(1, harness.Cable.Lost);
        Assert.True(client.Retransmissions >= 1, "the lost segment was never sent again");
        var buffer = new byte[256];
        Assert.Equal(100, server.Read(buffer));
    }

    [Fact]
    public void The_public_next_due_sees_a_timer_the_application_armed_after_the_last_pump()
    {
        var harness = new StackHarness();
        harness.Host.Pump();
        var before = harness.Host.NextDue();
        _ = harness.Web.Stack.ConnectTcp(NetworkEndpoint.Parse("10.0.0.99", 80)); // unresolved: an ARP solicitation and its retry timer
        Assert.True(harness.Host.NextDue() < before, $"next due {harness.Host.NextDue()} (before {before})");
    }
}
