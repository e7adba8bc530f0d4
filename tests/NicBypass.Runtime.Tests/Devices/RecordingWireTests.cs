using NicBypass.Runtime.Devices;

namespace NicBypass.Runtime.Tests;

/// <summary>The wire a test puts on a NIC to see what it transmits.</summary>
public class RecordingWireTests
{
    [Fact]
    public void A_host_answering_a_ping_puts_the_reply_on_the_recording_wire_and_on_to_the_inner_one()
    {
        var (host, _) = TestHost.Build("host h { nic e0 { model simnic-10g; rx-rings 1 } vm v on e0 { mac 02:00:00:00:00:01; ip 10.0.0.1 } }");
        var inner = new CapturingWire();
        var wire = new RecordingWire(inner);
        host.Nic("e0").Device.Wire = wire;

        host.Nic("e0").Device.Receive(TestFrames.ArpRequest("10.0.0.1"));
        host.Pump();

        var reply = Assert.Single(wire.Frames);
        Assert.Equal(0x0806, reply[12] << 8 | reply[13]); // the ARP reply
        Assert.Equal(reply, Assert.Single(inner.Frames));
        wire.Clear();
        Assert.Empty(wire.Frames);
    }
}
