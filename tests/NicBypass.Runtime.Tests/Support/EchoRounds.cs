using NicBypass.Runtime.Devices;
using NicBypass.Runtime.Virtualization;

namespace NicBypass.Runtime.Tests;

/// <summary>Rounds of UDP traffic into a VM whose echoes go nowhere, for allocation tests.</summary>
internal static class EchoRounds
{
    /// <summary>
    /// A VM `v` (10.0.0.1 on simnic-10g) with <paramref name="declarations"/> beside it (flows),
    /// on virtual time, its echoes discarded: returns ten rounds of 96 UDP frames to ports 53, 9
    /// and 7, each round pumped, warmed up three times before it is returned — for measuring what
    /// the receive path allocates (GC.GetAllocatedBytesForCurrentThread around a call).
    /// </summary>
    public static Action Build(string declarations)
    {
        var (host, _) = TestHost.Build($$"""
            host h {
                nic e0 { model simnic-10g; rx-rings 1; ring-size 1024 }
                vm v on e0 { mac 02:00:00:00:00:01; ip 10.0.0.1 }
                {{declarations}}
            }
            """, new VirtualClock());
        var device = host.Nic("e0").Device;
        device.Wire = new DiscardingWire(); // the test's capturing wire would copy each echo
        var frames = new[] { 53, 9, 7 }.Select(port => TestFrames.Udp("02:00:00:00:00:01", "10.0.0.1", (ushort)port, new byte[18])).ToArray();
        void Ten()
        {
            for (var round = 0; round < 10; round++)
            {
                for (var i = 0; i < 96; i++) device.Receive(frames[i % 3]);
                host.Pump();
            }
        }
        for (var i = 0; i < 3; i++) Ten();
        Assert.All(host.Vnic("v").Flows, f => Assert.True(f.Counters.Delivered > 0, f.Name));
        return Ten;
    }

    private sealed class DiscardingWire : IWire
    {
        public void Transmit(ReadOnlySpan<byte> frame) { }
    }
}
