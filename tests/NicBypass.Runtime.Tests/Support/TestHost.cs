using NicBypass.Hosting;
using NicBypass.Dsl.Text;
using NicBypass.Runtime.Devices;
using NicBypass.Runtime.Virtualization;

namespace NicBypass.Runtime.Tests;

/// <summary>Captures what a NIC puts on the wire.</summary>
internal sealed class CapturingWire : IWire
{
    public List<byte[]> Frames { get; } = new();

    public void Transmit(ReadOnlySpan<byte> frame) => Frames.Add(frame.ToArray());
}

/// <summary>Builds the interpreted host of a .nicdsl text, with a capturing wire on every NIC.</summary>
internal static class TestHost
{
    public static (NetworkHost Host, Dictionary<string, CapturingWire> Wires) Build(string text, TimeProvider? time = null)
    {
        var (compilation, host) = HostLoader.Load(new[] { new SourceFile("test.nicdsl", text) }, time: time);
        Assert.True(host is not null, "the topology has errors:\n" + string.Join("\n", compilation.Diagnostics));
        var wires = new Dictionary<string, CapturingWire>();
        foreach (var nic in host!.Nics)
        {
            var wire = new CapturingWire();
            nic.Device.Wire = wire;
            wires[nic.Name] = wire;
        }
        return (host, wires);
    }

    /// <summary>
    /// Two containers on one simnic-10g (2 processors): a (10.0.0.1) and b (10.0.0.2), each on
    /// its own hardware ring, TCP port 80, with <paramref name="settings"/>; started, no cable yet.
    /// </summary>
    public static NetworkHost TwoContainers(string name, Stacks.StackSettings settings, VirtualClock clock)
    {
        var build = new HostBuilder(name, 2, clock);
        build.AddNic("e0", "simnic-10g", new SimNicSettings(2, RingSize: 4096));
        foreach (var (vnic, mac, ip, ring) in new[] { ("a", 0x020000000001UL, "10.0.0.1", 0), ("b", 0x020000000002UL, "10.0.0.2", 1) })
        {
            build.AddNetworkStack(VnicRole.Container, new VnicSettings(vnic, "e0", new[] { mac }, build.Addresses(ip)), settings);
            build.BindHardwareRing("e0", ring, vnic);
            build.Program("e0", null, mac, 0, ring, vnic, build.Addresses(ip), new[] { 80 }, Stacks.StackProtocols.Tcp);
        }
        return build.Start();
    }

    /// <summary><see cref="TwoContainers"/> on a hairpin <paramref name="latency"/> away each way, a connected to b's port 80.</summary>
    public static (NetworkHost Host, VirtualClock Clock, SimulatedCable Cable, Stacks.TcpConnection Client, Stacks.TcpConnection Server) ConnectedPair(
        string name, Stacks.StackSettings settings, TimeSpan latency, Action<SimulatedCable>? beforeConnecting = null)
    {
        var clock = new VirtualClock();
        var host = TwoContainers(name, settings, clock);
        var cable = host.AddCable(SimulatedCable.Hairpin(host.Nic("e0").Device).WithLatency(latency, clock));
        beforeConnecting?.Invoke(cable);
        var listener = host.NetworkStack("b").Stack.ListenTcp(80);
        var client = host.NetworkStack("a").Stack.ConnectTcp(Stacks.NetworkEndpoint.Parse("10.0.0.2", 80));
        Stacks.TcpConnection? server = null;
        Assert.True(host.RunUntil(() => listener.TryAccept(out server), TimeSpan.FromSeconds(1)), "the handshake completes");
        return (host, clock, cable, client, server!);
    }

    /// <summary>Sends <paramref name="data"/> as the send buffer takes it while reading it at the other end (<paramref name="each"/> after every step); what arrived.</summary>
    public static byte[] Stream(NetworkHost host, Stacks.TcpConnection client, Stacks.TcpConnection server, byte[] data, Action? each = null)
    {
        var received = new byte[data.Length];
        int sent = 0, got = 0;
        Assert.True(host.RunUntil(() =>
        {
            if (sent < data.Length) sent += client.Send(data.AsSpan(sent));
            got += server.Read(received.AsSpan(got));
            each?.Invoke();
            return got == data.Length;
        }, TimeSpan.FromSeconds(60)), $"{got} of {data.Length} bytes arrived");
        return received;
    }

    /// <summary>The TCP options of kind <paramref name="kind"/> an IPv4 frame's SYN carries: each option's first value byte (0 for an option without one); empty for other frames.</summary>
    public static List<int> SynOptions(ReadOnlySpan<byte> frame, byte kind)
    {
        var found = new List<int>();
        if (frame.Length < 54 || frame[14 + 9] != 6 || (frame[14 + 20 + 13] & 0x02) == 0) return found;
        var tcp = frame.Slice(14 + 20);
        var options = tcp.Slice(20, (tcp[12] >> 4) * 4 - 20);
        for (var i = 0; i < options.Length && options[i] != 0;)
        {
            if (options[i] == 1) { i++; continue; }
            if (options[i] == kind) found.Add(options[i + 1] > 2 ? options[i + 2] : 0);
            i += Math.Max((int)options[i + 1], 2);
        }
        return found;
    }

    /// <summary>Sends frames into a NIC and runs the host until it is idle.</summary>
    public static void Send(this NetworkHost host, string nic, params byte[][] frames)
    {
        foreach (var frame in frames) host.Nic(nic).Device.Receive(frame);
        host.Pump();
    }

    /// <summary>
    /// Every counter adds up: idle, each VNIC's received = delivered + dropped; and the report's two
    /// equations hold (<see cref="AssertAddsUp"/>).
    /// </summary>
    public static void AssertBalanced(this NetworkHost host)
    {
        foreach (var vnic in host.Vnics)
        {
            Assert.True(vnic.Counters.Received == vnic.Counters.Delivered + vnic.Counters.DroppedTotal,
                $"{vnic.Name}: received {vnic.Counters.Received} != delivered {vnic.Counters.Delivered} + dropped {vnic.Counters.DroppedTotal}");
        }
        host.Report().AssertAddsUp();
    }

    /// <summary>
    /// The report's equations (README.md § A short tour): per VNIC received = delivered + Σ dropped
    /// + queued; per NIC Σ vnics.received = received − Σ dropped + replicated.
    /// </summary>
    public static void AssertAddsUp(this TrafficReport report)
    {
        foreach (var nic in report.Nics)
        {
            Assert.True(nic.Vnics.Sum(v => v.Received) == nic.Received - nic.Dropped.Sum(d => d.Value) + nic.Replicated,
                $"{nic.Name}: Σ vnics.received {nic.Vnics.Sum(v => v.Received)} != received {nic.Received} − dropped {nic.Dropped.Sum(d => d.Value)} + replicated {nic.Replicated}");
            foreach (var v in nic.Vnics)
            {
                Assert.True(v.Received == v.Delivered + v.Dropped.Sum(d => d.Value) + v.Queued,
                    $"{v.Name}: received {v.Received} != delivered {v.Delivered} + dropped {v.Dropped.Sum(d => d.Value)} + queued {v.Queued}");
                if (v.GuestStack is { } guest)
                {
                    Assert.True(v.Delivered == guest.Received + guest.Waiting, $"{v.Name}: delivered {v.Delivered} != its guest stack's received {guest.Received} + waiting in its guest ring {guest.Waiting}");
                }
                foreach (var f in v.Flows ?? [])
                {
                    Assert.True(f.Received == f.Delivered + f.Dropped.Sum(d => d.Value) + f.Queued,
                        $"flow {f.Name}: received {f.Received} != delivered {f.Delivered} + dropped {f.Dropped.Sum(d => d.Value)} + queued {f.Queued}");
                }
            }
        }
    }
}
