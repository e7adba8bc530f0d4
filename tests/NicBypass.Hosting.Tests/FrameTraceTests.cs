using NicBypass.Dsl.Text;
using NicBypass.Runtime;
using NicBypass.Runtime.Packets;

namespace NicBypass.Hosting.Tests;

/// <summary>What <see cref="FrameTrace"/> says about a frame of a flow.</summary>
public class FrameTraceTests
{
    [Fact]
    public void A_frame_that_waits_in_its_flows_queue_is_traced_as_waiting()
    {
        // On virtual time that does not move, an 8M flow's first frame takes its millisecond of
        // credit; the traced one after it has to wait in the flow's queue.
        var (compilation, host) = HostLoader.Load(new[] { new SourceFile("t.nicdsl", """
            host h {
                nic e0 { model simnic-10g; rx-rings 2 }
                vm v on e0 { mac 02:00:00:00:00:01; ip 10.0.0.1 }
                flow bulk on v { transport udp; local-port 9; bandwidth 8M }
            }
            """) }, time: new VirtualClock());
        Assert.True(host is not null, string.Join("\n", compilation.Diagnostics));
        var frame = Frames.Udp("02:aa:00:00:00:01", "02:00:00:00:00:01", "10.0.0.9:5000", "10.0.0.1:9", new byte[958]);
        host!.Nic("e0").Device.Receive(frame);
        host.Pump();

        var steps = FrameTrace.Run(host, "e0", frame);

        var flow = Assert.Single(steps, s => s.Stage == "flow bulk on v");
        Assert.StartsWith("selected; waiting in the flow's own queue (1 there)", flow.Decision);
        Assert.Equal(1, host.Vnic("v").Flows[0].Queued);
    }
}
