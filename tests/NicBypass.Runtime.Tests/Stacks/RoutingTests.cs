using System.Buffers.Binary;
using NicBypass.Runtime.Stacks;

namespace NicBypass.Runtime.Tests;

/// <summary>A stack's subnets and router (<c>ip A/LEN</c>, <c>gateway</c>): off-link traffic goes to the router's MAC.</summary>
public class RoutingTests
{
    private const string Topology = """
        host r {
            nic e0 { model simnic-10g; rx-rings 2 }
            container c on e0 { mac 02:00:00:00:00:02; ip 10.0.0.2/24; ip fd00::2/64; gateway 10.0.0.1 fd00::1; protocols udp; ports 53 }
            vm v on e0 { mac 02:00:00:00:00:03; ip 10.0.0.3/24; gateway 10.0.0.1 }
        }
        """;

    // The target of an ARP request on the wire (its target protocol address), or null.
    private static string? ArpTarget(byte[] frame) =>
        BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(12)) == 0x0806 ? new System.Net.IPAddress(frame.AsSpan(14 + 24, 4)).ToString() : null;

    [Fact]
    public void A_datagram_to_a_subnets_broadcast_address_goes_to_every_station_unsolicited()
    {
        // It was taken for a neighbour: solicited (nobody answers for .255), then dropped
        // unresolved (found by a new user's drive). Linux sends it to ff:ff:ff:ff:ff:ff.
        var (host, wires) = TestHost.Build(Topology, new VirtualClock());
        var stack = host.NetworkStack("c").Stack;
        var socket = stack.BindUdp(53);

        Assert.Equal(SendStatus.Sent, socket.TrySendTo(NetworkEndpoint.Parse("10.0.0.255", 53), new byte[] { 1 }));
        host.Pump();

        var frame = Assert.Single(wires["e0"].Frames);
        Assert.Equal(Classification.GroupAddress.Broadcast, Packets.EthernetHeader.ReadMac(frame));
        Assert.Null(ArpTarget(frame));
        Assert.Equal(0, stack.Counters.SendDropped(StackDropReason.Unresolved));

        // A station claiming the broadcast address (ARP "tell 10.0.0.255") is not learned: the
        // next broadcast still goes to every station (found by review).
        host.Send("e0", TestFrames.ArpRequest("10.0.0.2", System.Net.IPAddress.Parse("10.0.0.255")));
        wires["e0"].Frames.Clear();
        socket.TrySendTo(NetworkEndpoint.Parse("10.0.0.255", 53), new byte[] { 2 });
        host.Pump();
        Assert.Equal(Classification.GroupAddress.Broadcast, Packets.EthernetHeader.ReadMac(Assert.Single(wires["e0"].Frames)));
        // And no TCP to it (RFC 1122 4.2.3.10).
        Assert.Throws<ArgumentException>(() => host.VirtualMachine("v").Stack.ConnectTcp(NetworkEndpoint.Parse("10.0.0.255", 80)));
    }

    [Fact]
    public void Off_link_datagrams_resolve_and_go_to_the_router_and_on_link_ones_to_the_neighbour()
    {
        // On virtual time: on the system clock a stall of a second between the two pumps sends
        // the second address's solicitation again, beside the datagram the test looks for.
        var (host, wires) = TestHost.Build(Topology, new VirtualClock());
        var socket = host.NetworkStack("c").Stack.BindUdp(53);

        socket.TrySendTo(NetworkEndpoint.Parse("192.0.2.9", 53), new byte[] { 1 });
        socket.TrySendTo(NetworkEndpoint.Parse("10.0.0.7", 53), new byte[] { 2 });
        host.Pump();

        var asked = wires["e0"].Frames.Select(ArpTarget).OfType<string>().ToList();
        Assert.Equal(new[] { "10.0.0.1", "10.0.0.7" }, asked); // the router, not 192.0.2.9

        // The router answers: the parked datagram leaves for its MAC, still addressed to 192.0.2.9.
        wires["e0"].Frames.Clear();
        host.Send("e0", TestFrames.ArpReply("10.0.0.1", "02:aa:00:00:00:01", "10.0.0.2", "02:00:00:00:00:02"));
        var datagram = Assert.Single(wires["e0"].Frames);
        Assert.Equal(0x02AA_0000_0001UL, Packets.EthernetHeader.ReadMac(datagram));
        Assert.Equal("192.0.2.9", new System.Net.IPAddress(datagram.AsSpan(14 + 16, 4)).ToString());
    }

    [Fact]
    public void An_ipv6_router_named_by_its_link_local_address_is_solicited_and_gets_the_off_link_datagram()
    {
        var (host, wires) = TestHost.Build("""
            host r {
                nic e0 { model simnic-10g; rx-rings 2 }
                container c on e0 { mac 02:00:00:00:00:02; ip fd00::2/64; gateway fe80::1; protocols udp; ports 53 }
            }
            """, new VirtualClock());
        var socket = host.NetworkStack("c").Stack.BindUdp(53);
        wires["e0"].Frames.Clear();

        socket.TrySendTo(NetworkEndpoint.Parse("2001:db8::9", 53), new byte[] { 7 });
        host.Pump();

        // A neighbour solicitation for the router's link-local address (its target at bytes 14 + 40 + 8).
        var solicitation = Assert.Single(wires["e0"].Frames, f => f.Length >= 14 + 40 + 24 && f[14 + 40] == 135);
        Assert.Equal("fe80::1", new System.Net.IPAddress(solicitation.AsSpan(14 + 40 + 8, 16)).ToString());

        // The router answers: the datagram leaves for its MAC, still addressed to 2001:db8::9.
        wires["e0"].Frames.Clear();
        host.Send("e0", Packets.Frames.NeighborAdvertisement(0x02AA_0000_0001UL, 0x0200_0000_0002UL, System.Net.IPAddress.Parse("fe80::1"),
            System.Net.IPAddress.Parse("fd00::2"), System.Net.IPAddress.Parse("fe80::1"), 0x02AA_0000_0001UL, solicited: true));
        var datagram = Assert.Single(wires["e0"].Frames, f => f.Length > 14 + 40 && f[14 + 6] == 17);
        Assert.Equal(0x02AA_0000_0001UL, Packets.EthernetHeader.ReadMac(datagram));
        Assert.Equal("2001:db8::9", new System.Net.IPAddress(datagram.AsSpan(14 + 24, 16)).ToString());
    }

    [Fact]
    public void Group_addresses_and_families_without_a_router_are_never_routed()
    {
        var (host, _) = TestHost.Build(Topology);
        var stack = host.NetworkStack("c").Stack;
        var vm = host.VirtualMachine("v").Stack;

        Assert.Equal(NetworkAddress.Parse("10.0.0.1"), stack.NextHop(NetworkAddress.Parse("8.8.8.8")));
        Assert.Equal(NetworkAddress.Parse("fd00::1"), stack.NextHop(NetworkAddress.Parse("2001:db8::1")));
        Assert.Equal(NetworkAddress.Parse("10.0.0.200"), stack.NextHop(NetworkAddress.Parse("10.0.0.200")));
        Assert.Equal(NetworkAddress.Parse("224.0.0.251"), stack.NextHop(NetworkAddress.Parse("224.0.0.251")));
        Assert.Equal(NetworkAddress.Parse("255.255.255.255"), stack.NextHop(NetworkAddress.Parse("255.255.255.255")));
        Assert.Equal(NetworkAddress.Parse("fe80::1234"), stack.NextHop(NetworkAddress.Parse("fe80::1234"))); // link-local: on every link
        Assert.Equal(NetworkAddress.Parse("fd00::1"), stack.NextHop(NetworkAddress.Parse("fec0::1")));        // just past fe80::/10: routed
        Assert.Equal(NetworkAddress.Parse("10.0.0.1"), vm.NextHop(NetworkAddress.Parse("8.8.8.8"))); // a VM's guest routes too
        Assert.Equal(NetworkAddress.Parse("2001:db8::1"), vm.NextHop(NetworkAddress.Parse("2001:db8::1"))); // no IPv6 router: on-link
    }
}
