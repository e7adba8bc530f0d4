using NicBypass.Runtime.Virtualization;

namespace NicBypass.Runtime.Tests;

/// <summary>One VM on one processor behind one hardware ring, offered 60-byte frames on virtual time: the cost-model tests' bench.</summary>
internal static class OneVmLoad
{
    public static NetworkHost Build(CostTable costs, int ringSize = 256, bool dynamicPolling = true, string moderation = "0")
    {
        var (host, _) = TestHost.Build($$"""
            host h {
                cpus 1
                nic e0 { model simnic-10g; rx-rings 1; ring-size {{ringSize}}; interrupt-moderation {{moderation}} }
                vm a on e0 { mac 02:00:00:00:00:01; ip 10.0.0.1; cpu 0 }
            }
            """, new VirtualClock());
        host.Costs = costs;
        host.DynamicPolling = dynamicPolling;
        return host;
    }

    /// <summary>Offers VM a <paramref name="framesPerSecond"/> for <paramref name="seconds"/>, in bursts of <paramref name="burst"/>, running every event at its time.</summary>
    public static void Offer(NetworkHost host, double framesPerSecond, double seconds, int burst = 1)
    {
        var nic = host.Nic("e0").Device;
        var frame = TestFrames.Udp("02:00:00:00:00:01", "10.0.0.1", 9, new byte[18]); // 60 bytes
        for (var at = 0.0; at < seconds * 1e9; at += burst * 1e9 / framesPerSecond)
        {
            host.RunTo((long)at);
            for (var i = 0; i < burst; i++) nic.Offer(frame);
        }
    }

    /// <summary>Runs until nothing is left on the wire or in the ring.</summary>
    public static void Drain(NetworkHost host) =>
        Assert.True(host.RunUntil(() => host.Nic("e0").ReceiveRings[0].Count == 0 && host.Nic("e0").Device.OnWire == 0, TimeSpan.FromSeconds(1)));
}
