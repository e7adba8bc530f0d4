using NicBypass.Runtime.Accounting;
using NicBypass.Runtime.Virtualization;

namespace NicBypass.Runtime.Tests;

/// <summary><see cref="NetworkHost.Offer"/>: the test author's traffic helper — a rate for a span of virtual time.</summary>
public class OfferTests
{
    private const string Topology = """
        host h {
            nic e0 { model simnic-10g; rx-rings 4 }
            vm v on e0 { mac 02:00:00:00:00:01; ip 10.0.0.1; bandwidth 10M }
            container dns on e0 { mac 02:00:00:00:00:02; ip fd00::2; vlan 5; protocols udp; ports 53 }
        }
        """;

    [Fact]
    public void A_vm_offered_twice_its_allocation_gets_its_allocation()
    {
        var (host, _) = TestHost.Build(Topology, new VirtualClock());

        var offered = host.Offer("v", 20_000_000, TimeSpan.FromMilliseconds(200));

        Assert.Equal(500, offered); // 20 Mbit/s of 1,000-byte frames for 0.2 s
        var v = host.Vnic("v");
        Assert.Equal(500, v.Counters.Received);
        Assert.Equal(1000, v.Counters.DeliveredBytes / v.Counters.Delivered);
        Assert.InRange(v.Counters.Delivered, 250, 250 + 15); // 10 Mbit/s for 0.2 s, plus its starting credit
        Assert.Equal(v.Counters.Received - v.Counters.Delivered, v.Counters.Dropped(DropReason.Bandwidth));
        Assert.Equal(200_000_000, ((VirtualClock)host.Time).Nanoseconds);
    }

    [Fact]
    public void A_destination_gets_datagrams_on_its_declared_port_in_its_vlan()
    {
        var (host, _) = TestHost.Build(Topology, new VirtualClock());
        var socket = host.NetworkStack("dns").Stack.BindUdp(53);

        host.Offer("dns", 1_000_000, TimeSpan.FromMilliseconds(40), frameSize: 500);

        Assert.Equal(10, socket.Pending);
        Assert.Equal(10, host.Vnic("dns").Counters.Delivered);
        Assert.Throws<InvalidOperationException>(() => TestHost.Build(Topology).Host.Offer("v", 1_000_000, TimeSpan.FromSeconds(1)));
    }
}
