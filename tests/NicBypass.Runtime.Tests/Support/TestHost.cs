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

    /// <summary>Sends frames into a NIC and runs the host until it is idle.</summary>
    public static void Send(this NetworkHost host, string nic, params byte[][] frames)
    {
        foreach (var frame in frames) host.Nic(nic).Device.Receive(frame);
        host.Pump();
    }

    /// <summary>Every counter adds up: each VNIC's received = delivered + dropped.</summary>
    public static void AssertBalanced(this NetworkHost host)
    {
        foreach (var vnic in host.Vnics)
        {
            Assert.True(vnic.Counters.Received == vnic.Counters.Delivered + vnic.Counters.DroppedTotal,
                $"{vnic.Name}: received {vnic.Counters.Received} != delivered {vnic.Counters.Delivered} + dropped {vnic.Counters.DroppedTotal}");
        }
    }
}
