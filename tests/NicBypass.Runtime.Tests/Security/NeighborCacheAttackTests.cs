using NicBypass.Runtime.Stacks;
using NicBypass.Runtime.Virtualization;

namespace NicBypass.Runtime.Tests;

/// <summary>Attacks on a stack's neighbour cache from the link: flooding it, poisoning it, making it shout.</summary>
public class NeighborCacheAttackTests
{
    private const string Topology = """
        host s {
            nic e0 { model simnic-10g; rx-rings 2 }
            container web on e0 { mac 02:00:00:00:00:01; ip 192.168.10.20; ip fd00::20; protocols udp; ports 53 }
        }
        """;

    private const string Gateway = "192.168.10.1";
    private const string GatewayMac = "02:aa:00:00:00:01";
    private const string AttackerMac = "02:66:66:66:66:66";

    [Fact]
    public void A_neighbour_cache_flood_from_3000_sources_stays_within_its_bound()
    {
        var (host, _) = TestHost.Build(Topology);
        var web = host.NetworkStack("web");
        web.Stack.BindUdp(53);

        for (var i = 0; i < 3000; i++)
        {
            host.Nic("e0").Device.Receive(TestFrames.Udp("02:00:00:00:00:01", "192.168.10.20", 53, new byte[8], srcIp: $"10.0.{i / 250}.{i % 250 + 1}"));
            if (i % 64 == 0) host.Pump();
        }
        host.Pump();

        Assert.Equal(NeighborCache.MaxEntries, web.Stack.NeighborCount);
        // The stack still resolves a new neighbour it needs: a stale entry makes room.
        web.Stack.SendEchoRequest(NetworkAddress.Parse("192.168.10.99"), 1, 1);
        Assert.Equal(NeighborCache.MaxEntries, web.Stack.NeighborCount);
    }

    [Fact]
    public void Frames_from_a_multicast_source_mac_teach_nothing_and_make_no_arp_broadcast()
    {
        var (host, wires) = TestHost.Build(Topology);
        var web = host.NetworkStack("web");
        for (var i = 0; i < 100; i++)
        {
            var frame = TestFrames.Ping("02:00:00:00:00:01", "192.168.10.20");
            Array.Copy(new byte[] { 0x01, 0x00, 0x5E, 0, 0, (byte)i }, 0, frame, 6, 6);
            host.Nic("e0").Device.Receive(frame);
        }
        host.Pump();

        Assert.Empty(wires["e0"].Frames);
        Assert.Equal(100, web.Counters.Dropped(StackDropReason.InvalidSource));
        Assert.Equal(0, web.Stack.NeighborCount);
    }

    [Fact]
    public void Poisoning_a_resolved_gateway_by_spoofed_datagram_arp_or_advertisement_fails()
    {
        var clock = new VirtualClock();
        var (host, wires) = TestHost.Build(Topology, clock);
        var web = host.NetworkStack("web");
        var gateway = NetworkAddress.Parse(Gateway);

        // The stack resolves its gateway: it asks, the gateway answers.
        web.Stack.SendEchoRequest(gateway, 1, 1);
        host.Pump();
        Assert.Single(wires["e0"].Frames); // the ARP request
        host.Send("e0", TestFrames.ArpReply(Gateway, GatewayMac, "192.168.10.20", "02:00:00:00:00:01"));
        Assert.Equal(0x02_AA_00_00_00_01UL, web.Stack.NeighborMac(gateway));

        // A spoofed datagram, an ARP request and an unsolicited ARP reply, all claiming the gateway from the attacker's MAC.
        var spoofed = TestFrames.Udp("02:00:00:00:00:01", "192.168.10.20", 53, new byte[8], srcIp: Gateway);
        Array.Copy(new byte[] { 2, 0x66, 0x66, 0x66, 0x66, 0x66 }, 0, spoofed, 6, 6);
        host.Send("e0", spoofed,
            ArpRequestFrom(Gateway, AttackerMac, "192.168.10.20"),
            TestFrames.ArpReply(Gateway, AttackerMac, "192.168.10.20", "02:00:00:00:00:01"));
        Assert.Equal(0x02_AA_00_00_00_01UL, web.Stack.NeighborMac(gateway));
    }

    [Fact]
    public void A_stale_gateway_in_use_is_probed_at_its_cached_mac_and_a_reply_makes_it_poison_proof_again()
    {
        var (clock, host, wires, web, gateway) = ResolvedGateway();
        Assert.True(web.Stack.NeighborIsReachable(gateway));

        // 31 s later the entry is stale; the next frame to the gateway still goes to the cached MAC,
        // and 5 s on (DELAY) a unicast ARP request probes that MAC.
        host.RunTo(clock.Nanoseconds + 31_000_000_000);
        Assert.False(web.Stack.NeighborIsReachable(gateway));
        wires["e0"].Frames.Clear();
        web.Stack.SendEchoRequest(gateway, 1, 2);
        host.Pump();
        Assert.Equal(0x02_AA_00_00_00_01UL, NicBypass.Runtime.Packets.EthernetHeader.ReadMac(Assert.Single(wires["e0"].Frames)));
        host.RunTo(clock.Nanoseconds + 4_900_000_000);
        Assert.Single(wires["e0"].Frames);
        host.RunTo(clock.Nanoseconds + 200_000_000);
        var probe = TestFrames.Parse(wires["e0"].Frames.Last());
        Assert.Equal(TestFrames.Mac(GatewayMac), ((PacketDotNet.EthernetPacket)probe).DestinationHardwareAddress); // unicast, not broadcast
        Assert.Equal(PacketDotNet.ArpOperation.Request, probe.Extract<PacketDotNet.ArpPacket>().Operation);

        // The gateway answers: reachable again, and an unsolicited reply from the attacker moves nothing.
        host.Send("e0", TestFrames.ArpReply(Gateway, GatewayMac, "192.168.10.20", "02:00:00:00:00:01"));
        Assert.True(web.Stack.NeighborIsReachable(gateway));
        host.Send("e0", TestFrames.ArpReply(Gateway, AttackerMac, "192.168.10.20", "02:00:00:00:00:01"));
        Assert.Equal(0x02_AA_00_00_00_01UL, web.Stack.NeighborMac(gateway));
        var probes = wires["e0"].Frames.Count;
        host.RunTo(clock.Nanoseconds + 5_000_000_000);
        Assert.Equal(probes, wires["e0"].Frames.Count); // confirmed: no more probes
    }

    [Fact]
    public void A_neighbour_that_stops_answering_is_probed_three_times_then_forgotten_and_resolved_afresh()
    {
        var (clock, host, wires, web, peer) = ResolvedPeer6();
        host.RunTo(clock.Nanoseconds + 31_000_000_000);
        wires["e0"].Frames.Clear();

        web.Stack.SendEchoRequest(peer, 1, 2); // stale, in use: DELAY, then PROBE
        host.RunTo(clock.Nanoseconds + 10_000_000_000);

        var probes = wires["e0"].Frames.Skip(1).Select(f => TestFrames.Parse(f)).ToList();
        Assert.Equal(3, probes.Count);
        Assert.All(probes, p =>
        {
            Assert.Equal(TestFrames.Mac(GatewayMac), ((PacketDotNet.EthernetPacket)p).DestinationHardwareAddress);
            Assert.Equal(System.Net.IPAddress.Parse("fd00::1"), p.Extract<PacketDotNet.IPv6Packet>().DestinationAddress); // to the neighbour itself
            Assert.NotNull(p.Extract<PacketDotNet.NdpNeighborSolicitationPacket>());
        });
        Assert.Equal(0UL, web.Stack.NeighborMac(peer));
        Assert.Equal(1, web.Counters.NeighborsUnreachable);

        // The next frame asks the whole link again (its solicited-node group).
        wires["e0"].Frames.Clear();
        web.Stack.SendEchoRequest(peer, 1, 3);
        host.Pump();
        Assert.Equal(TestFrames.Mac("33:33:ff:00:00:01"), ((PacketDotNet.EthernetPacket)TestFrames.Parse(Assert.Single(wires["e0"].Frames))).DestinationHardwareAddress);
    }

    [Fact]
    public void A_forged_solicited_advertisement_moves_no_entry_nobody_asked_about_stale_or_not()
    {
        var (clock, host, _, web, peer) = ResolvedPeer6();
        // A second neighbour, only gleaned from its datagram: stale from the start, never confirmed.
        host.Send("e0", TestFrames.Udp("02:00:00:00:00:01", "fd00::20", 53, new byte[8], srcIp: "fd00::7"));
        host.RunTo(clock.Nanoseconds + 31_000_000_000); // the confirmed one is stale now too

        host.Send("e0",
            TestFrames.NeighborAdvertisement("02:00:00:00:00:01", "fd00::20", "fd00::1", AttackerMac, solicited: true),
            TestFrames.NeighborAdvertisement("02:00:00:00:00:01", "fd00::20", "fd00::1", AttackerMac, solicited: false),
            TestFrames.NeighborAdvertisement("02:00:00:00:00:01", "fd00::20", "fd00::7", AttackerMac, solicited: true));

        Assert.Equal(0x02_AA_00_00_00_01UL, web.Stack.NeighborMac(peer));
        Assert.False(web.Stack.NeighborIsReachable(peer));
        Assert.False(web.Stack.NeighborIsReachable(NetworkAddress.Parse("fd00::7"))); // not confirmed by an answer nobody asked for
    }

    [Fact]
    public void An_unsolicited_reply_while_a_stale_gateway_waits_for_its_probe_moves_nothing_and_the_probe_goes_to_the_real_mac()
    {
        var (clock, host, wires, web, gateway) = ResolvedGateway();
        host.RunTo(clock.Nanoseconds + 31_000_000_000);
        web.Stack.SendEchoRequest(gateway, 1, 2); // stale, in use: DELAY

        host.Send("e0", TestFrames.ArpReply(Gateway, AttackerMac, "192.168.10.20", "02:00:00:00:00:01"));
        wires["e0"].Frames.Clear();
        host.RunTo(clock.Nanoseconds + 5_100_000_000);

        Assert.Equal(0x02_AA_00_00_00_01UL, web.Stack.NeighborMac(gateway));
        var probe = (PacketDotNet.EthernetPacket)TestFrames.Parse(Assert.Single(wires["e0"].Frames));
        Assert.Equal(TestFrames.Mac(GatewayMac), probe.DestinationHardwareAddress);
        // The attacker's answer to a probe it guessed does not confirm: only the MAC probed may.
        host.Send("e0", TestFrames.ArpReply(Gateway, AttackerMac, "192.168.10.20", "02:00:00:00:00:01"));
        Assert.False(web.Stack.NeighborIsReachable(gateway));
        host.Send("e0", TestFrames.ArpReply(Gateway, GatewayMac, "192.168.10.20", "02:00:00:00:00:01"));
        Assert.True(web.Stack.NeighborIsReachable(gateway));
    }

    [Fact]
    public void A_cache_full_of_answered_neighbours_still_takes_a_new_one_pushing_out_the_longest_confirmed()
    {
        var clock = new VirtualClock();
        var (host, wires) = TestHost.Build(Topology, clock);
        var web = host.NetworkStack("web");
        // 1,024 neighbours asked about and answered: every entry reachable.
        for (var i = 0; i < NeighborCache.MaxEntries; i++)
        {
            var ip = $"192.168.{11 + i / 250}.{i % 250 + 1}";
            web.Stack.SendEchoRequest(NetworkAddress.Parse(ip), 1, 1);
            host.RunTo(clock.Nanoseconds + 20_000_000); // the solicitation rate limit lets each ask go
            host.Send("e0", TestFrames.ArpReply(ip, "02:bb:00:00:00:01", "192.168.10.20", "02:00:00:00:00:01"));
        }
        Assert.Equal(NeighborCache.MaxEntries, web.Stack.NeighborCount);
        wires["e0"].Frames.Clear();

        web.Stack.SendEchoRequest(NetworkAddress.Parse("192.168.10.99"), 1, 1);
        host.Pump();

        Assert.Single(wires["e0"].Frames); // asked: not refused as unresolved
        Assert.Equal(0, web.Counters.SendDropped(StackDropReason.Unresolved));
        Assert.Equal(0UL, web.Stack.NeighborMac(NetworkAddress.Parse("192.168.11.1"))); // the first confirmed made room
    }

    [Fact]
    public void An_unsolicited_arp_reply_for_an_address_never_asked_about_teaches_nothing()
    {
        var (host, _) = TestHost.Build(Topology);
        var web = host.NetworkStack("web");

        host.Send("e0", TestFrames.ArpReply("192.168.10.77", AttackerMac, "192.168.10.20", "02:00:00:00:00:01"));

        Assert.Equal(0UL, web.Stack.NeighborMac(NetworkAddress.Parse("192.168.10.77")));
    }

    [Fact]
    public void A_routed_neighbour_advertisement_with_hop_limit_64_is_refused()
    {
        var (host, _) = TestHost.Build(Topology);
        var web = host.NetworkStack("web");
        var peer = NetworkAddress.Parse("fd00::1");
        web.Stack.SendEchoRequest(peer, 1, 1); // being resolved: an advertisement would answer it
        host.Pump();

        host.Send("e0", TestFrames.NeighborAdvertisement("02:00:00:00:00:01", "fd00::20", "fd00::1", AttackerMac, solicited: true, hopLimit: 64));
        Assert.Equal(0UL, web.Stack.NeighborMac(peer));
        Assert.Equal(1, web.Counters.Dropped(StackDropReason.InvalidSource));

        host.Send("e0", TestFrames.NeighborAdvertisement("02:00:00:00:00:01", "fd00::20", "fd00::1", GatewayMac, solicited: true));
        Assert.Equal(0x02_AA_00_00_00_01UL, web.Stack.NeighborMac(peer));
    }

    [Fact]
    public void An_unsolicited_advertisement_does_not_override_a_reachable_entry()
    {
        var (host, _) = TestHost.Build(Topology);
        var web = host.NetworkStack("web");
        var peer = NetworkAddress.Parse("fd00::1");
        web.Stack.SendEchoRequest(peer, 1, 1);
        host.Pump();
        host.Send("e0", TestFrames.NeighborAdvertisement("02:00:00:00:00:01", "fd00::20", "fd00::1", GatewayMac, solicited: true));

        host.Send("e0", TestFrames.NeighborAdvertisement("02:00:00:00:00:01", "fd00::20", "fd00::1", AttackerMac, solicited: false));

        Assert.Equal(0x02_AA_00_00_00_01UL, web.Stack.NeighborMac(peer));
    }

    [Fact]
    public void Sending_to_500_unknown_neighbours_at_once_makes_at_most_a_burst_of_20_solicitations()
    {
        var clock = new VirtualClock();
        var (host, wires) = TestHost.Build(Topology, clock);
        var web = host.NetworkStack("web");

        for (var i = 0; i < 500; i++) web.Stack.SendEchoRequest(NetworkAddress.Parse($"192.168.{11 + i / 250}.{i % 250 + 1}"), 1, 1);
        host.Pump();
        Assert.Equal(20, wires["e0"].Frames.Count);

        // The retry timer sends the rest at 100 a second, not all at once.
        host.RunTo(clock.Nanoseconds + 1_100_000_000);
        Assert.InRange(wires["e0"].Frames.Count, 21, 20 + 130);
    }

    private static byte[] ArpRequestFrom(string senderIp, string senderMac, string targetIp)
    {
        var frame = TestFrames.ArpRequest(targetIp, System.Net.IPAddress.Parse(senderIp));
        var mac = TestFrames.Mac(senderMac).GetAddressBytes();
        mac.CopyTo(frame, 6);
        mac.CopyTo(frame, 14 + 8);
        return frame;
    }

    // The stack asked for fd00::1 and it answered (an advertisement with the S flag): a confirmed, reachable entry.
    private static (VirtualClock Clock, NetworkHost Host, Dictionary<string, CapturingWire> Wires, VirtualNetworkStack Web, NetworkAddress Peer) ResolvedPeer6()
    {
        var clock = new VirtualClock();
        var (host, wires) = TestHost.Build(Topology, clock);
        var web = host.NetworkStack("web");
        var peer = NetworkAddress.Parse("fd00::1");
        web.Stack.SendEchoRequest(peer, 1, 1);
        host.Pump();
        host.Send("e0", TestFrames.NeighborAdvertisement("02:00:00:00:00:01", "fd00::20", "fd00::1", GatewayMac, solicited: true));
        return (clock, host, wires, web, peer);
    }

    // The stack asked for its gateway and the gateway answered: a confirmed, reachable entry.
    private static (VirtualClock Clock, NetworkHost Host, Dictionary<string, CapturingWire> Wires, VirtualNetworkStack Web, NetworkAddress Gateway) ResolvedGateway()
    {
        var clock = new VirtualClock();
        var (host, wires) = TestHost.Build(Topology, clock);
        var web = host.NetworkStack("web");
        var gateway = NetworkAddress.Parse(Gateway);
        web.Stack.SendEchoRequest(gateway, 1, 1);
        host.Pump();
        host.Send("e0", TestFrames.ArpReply(Gateway, GatewayMac, "192.168.10.20", "02:00:00:00:00:01"));
        return (clock, host, wires, web, gateway);
    }
}
