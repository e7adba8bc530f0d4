using System.Net;
using NicBypass.Runtime.Devices;
using NicBypass.Runtime.Stacks;
using NicBypass.Runtime.Virtualization;

namespace NicBypass.Runtime.Tests;

/// <summary>
/// The serialization queues as traffic drives them (FireEngine's squeue): inline when idle, a
/// backlog and a worker when not, the ring switched to polling and back, workers on several
/// processors for UDP and one at a time for TCP — application calls included.
/// </summary>
public class SerializationQueueTests
{
    private const ulong Mac = 0x02_00_00_00_00_01;

    [Fact]
    public void An_overloaded_interrupt_mode_container_backlogs_and_switches_to_polling_and_back_from_traffic_alone()
    {
        var (host, nic, vns) = Build(new StackSettings(StackProtocols.Udp, SocketQueue: 100_000), cpus: 1);
        host.Costs = CostTable.Default;
        var socket = vns.Stack.BindUdp(53);
        var ring = vns.Vnic.Ring!;
        var datagram = TestFrames.Udp("02:00:00:00:00:01", "10.0.0.1", 53, new byte[18]); // 60 bytes: 67 ns each at 10G

        // A trickle, one datagram every 10 µs: the processor keeps up, so the transport layer runs
        // inline in the interrupt that delivered it — nothing waits, the ring stays interrupt-driven.
        for (var i = 0; i < 100; i++)
        {
            host.RunTo(i * 10_000L);
            nic.Device.Offer(datagram);
        }
        host.RunTo(1_100_000);
        Assert.Equal(100, socket.Received);
        Assert.Equal(0, vns.InboundQueued);
        Assert.Equal(0, vns.Backlogs);
        Assert.Equal(0, vns.PollingSwitches);

        // Line rate for 2 ms (30,000 datagrams): an interrupt (1 µs) plus 80 ns a datagram is more
        // than the 67 ns between them, so work piles up: datagrams wait in the VSQ for its worker,
        // the ring is switched to polling, and once the burst is over it drains and switches back.
        for (var i = 0; i < 30_000; i++) nic.Device.Offer(datagram);
        Assert.True(host.RunUntil(() => nic.Device.OnWire == 0 && ring.Count == 0 && vns.Inbound.Count == 0, TimeSpan.FromSeconds(1)));
        host.Pump();

        Assert.True(vns.Backlogs > 0, "a backlog formed");
        Assert.True(vns.InboundQueued > 0 && vns.InboundHighWater > 0, "datagrams waited in the inbound VSQ");
        Assert.True(vns.PollingSwitches > 0, "the ring switched to polling");
        Assert.True(ring.InterruptsEnabled, "and back to interrupts once drained");
        Assert.True(ring.Interrupts < 30_000 / 4, $"polling took most of the burst: {ring.Interrupts} interrupts for 30,000 datagrams");
        // Every datagram the link carried is accounted for: read, or dropped with a reason.
        Assert.Equal(nic.Device.Link.Carried, socket.Received + vns.Vnic.Counters.DroppedTotal + vns.Counters.DroppedTotal);
    }

    [Fact]
    public void A_udp_only_vns_on_two_processors_has_two_workers_inside_at_once_under_traffic()
    {
        var (host, nic, vns) = Build(new StackSettings(StackProtocols.Udp, SocketQueue: 1_000_000, InboundThreshold: 4096), cpus: 2, workers: 2, ringSize: 4096, time: TimeProvider.System);
        Assert.Equal(2, vns.Workers.Count);
        var socket = vns.Stack.BindUdp(53);
        var datagram = TestFrames.Udp("02:00:00:00:00:01", "10.0.0.1", 53, new byte[64]);
        host.StartThreads();
        try
        {
            // Bursts of datagrams from this thread: the interrupt's processor hands on what it cannot
            // take at once, and both workers drain the VSQ — concurrently, since UDP allows it.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
            while (vns.InboundMaxInside < 2 && DateTime.UtcNow < deadline)
            {
                for (var i = 0; i < 2000; i++) nic.Device.Receive(datagram);
                Thread.Sleep(1);
            }
        }
        finally
        {
            host.StopThreads();
        }
        Assert.Equal(2, vns.InboundMaxInside);
        Assert.True(vns.InboundQueued > 0, "datagrams waited for a worker");
        var received = vns.Vnic.Counters.Received;
        Assert.Equal(received, vns.Vnic.Counters.Delivered + vns.Vnic.Counters.DroppedTotal);
        Assert.Equal(vns.Vnic.Counters.Delivered, socket.Received + vns.Counters.DroppedTotal);
    }

    [Fact]
    public async Task A_tcp_vns_on_two_processors_never_has_two_inside_application_sends_included()
    {
        // Two containers joined by a cable, each with its VSQ worker on both processors.
        var host = new NetworkHost("h", 2, TimeProvider.System);
        var e0 = host.AddNic("e0", SimNicModels.Get("simnic-10g"), new SimNicSettings(1, 1, 1024, 1500));
        var e1 = host.AddNic("e1", SimNicModels.Get("simnic-10g"), new SimNicSettings(1, 1, 1024, 1500));
        var web = AddStack(host, e0, "web", 0x02_00_00_00_00_01, "10.0.0.1");
        var db = AddStack(host, e1, "db", 0x02_00_00_00_00_03, "10.0.0.3");
        host.Start();
        SimulatedCable.Connect(e0.Device, e1.Device);
        var listener = db.Stack.ListenTcp(5432);
        var timeout = TimeSpan.FromSeconds(60);
        host.StartThreads();
        try
        {
            var client = web.Stack.ConnectTcp(NetworkEndpoint.Parse("10.0.0.3", 5432));
            var server = await listener.AcceptAsync().WaitAsync(timeout);
            await client.Connected.WaitAsync(timeout);
            var entries = web.InboundEntries;
            var data = StackHarness.Pattern(2_000_000, 5);
            // The application's thread sends: its sends enter the VSQ too.
            Assert.Equal(data, await StackHarness.TransferAsync(client, server, data, timeout));
            Assert.True(web.InboundEntries > entries, "application sends entered the VSQ");
        }
        finally
        {
            host.StopThreads();
        }
        Assert.Equal(1, web.InboundMaxInside);
        Assert.Equal(1, db.InboundMaxInside);
        Assert.Equal(2, db.Workers.Count);
    }

    [Fact]
    public void Application_calls_and_timers_enter_the_transport_gate()
    {
        var (host, _, vns) = Build(new StackSettings(StackProtocols.Tcp | StackProtocols.Udp), cpus: 1);
        vns.Stack.AddNeighbor(NetworkAddress.Parse("10.0.0.9"), 0x02_00_00_00_00_09);
        var entries = vns.InboundEntries;
        var socket = vns.Stack.BindUdp(53);
        socket.TrySendTo(NetworkEndpoint.Parse("10.0.0.9", 9), new byte[8]);
        Assert.Equal(entries + 1, vns.InboundEntries);
        var connection = vns.Stack.ConnectTcp(NetworkEndpoint.Parse("10.0.0.9", 80)); // the SYN
        Assert.Equal(entries + 2, vns.InboundEntries);
        host.Pump(); // nothing is due yet: a timer armed for later costs no entry
        Assert.Equal(entries + 2, vns.InboundEntries);
        // The SYN's retransmission timer falls due (nobody answers at 10.0.0.9): the worker's timer turn enters.
        Assert.True(host.RunUntil(() => vns.InboundEntries > entries + 2, TimeSpan.FromSeconds(5)));
        connection.Abort();
    }

    [Fact]
    public void Under_the_cost_model_a_udp_backlog_is_worked_off_by_both_processors()
    {
        var (host, nic, vns) = Build(new StackSettings(StackProtocols.Udp, SocketQueue: 100_000), cpus: 2, workers: 2);
        host.Costs = CostTable.Default with { StackNanoseconds = 400 }; // a heavy stack: the backlog is the stack's
        var socket = vns.Stack.BindUdp(53);
        var datagram = TestFrames.Udp("02:00:00:00:00:01", "10.0.0.1", 53, new byte[18]);
        for (var i = 0; i < 5_000; i++) nic.Device.Offer(datagram);
        Assert.True(host.RunUntil(() => nic.Device.OnWire == 0 && vns.Vnic.Ring!.Count == 0 && vns.Inbound.Count == 0, TimeSpan.FromSeconds(1)));

        Assert.Equal(nic.Device.Link.Carried, socket.Received + vns.Vnic.Counters.DroppedTotal + vns.Counters.DroppedTotal);
        // The worker on the second processor did stack work: it was busy too.
        Assert.True(host.Processors[1].BusyNanoseconds > 0, "the second worker took part");
        Assert.True(host.Processors[0].BusyNanoseconds > 0);
    }

    private static VirtualNetworkStack AddStack(NetworkHost host, HostNic nic, string name, ulong mac, string ip)
    {
        var vns = host.AddNetworkStack(VnicRole.Container,
            new VnicSettings(name, nic.Name, new[] { mac }, new[] { IPAddress.Parse(ip) }, Cpu: 0, Cpus: 2), new StackSettings(StackProtocols.Tcp | StackProtocols.Udp));
        nic.BindHardwareRing(0, vns.Vnic);
        nic.Program(mac, 0, 0, vns.Vnic);
        return vns;
    }

    private static (NetworkHost Host, HostNic Nic, VirtualNetworkStack Vns) Build(StackSettings settings, int cpus, int workers = 1, int ringSize = 256, TimeProvider? time = null)
    {
        var host = new NetworkHost("h", cpus, time ?? new VirtualClock());
        var nic = host.AddNic("e0", SimNicModels.Get("simnic-10g"), new SimNicSettings(1, 1, ringSize, 1500));
        var vns = host.AddNetworkStack(VnicRole.Container,
            new VnicSettings("web", "e0", new[] { Mac }, new[] { IPAddress.Parse("10.0.0.1") }, Cpu: 0, Cpus: workers), settings);
        nic.BindHardwareRing(0, vns.Vnic);
        nic.Program(Mac, 0, 0, vns.Vnic);
        host.Start();
        nic.Device.Wire = new CapturingWire();
        return (host, nic, vns);
    }
}
