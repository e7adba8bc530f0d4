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
                foreach (var f in v.Flows ?? [])
                {
                    Assert.True(f.Received == f.Delivered + f.Dropped.Sum(d => d.Value) + f.Queued,
                        $"flow {f.Name}: received {f.Received} != delivered {f.Delivered} + dropped {f.Dropped.Sum(d => d.Value)} + queued {f.Queued}");
                }
            }
        }
    }
}
