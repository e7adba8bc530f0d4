using NicBypass.Runtime.Stacks;

namespace NicBypass.Runtime.Tests;

/// <summary>
/// The deterministic mode has one datapath thread and NIC pools without locks: a frame sent from
/// another thread (an application's continuation on the thread pool) is handed over to the VNIC
/// and sent by the datapath at its next round, never by the other thread itself.
/// </summary>
public class HandOverTests
{
    [Fact]
    public void A_segment_sent_from_another_thread_waits_for_the_datapath_and_goes_at_its_next_round()
    {
        var harness = new StackHarness();
        var (client, server) = harness.Connect();
        var e0 = harness.Host.Nic("e0").Device;
        var free = e0.Pool.Available;
        var vnic = harness.Host.Vnic("web");
        var sent = vnic.TransmitCounters.Received;

        var data = StackHarness.Pattern(8 * 1448, 1);
        Assert.Equal(data.Length, OnAnotherThread(() => client.Send(data)));

        // Nothing of the NIC was touched from that thread: no buffer rented, no frame counted.
        Assert.Equal(free, e0.Pool.Available);
        Assert.Equal(sent, vnic.TransmitCounters.Received);
        Assert.True(e0.TransmitRings.All(r => r.Queue.Count == 0), "a transmit ring holds a frame the other thread queued");

        // The datapath sends, counts and delivers them.
        var received = new byte[data.Length];
        var got = 0;
        Assert.True(harness.RunUntil(() =>
        {
            got += server.Read(received.AsSpan(got));
            return got == data.Length;
        }, seconds: 5));
        Assert.Equal(data, received);
        Assert.True(vnic.TransmitCounters.Received >= sent + 8, $"{vnic.TransmitCounters.Received - sent} frames counted");
        harness.AssertBalanced();
    }

    [Fact]
    public void A_datagram_from_a_vm_guests_socket_on_another_thread_is_handed_over_too()
    {
        var harness = new StackHarness();
        var web = harness.Web.Stack.BindUdp(53); // across the cable: the guest's NIC is e1, web's e0
        var guest = harness.Guest.Stack.BindUdp(40000);
        var e1 = harness.Host.Nic("e1").Device;
        var free = e1.Pool.Available;

        var status = OnAnotherThread(() => guest.TrySendTo(NetworkEndpoint.Parse("10.0.0.1", 53), new byte[] { 1, 2, 3 }));
        Assert.True(status is SendStatus.Sent or SendStatus.Queued, $"{status}");
        Assert.Equal(free, e1.Pool.Available);

        var buffer = new byte[64];
        var length = 0;
        Assert.True(harness.RunUntil(() => web.TryReceive(buffer, out _, out length)), "the datagram arrives");
        Assert.Equal(new byte[] { 1, 2, 3 }, buffer.AsSpan(0, length).ToArray());
        harness.AssertBalanced();
    }

    [Fact]
    public void Frames_handed_over_go_before_what_the_datapath_sends_for_the_same_vnic()
    {
        var harness = new StackHarness();
        var db = harness.Db.Stack.BindUdp(5353);
        var web = harness.Web.Stack.BindUdp(53);
        var to = NetworkEndpoint.Parse("10.0.0.3", 5353);
        harness.Host.Pump(); // neighbours: resolved by the first datagram's round
        Assert.True(web.TrySendTo(to, new byte[] { 0 }) is SendStatus.Sent or SendStatus.Queued);
        Assert.True(harness.RunUntil(() => db.TryReceive(new byte[8], out _, out _)));

        Assert.True(OnAnotherThread(() => web.TrySendTo(to, new byte[] { 1 })) is SendStatus.Sent or SendStatus.Queued);
        Assert.True(web.TrySendTo(to, new byte[] { 2 }) is SendStatus.Sent or SendStatus.Queued); // from the datapath's thread, after it
        var order = new List<byte>();
        var buffer = new byte[8];
        Assert.True(harness.RunUntil(() =>
        {
            while (db.TryReceive(buffer, out _, out _)) order.Add(buffer[0]);
            return order.Count == 2;
        }));
        Assert.Equal(new byte[] { 1, 2 }, order);
        harness.AssertBalanced();
    }

    [Fact]
    public void Packets_queued_while_an_application_holds_the_stack_go_as_soon_as_it_leaves_not_when_time_next_moves()
    {
        // An application's call on a thread of its own is inside db's VSQ (TCP: one thread at a
        // time) when a datagram arrives: the datagram waits in the VSQ, and db's worker, finding
        // the gate taken, sleeps. The call leaving must wake it; else the datagram waits for
        // whatever next wakes the worker — here the end of RunUntil's second of virtual time.
        var harness = new StackHarness();
        harness.Web.Stack.AddNeighbor(NetworkAddress.Parse("10.0.0.3"), 0x02_00_00_00_00_03);
        var socket = harness.Db.Stack.BindUdp(5353);
        var sender = harness.Web.Stack.BindUdp();
        using var inside = new ManualResetEventSlim();
        using var leave = new ManualResetEventSlim();
        var application = new Thread(() =>
        {
            using (harness.Db.Stack.EnterTransport())
            {
                inside.Set();
                leave.Wait(TimeSpan.FromSeconds(30));
            }
        });
        application.Start();
        Assert.True(inside.Wait(TimeSpan.FromSeconds(30)));
        Assert.Equal(SendStatus.Sent, sender.TrySendTo(NetworkEndpoint.Parse("10.0.0.3", 5353), new byte[] { 7 }));

        var left = false;
        Assert.True(harness.RunUntil(() =>
        {
            if (!left)
            {
                // The first look, after the first pump: the datagram waits in the VSQ. Now the call ends.
                Assert.Equal(1, harness.Db.Inbound.Count);
                leave.Set();
                application.Join();
                left = true;
                return false;
            }
            return socket.Pending == 1;
        }, seconds: 1));

        Assert.Equal(0, harness.Clock.Nanoseconds); // taken at once, at the time it arrived
    }

    [Fact]
    public async Task A_transfer_continued_on_the_thread_pool_while_the_test_pumps_arrives_whole_and_returns_every_buffer()
    {
        var harness = new StackHarness();
        var (client, server) = harness.Connect();
        var data = StackHarness.Pattern(2_000_000, 2);

        // The first part goes from the test's thread; the rest from SendAsync's continuations on
        // the thread pool as ACKs free the buffer, while the test's thread runs the datapath. The
        // deterministic mode does not wait for the thread pool: the test pumps a millisecond of
        // virtual time at a go until the continuations are done (at most 30 s of wall time).
        var sending = client.SendAsync(data);
        var received = new byte[data.Length];
        var got = 0;
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (!(got == data.Length && sending.IsCompleted) && watch.Elapsed < TimeSpan.FromSeconds(30))
        {
            harness.RunUntil(() =>
            {
                got += server.Read(received.AsSpan(got));
                return got == data.Length && sending.IsCompleted;
            }, seconds: 0.001);
        }
        Assert.True(got == data.Length, $"{got} of {data.Length} bytes");
        await sending;
        Assert.Equal(data, received);
        Assert.True(harness.RunUntil(() => harness.Cable.InFlight == 0 && !harness.Host.Nics.Any(n => n.TransmitRings.Any(r => r.Queue.Count > 0)), seconds: 5));
        harness.Host.Pump();
        foreach (var nic in harness.Host.Nics)
        {
            Assert.Equal(nic.Device.Pool.RegularCount, nic.Device.Pool.Available); // every buffer came back
            Assert.Equal(0, nic.Device.Pool.Loaned);
        }
        harness.AssertBalanced();
    }

    [Fact]
    public void Frames_handed_over_before_the_threads_start_leave_when_they_do()
    {
        // On the system clock, as the threaded mode runs.
        var (host, _) = TestHost.Build(StackHarness.Topology, TimeProvider.System);
        Devices.SimulatedCable.Connect(host.Nic("e0").Device, host.Nic("e1").Device);
        var listener = host.NetworkStack("db").Stack.ListenTcp(5432);
        var client = host.NetworkStack("web").Stack.ConnectTcp(NetworkEndpoint.Parse("10.0.0.3", 5432));
        TcpConnection? server = null;
        for (var i = 0; i < 1000 && !(client.State == TcpState.Established && server is not null); i++)
        {
            host.Pump();
            if (server is null) listener.TryAccept(out server);
        }
        Assert.NotNull(server);
        var data = StackHarness.Pattern(8 * 1448, 3);
        Assert.Equal(data.Length, OnAnotherThread(() => client.Send(data)));
        Assert.True(host.Nic("e0").HasStaged, "the segments wait in the hand-over");

        // No pump: the threaded mode takes over with the frames still handed over.
        host.StartThreads();
        try
        {
            var received = new byte[data.Length];
            var got = 0;
            var watch = System.Diagnostics.Stopwatch.StartNew();
            while (got < data.Length && watch.Elapsed < TimeSpan.FromSeconds(10))
            {
                got += server.Read(received.AsSpan(got));
                Thread.Sleep(1);
            }
            Assert.Equal(data, received);
        }
        finally
        {
            host.StopThreads();
        }
    }

    [Fact]
    public void A_spoofed_or_oversized_frame_from_another_thread_is_refused_with_its_reason_and_counted_by_the_datapath()
    {
        var harness = new StackHarness();
        var vnic = harness.Host.Vnic("web");
        var frame = new byte[64];
        new byte[] { 0x02, 0, 0, 0, 0, 0x03 }.CopyTo(frame, 0);
        new byte[] { 0x02, 0, 0, 0, 0, 0x66 }.CopyTo(frame, 6); // not web's MAC
        frame[12] = 0x08; // IPv4
        Assert.Equal(SendStatus.Spoofed, OnAnotherThread(() => vnic.Transmit(frame)));
        Assert.Equal(SendStatus.Oversize, OnAnotherThread(() => vnic.Transmit(new byte[harness.Host.Nic("e0").Device.MaxFrameLength + 1])));
        harness.Host.Pump();
        Assert.Equal(1, vnic.TransmitCounters.Dropped(Accounting.DropReason.Spoofed));
        Assert.Equal(1, vnic.TransmitCounters.Dropped(Accounting.DropReason.Oversize));
        Assert.Equal(2, vnic.TransmitCounters.Received);
    }

    [Fact]
    public void RunUntil_counts_a_frame_refused_at_hand_over_at_once_not_after_its_whole_span()
    {
        // A refused frame from another thread wakes no processor: it is staged for the datapath
        // to count. RunUntil must look at it on its next step, not jump to its next event first.
        var harness = new StackHarness();
        var host = harness.Host;
        var clock = (VirtualClock)host.Time;
        var vnic = host.Vnic("web");
        var frame = new byte[64];
        new byte[] { 0x02, 0, 0, 0, 0, 0x03 }.CopyTo(frame, 0);
        new byte[] { 0x02, 0, 0, 0, 0, 0x66 }.CopyTo(frame, 6); // not web's MAC
        frame[12] = 0x08;
        host.Pump();
        var start = clock.Nanoseconds;
        var sent = false;

        Assert.True(host.RunUntil(() =>
        {
            if (!sent) sent = OnAnotherThread(() => vnic.Transmit(frame)) == SendStatus.Spoofed;
            return vnic.TransmitCounters.Dropped(Accounting.DropReason.Spoofed) == 1;
        }, TimeSpan.FromSeconds(10)));

        Assert.True(clock.Nanoseconds - start < 1_000_000, $"counted after {(clock.Nanoseconds - start) / 1e6:0.###} ms of virtual time");
    }

    [Fact]
    public void A_frame_too_long_to_take_a_vlan_tag_is_oversize_not_pushed_back()
    {
        var (host, _) = TestHost.Build("""
            host t {
                cpus 1
                nic e0 { model simnic-10g; rx-rings 1; tx-rings 1 }
                container web on e0 { mac 02:00:00:00:00:02; ip 10.0.0.2; vlan 7; protocols udp; ports 53 }
            }
            """, new VirtualClock());
        host.Pump();
        var vnic = host.Vnic("web");
        var frame = new byte[host.Nic("e0").Device.MaxFrameLength]; // fits untagged, not with the tag
        new byte[] { 0x02, 0, 0, 0, 0, 0x03 }.CopyTo(frame, 0);
        new byte[] { 0x02, 0, 0, 0, 0, 0x02 }.CopyTo(frame, 6);
        frame[12] = 0x88; frame[13] = 0xB5; // a local experimental EtherType: no address to check
        Assert.Equal(SendStatus.Oversize, vnic.Transmit(frame));
        Assert.Equal(SendStatus.Oversize, OnAnotherThread(() => vnic.Transmit(frame)));
        host.Pump();
        Assert.Equal(2, vnic.TransmitCounters.Dropped(Accounting.DropReason.Oversize));
    }

    // Runs `work` on a thread of its own and waits for it (a plain thread: the test's own stays the datapath's).
    private static T OnAnotherThread<T>(Func<T> work)
    {
        T result = default!;
        Exception? error = null;
        var thread = new Thread(() =>
        {
            try { result = work(); }
            catch (Exception e) { error = e; }
        });
        thread.Start();
        thread.Join();
        if (error is not null) throw new InvalidOperationException("the other thread failed", error);
        return result;
    }
}
