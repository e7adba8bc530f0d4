using NicBypass.Runtime.Accounting;

namespace NicBypass.Runtime.Tests;

/// <summary>The threaded mode: each processor on a thread of its own, the NIC fed from the test thread.</summary>
public class ThreadedModeTests
{
    // `vms` VMs (a on cpu 0, the rest on cpu 1) on one simnic-10g with a capturing wire, and a ping to each.
    private static (Virtualization.NetworkHost Host, CapturingWire Wire, Devices.SimulatedNic Device, byte[][] Pings) PingedVms(int vms)
    {
        var topology = new System.Text.StringBuilder("host t {\n    cpus 2\n    nic e0 { model simnic-10g; rx-rings 2; ring-size 4096 }\n");
        for (var i = 1; i <= vms; i++) topology.Append($"    vm {(char)('a' + i - 1)} on e0 {{ mac 02:00:00:00:00:0{i}; ip 10.0.0.{i}; cpu {(i == 1 ? 0 : 1)} }}\n");
        var (host, wires) = TestHost.Build(topology.Append("}\n").ToString());
        var pings = Enumerable.Range(1, vms).Select(i => TestFrames.Ping($"02:00:00:00:00:0{i}", $"10.0.0.{i}")).ToArray();
        return (host, wires["e0"], host.Nic("e0").Device, pings);
    }

    [Fact]
    public async Task Stopping_the_threads_beside_a_dispose_or_another_stop_is_safe()
    {
        // StopThreads took no lock: beside a Dispose it raced on the threads' list and their
        // cancellation source (NullReferenceException, and a Dispose left half done: found by a
        // stress drive).
        for (var round = 0; round < 20; round++)
        {
            var (host, _, _, _) = PingedVms(2);
            host.StartThreads();
            using var go = new ManualResetEventSlim();
            var stops = Enumerable.Range(0, 3).Select(_ => Task.Run(() =>
            {
                go.Wait();
                host.StopThreads(TimeSpan.Zero);
            })).ToList();
            var dispose = Task.Run(() =>
            {
                go.Wait();
                host.Dispose();
            });
            go.Set();
            await Task.WhenAll(stops.Append(dispose)).WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Throws<ObjectDisposedException>(() => host.StartThreads()); // disposed whole
        }
    }

    [Fact]
    public void Frames_cross_real_threads_and_the_counters_still_add_up()
    {
        var (host, wire, device, frames) = PingedVms(3);

        host.StartThreads();
        for (var i = 0; i < 3000; i++)
        {
            device.Receive(frames[i % 3]);
            if (i % 64 == 0) Thread.Yield();
        }
        host.StopThreads();

        foreach (var vnic in host.Vnics)
        {
            Assert.Equal(1000, vnic.Counters.Received);
            Assert.Equal(vnic.Counters.Received, vnic.Counters.Delivered + vnic.Counters.DroppedTotal);
        }
        var delivered = host.Vnics.Sum(v => v.Counters.Delivered);
        Assert.Equal(delivered, host.VirtualMachines.Sum(vm => vm.Counters.EchoRepliesSent + vm.Counters.SendFailures));
        Assert.Equal(host.VirtualMachines.Sum(vm => vm.Counters.EchoRepliesSent), wire.Frames.Count);
        Assert.Equal(0, device.Counters.Dropped(DropReason.NoMatch));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Stopping_the_threads_at_once_finishes_what_they_left_in_flight_on_the_callers_thread(bool costs)
    {
        // A zero timeout stops the threads without waiting for the rings to empty: frames still on
        // the hardware rings, taken off one and not yet in a guest's, or in a guest ring its vCPU
        // had not read, are finished on the caller's thread, so every request is answered and every
        // answer is on the wire when StopThreads returns. With a cost table the processors are busy
        // on the system clock after each step: the finishing pump waits for them.
        var (host, wire, device, frames) = PingedVms(2);
        if (costs) host.Costs = Virtualization.CostTable.Default;

        host.StartThreads();
        for (var i = 0; i < 2000; i++) device.Receive(frames[i % 2]);
        host.StopThreads(TimeSpan.Zero);

        // Everything counted, for the message should it fail (it failed once in about twenty
        // Debug runs of the whole project on a machine loaded with spinning processes, message
        // not kept, and not again in 750 stressed runs of its own or 18 more of the project).
        var state = $"costs {costs}; " + string.Join("; ", host.Vnics.Select(v => $"{v.Name}: received {v.Counters.Received}, delivered {v.Counters.Delivered}, dropped {v.Counters.DroppedTotal}"))
                    + "; " + string.Join("; ", host.VirtualMachines.Select(vm => $"{vm.Name}: guest ring {vm.GuestRingCount}, replies {vm.Counters.EchoRepliesSent}, send failures {vm.Counters.SendFailures}"))
                    + $"; NIC drops {device.Counters.DroppedTotal}; on the wire {wire.Frames.Count}";
        foreach (var vnic in host.Vnics)
        {
            Assert.True(vnic.Counters.Received == 1000, state);
            Assert.True(vnic.Counters.Received == vnic.Counters.Delivered + vnic.Counters.DroppedTotal, state);
        }
        Assert.True(host.VirtualMachines.All(vm => vm.GuestRingCount == 0), state);
        var delivered = host.Vnics.Sum(v => v.Counters.Delivered);
        Assert.True(delivered == host.VirtualMachines.Sum(vm => vm.Counters.EchoRepliesSent + vm.Counters.SendFailures), state);
        Assert.True(host.VirtualMachines.Sum(vm => vm.Counters.EchoRepliesSent) == wire.Frames.Count, state);
    }

    [Fact]
    public void What_user_code_throws_on_the_hosts_threads_comes_out_of_StopThreads_and_the_threads_run_on()
    {
        // A tap (or a socket handler) that throws on a processor's thread would end the process
        // as an unhandled exception. The frames are counted as handler-fault, the thread runs on,
        // and StopThreads throws what was thrown once the host is stopped.
        var (host, _, device, frames) = PingedVms(1);
        var vnic = host.Vnic("a");
        var seen = 0;
        vnic.Tap = (_, _) =>
        {
            if (Interlocked.Increment(ref seen) is 5 or 20) throw new InvalidOperationException("the user's tap failed");
        };

        host.StartThreads();
        for (var i = 0; i < 100; i++) device.Receive(frames[0]);
        var thrown = Assert.Throws<AggregateException>(() => host.StopThreads());

        Assert.Equal(2, thrown.InnerExceptions.Count); // the 5th call's and the 20th's
        Assert.All(thrown.InnerExceptions, e => Assert.Equal("the user's tap failed", e.Message));
        Assert.Equal(100, vnic.Counters.Received);
        Assert.InRange(vnic.Counters.Dropped(DropReason.HandlerFault), 0, 98); // the rest of each thrown batch (the frame a tap threw on was delivered already)
        Assert.Equal(vnic.Counters.Received, vnic.Counters.Delivered + vnic.Counters.DroppedTotal);
        // The second was thrown after the first: the thread ran on (a batch is at most 32 frames).
        Assert.Equal(2, host.ThreadFaults); // counted for the host's life; StopThreads threw them

        // The host goes on, and a run with nothing thrown stops quietly.
        vnic.Tap = null;
        var delivered = vnic.Counters.Delivered;
        host.StartThreads();
        device.Receive(frames[0]);
        host.StopThreads(); // nothing thrown since: nothing to throw
        Assert.Equal(delivered + 1, vnic.Counters.Delivered);
    }

    [Fact]
    public async Task Dispose_from_a_hosts_own_thread_is_refused_and_from_two_threads_at_once_stops_the_host_once()
    {
        var (host, _, device, frames) = PingedVms(1);
        var vnic = host.Vnic("a");
        Exception? onOwnThread = null;
        vnic.Tap = (_, _) =>
        {
            // A handler disposing the host it runs on would wait for its own thread to stop.
            try { host.Dispose(); }
            catch (Exception e) { onOwnThread ??= e; }
        };
        host.StartThreads();
        device.Receive(frames[0]);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (Volatile.Read(ref onOwnThread) is null && DateTime.UtcNow < deadline) Thread.Sleep(1);
        Assert.IsType<InvalidOperationException>(onOwnThread);
        vnic.Tap = null;

        // Two threads at once: one stops the host, the other waits for it and returns; neither throws.
        using var start = new Barrier(2);
        var disposers = Enumerable.Range(0, 2).Select(_ => Task.Run(() => { start.SignalAndWait(); host.Dispose(); })).ToArray();
        await Task.WhenAll(disposers).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Throws<ObjectDisposedException>(() => host.StartThreads());
        device.Receive(frames[0]);
        host.Pump(); // the deterministic mode: no thread runs the host
        Assert.Equal(vnic.Counters.Received, vnic.Counters.Delivered + vnic.Counters.DroppedTotal);
    }

    [Fact]
    public void What_user_code_throws_as_StopThreads_finishes_the_threads_work_comes_out_with_what_it_threw_on_them()
    {
        // A tap threw on a processor's thread; the frames the thread left are finished on the
        // caller's thread, where the tap throws again: both come out of StopThreads, neither lost.
        var (host, _, device, frames) = PingedVms(1);
        host.Costs = Virtualization.CostTable.Default; // a batch a step (free, a step takes all there is): the stop comes between two
        var vnic = host.Vnic("a");
        var caller = Environment.CurrentManagedThreadId;
        var first = 0;
        vnic.Tap = (_, _) =>
        {
            if (Environment.CurrentManagedThreadId == caller) throw new InvalidOperationException("thrown as StopThreads finished");
            if (Interlocked.Exchange(ref first, 1) == 0) throw new InvalidOperationException("thrown on a processor's thread");
            Thread.Sleep(10); // the thread is still at its second batch when the stop comes
        };
        for (var i = 0; i < 100; i++) device.Receive(frames[0]); // waiting in the ring: the first batch throws, the second is slow

        host.StartThreads();
        SpinWait.SpinUntil(() => host.ThreadFaults > 0, TimeSpan.FromSeconds(10));
        var thrown = Assert.Throws<AggregateException>(() => host.StopThreads(TimeSpan.Zero));

        Assert.Equal(new[] { "thrown on a processor's thread", "thrown as StopThreads finished" }, thrown.InnerExceptions.Select(e => e.Message));
        // What the finishing pump had not reached when the tap threw there waits in the ring, as
        // after any pump that throws.
        Assert.Equal(vnic.Counters.Received, vnic.Counters.Delivered + vnic.Counters.DroppedTotal + vnic.Ring!.Count);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_nic_with_interrupt_moderation_on_virtual_time_interrupts_at_once_while_the_threads_run(bool deferredOnly)
    {
        // Moderation's deadlines are on virtual time, raised by the deterministic pump: with the
        // threads running nothing moves that clock or raises them, so a moderated frame waited
        // until the threads stopped. A frame deferred before the start interrupts as they start.
        var clock = new VirtualClock();
        var (host, wires) = TestHost.Build("""
            host t {
                cpus 2
                nic e0 { model simnic-10g; rx-rings 2; interrupt-moderation 50us }
                vm a on e0 { mac 02:00:00:00:00:01; ip 10.0.0.1; cpu 1 }
            }
            """, clock);
        var device = host.Nic("e0").Device;
        var ping = TestFrames.Ping("02:00:00:00:00:01", "10.0.0.1");
        device.Receive(ping); // before the threads: waits for its deadline, 50 µs of virtual time away
        Assert.NotEqual(long.MaxValue, device.NextModeratedInterrupt);

        host.StartThreads();
        try
        {
            // Alone, the deferred frame must interrupt as the threads start; with a second frame
            // behind it, that frame's own interrupt must come at once (and takes the first along).
            var expected = deferredOnly ? 1 : 2;
            if (!deferredOnly) device.Receive(ping);
            SpinWait.SpinUntil(() => wires["e0"].Frames.Count >= expected, TimeSpan.FromSeconds(10));
            Assert.Equal(expected, wires["e0"].Frames.Count); // answered with the clock standing still
        }
        finally
        {
            host.StopThreads();
        }
    }

    [Fact]
    public void Stopping_finishes_what_was_left_within_a_bound_even_when_the_work_never_ends()
    {
        // The pump that finishes what the threads left runs until nothing moves. Two handlers
        // that answer each other's datagrams across a hairpin with no latency never stop moving,
        // and no clock has to pass for them: that pump is bounded by what is left of the timeout
        // (at least a second), and what is left stays for the next pump.
        const string topology = """
            host t {
                cpus 2
                nic e0 { model simnic-10g; rx-rings 2 }
                container a on e0 { mac 02:00:00:00:00:01; ip 10.0.0.1; protocols udp; ports 7 }
                container b on e0 { mac 02:00:00:00:00:02; ip 10.0.0.2; protocols udp; ports 7 }
            }
            """;
        var (host, _) = TestHost.Build(topology, TimeProvider.System);
        Devices.SimulatedCable.Hairpin(host.Nic("e0").Device);
        var a = host.NetworkStack("a").Stack;
        var b = host.NetworkStack("b").Stack;
        a.AddNeighbor(Stacks.NetworkAddress.Parse("10.0.0.2"), 0x02_00_00_00_00_02);
        b.AddNeighbor(Stacks.NetworkAddress.Parse("10.0.0.1"), 0x02_00_00_00_00_01);
        var toA = Stacks.NetworkEndpoint.Parse("10.0.0.1", 7);
        var toB = Stacks.NetworkEndpoint.Parse("10.0.0.2", 7);
        var socketA = a.BindUdp(7);
        var socketB = b.BindUdp(7);
        socketA.Handler = (_, payload) => socketA.TrySendTo(toB, payload);
        socketB.Handler = (_, payload) => socketB.TrySendTo(toA, payload);
        host.StartThreads();
        socketA.TrySendTo(toB, new byte[16]);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (socketA.Received < 10 && DateTime.UtcNow < deadline) Thread.Sleep(1);
        Assert.True(socketA.Received >= 10, "the datagram goes back and forth");

        Exception? failed = null;
        var stopper = new Thread(() =>
        {
            try
            {
                host.StopThreads(TimeSpan.Zero);
            }
            catch (Exception e)
            {
                failed = e;
            }
        }) { IsBackground = true };
        stopper.Start();

        Assert.True(stopper.Join(TimeSpan.FromSeconds(30)), "StopThreads did not return while the handlers kept answering");
        Assert.Null(failed);
        var received = socketA.Received;
        Thread.Sleep(20);
        Assert.Equal(received, socketA.Received); // stopped: nothing runs until the next pump
    }

    [Fact]
    public void In_threaded_mode_each_processors_thread_is_pinned_to_a_core_round_robin()
    {
        var (host, _) = TestHost.Build("""
            host t {
                cpus 3
                nic e0 { model simnic-10g; rx-rings 2 }
                vm a on e0 { mac 02:00:00:00:00:01; ip 10.0.0.1 }
            }
            """);
        host.StartThreads();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (host.Processors.Any(p => p.PinnedCpu is null) && DateTime.UtcNow < deadline) Thread.Sleep(5);
        host.StopThreads();

        if (!OperatingSystem.IsLinux()) return; // pinning is Linux's sched_setaffinity
        var cores = Runtime.Virtualization.ThreadPinning.AllowedCpus(); // the CPUs this process may run on
        foreach (var processor in host.Processors)
        {
            Assert.NotNull(processor.PinnedCpu);
            Assert.Contains(processor.PinnedCpu!.Value, cores);
        }
        // Three host processors on this machine's cores in turn: no two on one core while there are cores to spare.
        var distinct = host.Processors.Select(p => p.PinnedCpu).Distinct().Count();
        Assert.Equal(Math.Min(3, cores.Length), distinct);
    }

    [Fact]
    public void A_frame_a_processor_queues_while_it_runs_is_sent_from_its_own_thread_not_handed_to_the_first_processor()
    {
        const string topology = """
            host t {
                cpus 2
                nic e0 { model simnic-10g; rx-rings 2 }
                container web on e0 { mac 02:00:00:00:00:01; ip 10.0.0.1; cpu 1 }
            }
            """;
        var (host, _) = TestHost.Build(topology);
        var wire = new ThreadRecordingWire();
        host.Nic("e0").Device.Wire = wire;
        var processor = host.NetworkStack("web").Vnic.Processor;
        Assert.NotSame(host.Processors[0], processor);
        host.StartThreads();
        try
        {
            // The stack answers each ping on its VNIC's processor; the reply is drained right there.
            // (The first processor still drains every millisecond, so now and then, and while the
            // first replies are compiled, it gets there first.)
            for (var i = 0; i < 30; i++)
            {
                host.Nic("e0").Device.Receive(TestFrames.Ping("02:00:00:00:00:01", "10.0.0.1", sequence: (ushort)i));
                Assert.True(SpinWait.SpinUntil(() => wire.Threads.Count > i, TimeSpan.FromSeconds(10)), $"no reply to ping {i}");
            }
        }
        finally
        {
            host.StopThreads();
        }
        var last = wire.Threads.Skip(20).ToList();
        Assert.True(last.Count(t => t == $"t {processor}") >= 5, string.Join(", ", last));
    }

    // A container answering pings and taking datagrams on port 53, on processor 1 of two.
    private const string BurstTopology = """
        host t {
            cpus 2
            nic e0 { model simnic-10g; rx-rings 2 }
            container web on e0 { mac 02:00:00:00:00:01; ip 10.0.0.1; protocols udp; ports 53; cpu 1 }
        }
        """;

    [Fact]
    public void A_real_wires_burst_is_serviced_on_the_readers_own_thread_and_the_replies_leave_from_there()
    {
        var (host, _) = TestHost.Build(BurstTopology);
        var wire = new ThreadRecordingWire();
        host.Nic("e0").Device.Wire = wire;
        var processor = host.NetworkStack("web").Vnic.Processor;
        Runtime.Devices.IReceiveBurst bursts = host; // what a TAP's reader calls around the frames it reads
        host.StartThreads();
        try
        {
            // A thread of its own, named, plays the reader: a burst of one ping at a time.
            var reader = new Thread(() =>
            {
                for (var i = 0; i < 20; i++)
                {
                    bursts.Begin();
                    host.Nic("e0").Device.Receive(TestFrames.Ping("02:00:00:00:00:01", "10.0.0.1", sequence: (ushort)i));
                    bursts.End();
                    SpinWait.SpinUntil(() => wire.Threads.Count > i, TimeSpan.FromSeconds(10));
                }
            }) { Name = "reader" };
            reader.Start();
            Assert.True(reader.Join(TimeSpan.FromSeconds(60)), "the reader did not finish");
        }
        finally
        {
            host.StopThreads();
        }
        // The processor's own thread may hold its step now and then (its poll every millisecond):
        // that burst wakes it instead. Most replies leave from the reader.
        Assert.Equal(20, wire.Threads.Count);
        Assert.True(wire.Threads.Count(t => t == "reader") >= 10, string.Join(", ", wire.Threads));
        Assert.True(processor.InlineRuns >= 10, $"{processor.InlineRuns} bursts serviced inline");
    }

    [Fact]
    public void A_burst_whose_processor_is_running_on_its_own_thread_is_left_to_that_thread_and_the_reader_does_not_wait()
    {
        // A second container on the same processor, on a ring of its own: its ping raises an
        // interrupt while the processor's thread is busy with the first container's datagram.
        var (host, _) = TestHost.Build(BurstTopology.Replace(
            "cpu 1 }", "cpu 1 }\n    container web2 on e0 { mac 02:00:00:00:00:02; ip 10.0.0.2; cpu 1 }"));
        var wire = new ThreadRecordingWire();
        host.Nic("e0").Device.Wire = wire;
        var stack = host.NetworkStack("web");
        var processor = stack.Vnic.Processor;
        using var inHandler = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        string? handlerThread = null;
        stack.Stack.BindUdp(53).Handler = (_, _) =>
        {
            handlerThread = Thread.CurrentThread.Name;
            inHandler.Set();
            release.Wait(TimeSpan.FromSeconds(30)); // the processor's thread holds its step here
        };
        Runtime.Devices.IReceiveBurst bursts = host;
        host.StartThreads();
        try
        {
            // Not in a burst: the datagram wakes the processor's own thread, which blocks in the handler.
            host.Nic("e0").Device.Receive(TestFrames.Udp("02:00:00:00:00:01", "10.0.0.1", 53, new byte[8]));
            Assert.True(inHandler.Wait(TimeSpan.FromSeconds(10)), "the datagram never reached its handler");

            var ended = false;
            var reader = new Thread(() =>
            {
                bursts.Begin();
                host.Nic("e0").Device.Receive(TestFrames.Ping("02:00:00:00:00:02", "10.0.0.2"));
                bursts.End(); // its processor is busy on its own thread: woken, not waited for
                ended = true;
            }) { Name = "reader" };
            reader.Start();
            Assert.True(reader.Join(TimeSpan.FromSeconds(10)), "the reader waited for the busy processor");
            Assert.True(ended);
            Assert.Empty(wire.Threads); // nothing answered yet: the processor is still in the handler

            release.Set();
            Assert.True(SpinWait.SpinUntil(() => !wire.Threads.IsEmpty, TimeSpan.FromSeconds(10)), "the ping was never answered");
        }
        finally
        {
            release.Set();
            host.StopThreads();
        }
        Assert.Same(processor, host.NetworkStack("web2").Vnic.Processor);
        Assert.Equal($"t {processor}", handlerThread);
        Assert.Equal(0, processor.InlineRuns);
        // Answered by the processor's thread (or the first processor's drain), never the reader.
        Assert.NotEqual("reader", Assert.Single(wire.Threads));
    }

    [Fact]
    public void A_datagram_an_application_sends_on_its_own_thread_leaves_from_that_thread_when_its_call_ends()
    {
        var wire = new ThreadRecordingWire();
        var (host, _, socket, to) = UdpSender(UdpContainer + "; cpu 1 }", wire);
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        host.StartThreads();
        try
        {
            // As a socket call in Linux runs the driver's transmit itself: the application's
            // thread drains what its call queued once the call ends, instead of waking the first
            // processor to do it. (That processor still drains every millisecond, so now and
            // then it gets there first.)
            var application = new Thread(() =>
            {
                for (var i = 0; i < 30; i++)
                {
                    socket.TrySendTo(to, new byte[] { (byte)i });
                    if (!SpinWait.SpinUntil(() => wire.Threads.Count > i, TimeSpan.FromSeconds(10))) failures.Enqueue($"datagram {i} never left");
                }
            })
            { Name = "application" };
            application.Start();
            application.Join();
        }
        finally
        {
            host.StopThreads();
        }
        Assert.Empty(failures);
        Assert.Equal(30, wire.Threads.Count);
        Assert.True(wire.Threads.Count(t => t == "application") >= 20, string.Join(", ", wire.Threads));
    }

    [Theory]
    [InlineData(UdpContainer + " }")] // UDP only: concurrent VSQs
    [InlineData("vm dns on e0 { mac 02:00:00:00:00:01; ip 10.0.0.1 }")]
    public void Datagrams_sent_at_once_from_several_application_threads_are_each_counted_by_their_vnic(string destination)
    {
        var wire = new CountingWire();
        var (host, stack, socket, to) = UdpSender(destination, wire);
        const int Threads = 4, Datagrams = 20_000;
        var sent = 0L;
        host.StartThreads();
        try
        {
            var senders = Enumerable.Range(0, Threads).Select(_ => new Thread(() =>
            {
                var payload = new byte[8];
                var deadline = DateTime.UtcNow.AddSeconds(60);
                for (var i = 0; i < Datagrams && DateTime.UtcNow < deadline;)
                {
                    if (socket.TrySendTo(to, payload) is Runtime.Stacks.SendStatus.Sent or Runtime.Stacks.SendStatus.Queued)
                    {
                        Interlocked.Increment(ref sent);
                        i++;
                    }
                    else Thread.Yield(); // the rings are full: the drain catches up
                }
            })).ToList();
            senders.ForEach(t => t.Start());
            senders.ForEach(t => t.Join());
        }
        finally
        {
            host.StopThreads();
        }
        var counters = host.Vnic("dns").TransmitCounters;
        Assert.Equal(Threads * (long)Datagrams, sent);
        Assert.Equal(sent, wire.Frames);
        Assert.Equal(wire.Frames, counters.Delivered);
        Assert.Equal(counters.Received, counters.Delivered + counters.DroppedTotal);
        Assert.Equal(sent, stack.Counters.Sent); // the stack's own count too (a VM's: its vCPU's and the senders')
    }

    [Fact]
    public void Stopping_the_threads_while_applications_send_puts_each_frame_on_the_wire_once()
    {
        // Applications' calls drain what they queued; StopThreads drains the rings too. The rings
        // have one consumer: a drain the stop overlapped sent frames twice and returned their
        // buffers twice.
        for (var round = 0; round < 20; round++)
        {
            var wire = new CountingWire();
            var (host, _, socket, to) = UdpSender(UdpContainer + " }", wire);
            var device = host.Nic("e0").Device;
            var free = device.Pool.Available;
            var stop = 0;
            host.StartThreads();
            var senders = Enumerable.Range(0, 2).Select(_ => new Thread(() =>
            {
                var payload = new byte[8];
                var deadline = DateTime.UtcNow.AddSeconds(10);
                while (Volatile.Read(ref stop) == 0 && DateTime.UtcNow < deadline) socket.TrySendTo(to, payload);
            })).ToList();
            senders.ForEach(t => t.Start());
            Thread.Sleep(20);
            host.StopThreads();
            Volatile.Write(ref stop, 1);
            senders.ForEach(t => t.Join());
            host.Pump(); // what was handed over after the stop

            var counters = host.Vnic("dns").TransmitCounters;
            Assert.Equal(counters.Delivered, wire.Frames);
            Assert.Equal(free, device.Pool.Available);
        }
    }

    // A UDP-only container (port 53), unclosed so a test can add properties before its `}`.
    private const string UdpContainer = "container dns on e0 { mac 02:00:00:00:00:01; ip 10.0.0.1; protocols udp; ports 53";

    // A two-processor host with `destination` (a VM or container "dns") on e0, whose wire is
    // `wire`; its stack's socket on port 53 and a neighbour (10.0.0.9) it needs no ARP for.
    private static (Runtime.Virtualization.NetworkHost Host, Runtime.Stacks.NetworkStack Stack, Runtime.Stacks.UdpSocket Socket, Runtime.Stacks.NetworkEndpoint To) UdpSender(
        string destination, Runtime.Devices.IWire wire)
    {
        var (host, _) = TestHost.Build($$"""
            host t {
                cpus 2
                nic e0 { model simnic-10g; rx-rings 2 }
                {{destination}}
            }
            """);
        host.Nic("e0").Device.Wire = wire;
        var stack = destination.StartsWith("vm") ? host.VirtualMachine("dns").Stack : host.NetworkStack("dns").Stack;
        stack.AddNeighbor(Runtime.Stacks.NetworkAddress.Parse("10.0.0.9"), 0x02_00_00_00_00_09);
        return (host, stack, stack.BindUdp(53), Runtime.Stacks.NetworkEndpoint.Parse("10.0.0.9", 53));
    }

    private sealed class CountingWire : Runtime.Devices.IWire
    {
        private long _frames;

        public long Frames => Interlocked.Read(ref _frames);

        public void Transmit(ReadOnlySpan<byte> frame) => Interlocked.Increment(ref _frames);
    }

    private sealed class ThreadRecordingWire : Runtime.Devices.IWire
    {
        public System.Collections.Concurrent.ConcurrentQueue<string?> Threads { get; } = new();

        public void Transmit(ReadOnlySpan<byte> frame) => Threads.Enqueue(Thread.CurrentThread.Name);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_tcp_byte_stream_crosses_real_threads_and_a_lossy_cable_intact(bool latency)
    {
        var (host, _) = TestHost.Build(StackHarness.Topology); // the system clock: real timers
        var cable = Runtime.Devices.SimulatedCable.Connect(host.Nic("e0").Device, host.Nic("e1").Device, lossRate: 0.01, seed: 11);
        // With a latency the cable holds frames in a queue of its own: every processor that drains
        // feeds it and the first processor delivers from it, one thread at a time.
        if (latency) host.AddCable(cable.WithLatency(TimeSpan.FromMilliseconds(0.2), host.Time));
        var listener = host.NetworkStack("db").Stack.ListenTcp(5432);
        var timeout = TimeSpan.FromSeconds(60);
        host.StartThreads();
        try
        {
            var client = host.NetworkStack("web").Stack.ConnectTcp(Runtime.Stacks.NetworkEndpoint.Parse("10.0.0.3", 5432));
            var server = await listener.AcceptAsync().WaitAsync(timeout);
            await client.Connected.WaitAsync(timeout);

            var data = StackHarness.Pattern(1_000_000, 3);
            // The application's thread sends while the processors run theirs.
            Assert.Equal(data, await StackHarness.TransferAsync(client, server, data, timeout));
            Assert.True(cable.Lost > 0);
        }
        finally
        {
            host.StopThreads();
        }
    }
}
