using System.Buffers.Binary;
using System.Net;
using NicBypass.Runtime.Stacks;

namespace NicBypass.Runtime.Tests;

/// <summary>
/// <c>ip dhcp</c>'s IPv6 side: stateless address autoconfiguration (RFC 4862) from a hand-made
/// router's advertisements on the NIC's wire, on virtual time.
/// </summary>
public class SlaacTests
{
    private const string Topology = """
        host s {
            nic e0 { model simnic-10g; rx-rings 2 }
            vm guest on e0 { mac 02:00:00:00:00:05; ip dhcp }
            container web on e0 { mac 02:00:00:00:00:06; ip dhcp; protocols tcp udp; ports 80 }
        }
        """;

    private const ulong GuestMac = 0x0200_0000_0005UL;
    private const ulong RouterMac = 0x02AA_0000_00FEUL;
    private static readonly NetworkAddress RouterLinkLocal = NetworkAddress.Parse("fe80::1");
    private static readonly NetworkAddress GuestLinkLocal = NetworkAddress.Parse("fe80::ff:fe00:5");
    private static readonly NetworkAddress GuestGlobal = NetworkAddress.Parse("fd77::ff:fe00:5");

    [Fact]
    public void A_vm_takes_its_link_local_address_and_solicits_routers_three_times_four_seconds_apart()
    {
        var clock = new VirtualClock();
        var (host, wires) = TestHost.Build(Topology, clock);
        var guest = host.VirtualMachine("guest").Stack;
        host.Pump();

        // fe80:: and the MAC's modified EUI-64, tentative for a second: one solicitation from ::, no option.
        Assert.DoesNotContain(GuestLinkLocal, guest.Addresses);
        var detection = Assert.Single(wires["e0"].Frames, f => f.Length >= 14 + 40 + 24 && f[14 + 6] == 58 && f[14 + 40] == 135 && Packets.EthernetHeader.ReadMac(f.AsSpan(6)) == GuestMac);
        Assert.Equal(0x3333_FF00_0005UL, Packets.EthernetHeader.ReadMac(detection));
        Assert.Equal(NetworkAddress.Parse("::"), NetworkAddress.Read(detection.AsSpan(14 + 8, 16)));
        Assert.Equal(GuestLinkLocal, NetworkAddress.Read(detection.AsSpan(14 + 40 + 8, 16)));
        Assert.Equal(24, BinaryPrimitives.ReadUInt16BigEndian(detection.AsSpan(14 + 4)));
        Assert.True(host.RunUntil(() => Solicitations(wires["e0"]).Count == 1, TimeSpan.FromSeconds(5)));
        Assert.InRange(clock.Nanoseconds / 1e9, 1, 1.01);
        Assert.Contains(GuestLinkLocal, guest.Addresses);
        Assert.True(host.RunUntil(() => Solicitations(wires["e0"]).Count == 3, TimeSpan.FromSeconds(30)));
        host.RunUntil(() => false, TimeSpan.FromSeconds(30));
        var sent = Solicitations(wires["e0"]);
        Assert.Equal(3, sent.Count); // and no more
        var first = sent[0];
        Assert.Equal(0x3333_0000_0002UL, Packets.EthernetHeader.ReadMac(first));        // to all routers
        Assert.Equal(GuestLinkLocal, NetworkAddress.Read(first.AsSpan(14 + 8, 16)));    // from its link-local address
        Assert.Equal(255, first[14 + 7]);
        Assert.Equal(GuestMac, Packets.EthernetHeader.ReadMac(first.AsSpan(14 + 40 + 10))); // its MAC in the source link-layer option
        Assert.Equal(0, Packets.InternetChecksum.ComputeV6(first.AsSpan(14 + 8, 16), first.AsSpan(14 + 24, 16), 58, first.AsSpan(14 + 40, 16)));
    }

    [Fact]
    public void An_advertisement_gives_an_address_of_its_prefix_a_router_and_the_routers_mac_and_linux_style_pings_reach_it()
    {
        var clock = new VirtualClock();
        var (host, wires) = TestHost.Build(Topology, clock);
        var guest = host.VirtualMachine("guest").Stack;
        Assert.True(host.RunUntil(() => Solicitations(wires["e0"]).Count == 1, TimeSpan.FromSeconds(5)));

        host.Send("e0", Advertisement(routerLifetime: 1800, prefix: "fd77::", valid: 600, preferred: 300));

        Assert.True(host.RunUntil(() => guest.Addresses.Contains(GuestGlobal), TimeSpan.FromSeconds(5))); // after its second of detection
        Assert.Equal(new[] { GuestGlobal }, guest.Autoconfigured.Addresses);
        Assert.Equal(RouterLinkLocal, guest.Autoconfigured.Router);
        Assert.Equal(RouterLinkLocal, guest.NextHop(NetworkAddress.Parse("2001:db8::1"))); // off-link: the router
        Assert.Equal(NetworkAddress.Parse("fd77::9"), guest.NextHop(NetworkAddress.Parse("fd77::9"))); // on-link (the L flag)
        Assert.Equal(RouterMac, guest.NeighborMac(RouterLinkLocal)); // from the source link-layer option
        host.RunUntil(() => false, TimeSpan.FromSeconds(20));
        Assert.Single(Solicitations(wires["e0"])); // answered: no more solicitations

        // A neighbour finds the address through its solicited-node group, then pings it.
        wires["e0"].Frames.Clear();
        host.Send("e0", Packets.Frames.NeighborSolicitation(0x02BB_0000_0001UL, IPAddress.Parse("fd77::9"), GuestGlobal.ToIPAddress()));
        var advertisement = Assert.Single(wires["e0"].Frames, f => f.Length > 14 + 40 && f[14 + 6] == 58 && f[14 + 40] == 136);
        Assert.Equal(GuestGlobal, NetworkAddress.Read(advertisement.AsSpan(14 + 40 + 8, 16)));
        host.Send("e0", Packets.Frames.EchoRequest(0x02BB_0000_0001UL, GuestMac, IPAddress.Parse("fd77::9"), GuestGlobal.ToIPAddress()));
        Assert.Equal(1, guest.Counters.EchoRepliesSent);
        Assert.Equal(0, host.VirtualMachine("guest").Vnic.TransmitCounters.Dropped(Accounting.DropReason.Spoofed));

        // An off-link destination: from the global address (not the link-local one), to the router's MAC.
        wires["e0"].Frames.Clear();
        Assert.Equal(SendStatus.Sent, guest.SendEchoRequest(NetworkAddress.Parse("2001:db8::1"), 1, 1));
        host.Pump();
        var echo = Assert.Single(wires["e0"].Frames, f => f.Length > 14 + 40 && f[14 + 6] == 58 && f[14 + 40] == 128);
        Assert.Equal(GuestGlobal, NetworkAddress.Read(echo.AsSpan(14 + 8, 16)));
        Assert.Equal(RouterMac, Packets.EthernetHeader.ReadMac(echo));
    }

    [Fact]
    public void The_address_and_the_router_go_when_their_lifetimes_end_and_a_short_renewal_does_not_cut_the_address()
    {
        var clock = new VirtualClock();
        var (host, wires) = TestHost.Build(Topology, clock);
        var guest = host.VirtualMachine("guest").Stack;
        host.Pump();
        var start = clock.Nanoseconds;
        host.Send("e0", Advertisement(routerLifetime: 900, prefix: "fd77::", valid: 600, preferred: 300));
        host.Send("e0", Advertisement(routerLifetime: 900, prefix: "fd77::", valid: 60, preferred: 30)); // RFC 4862 5.5.3 (e): ignored, under two hours and less than what is left

        Assert.True(host.RunUntil(() => guest.Addresses.Contains(GuestGlobal), TimeSpan.FromSeconds(5)));
        Assert.True(host.RunUntil(() => !guest.Addresses.Contains(GuestGlobal), TimeSpan.FromSeconds(1000)));
        Assert.InRange((clock.Nanoseconds - start) / 1e9, 600, 600.01);
        Assert.Contains(GuestLinkLocal, guest.Addresses); // the link-local address stays
        Assert.Equal(RouterLinkLocal, guest.Autoconfigured.Router);
        Assert.True(host.RunUntil(() => guest.Autoconfigured.Router is null, TimeSpan.FromSeconds(1000)));
        Assert.InRange((clock.Nanoseconds - start) / 1e9, 900, 900.01);
        Assert.Empty(guest.Gateways);
    }

    [Fact]
    public void A_short_lifetime_cuts_a_longer_one_to_two_hours_and_no_less()
    {
        var clock = new VirtualClock();
        var (host, wires) = TestHost.Build(Topology, clock);
        var guest = host.VirtualMachine("guest").Stack;
        host.Pump();
        host.Send("e0", Advertisement(0, "fd77::", 36_000, 36_000)); // ten hours
        var cut = clock.Nanoseconds;
        host.Send("e0", Advertisement(0, "fd77::", 60, 30));         // RFC 4862 5.5.3 (e) 3: two hours, not one minute

        Assert.True(host.RunUntil(() => guest.Addresses.Contains(GuestGlobal), TimeSpan.FromSeconds(5)));
        Assert.True(host.RunUntil(() => !guest.Addresses.Contains(GuestGlobal), TimeSpan.FromHours(11)));
        Assert.InRange((clock.Nanoseconds - cut) / 1e9, 7200, 7200.01);
    }

    [Fact]
    public void Advertisements_a_router_would_not_send_teach_nothing()
    {
        var (host, wires) = TestHost.Build(Topology, new VirtualClock());
        var guest = host.VirtualMachine("guest").Stack;
        host.Pump();

        host.Send("e0", Advertisement(1800, "fd77::", 600, 300, hopLimit: 64));              // routed: forged
        host.Send("e0", Advertisement(1800, "fd77::", 600, 300, source: "fd77::1"));        // not from a link-local address
        host.Send("e0", Advertisement(1800, "fd78::", 600, 300, prefixLength: 48));         // a prefix the identifier does not fit
        host.Send("e0", Advertisement(1800, "fd79::", 600, 300, autonomous: false));        // not for autoconfiguration
        host.Send("e0", Advertisement(1800, "fd7a::", 300, 600));                           // preferred past valid

        Assert.DoesNotContain(guest.Addresses, a => !a.IsV6 || a.Value >> 118 != 0x3FA); // the link-local one alone
        Assert.Equal(2, guest.Counters.Dropped(StackDropReason.InvalidSource));
    }

    [Fact]
    public void A_container_with_ip_dhcp_autoconfigures_too()
    {
        var (host, wires) = TestHost.Build(Topology, new VirtualClock());
        var web = host.NetworkStack("web").Stack;
        host.Pump();

        host.Send("e0", Advertisement(1800, "fd77::", 600, 300));

        Assert.True(host.RunUntil(() => web.Addresses.Contains(NetworkAddress.Parse("fd77::ff:fe00:6")), TimeSpan.FromSeconds(5)));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void An_address_another_node_answers_for_or_detects_too_is_given_up(bool advertised)
    {
        var (host, wires) = TestHost.Build(Topology, new VirtualClock());
        var guest = host.VirtualMachine("guest").Stack;
        Assert.True(host.RunUntil(() => Solicitations(wires["e0"]).Count == 1, TimeSpan.FromSeconds(5)));
        host.Send("e0", Advertisement(1800, "fd77::", 600, 300));

        // Within its second: another node has it (advertises it), or is detecting it too (solicits from ::).
        host.Send("e0", advertised
            ? Packets.Frames.NeighborAdvertisement(0x02BB_0000_0001UL, 0x3333_0000_0001UL, IPAddress.Parse("fd77::ff:fe00:5"), IPAddress.Parse("ff02::1"), GuestGlobal.ToIPAddress(), 0x02BB_0000_0001UL, solicited: false)
            : Dad(0x02BB_0000_0001UL, GuestGlobal));
        host.RunUntil(() => false, TimeSpan.FromSeconds(3));

        Assert.DoesNotContain(GuestGlobal, guest.Addresses);
        Assert.Empty(guest.Autoconfigured.Addresses);
        Assert.Equal(1, guest.Slaac!.Duplicates);
    }

    [Fact]
    public void A_duplicate_link_local_address_stops_autoconfiguration()
    {
        var (host, wires) = TestHost.Build(Topology, new VirtualClock());
        var guest = host.VirtualMachine("guest").Stack;
        host.Pump();

        host.Send("e0", Dad(0x02BB_0000_0001UL, GuestLinkLocal));
        host.RunUntil(() => false, TimeSpan.FromSeconds(20));
        host.Send("e0", Advertisement(1800, "fd77::", 600, 300));
        host.RunUntil(() => false, TimeSpan.FromSeconds(3));

        Assert.DoesNotContain(guest.Addresses, a => a.IsV6);
        Assert.Empty(Solicitations(wires["e0"]));
        Assert.Null(guest.Autoconfigured.Router);
    }

    [Fact]
    public void A_link_local_duplicate_found_after_an_advertisement_takes_neither_its_global_address_nor_its_router()
    {
        // RFC 4862 5.4.5: the advertisement came while the link-local address was still being
        // checked; its global address (the same interface identifier, a duplicate too) was taken
        // a second later all the same, and its router kept (found by review).
        var (host, wires) = TestHost.Build(Topology, new VirtualClock());
        var guest = host.VirtualMachine("guest").Stack;
        host.Pump();
        host.RunUntil(() => false, TimeSpan.FromMilliseconds(300));
        host.Send("e0", Advertisement(1800, "fd77::", 600, 300));
        host.RunUntil(() => false, TimeSpan.FromMilliseconds(200));

        host.Send("e0", Dad(0x02BB_0000_0001UL, GuestLinkLocal));
        host.RunUntil(() => false, TimeSpan.FromSeconds(3));

        Assert.DoesNotContain(guest.Addresses, a => a.IsV6);
        Assert.Null(guest.Autoconfigured.Router);
    }

    [Fact]
    public void An_address_found_to_be_a_duplicate_is_not_tried_again_at_the_next_advertisement()
    {
        // RFC 4862 5.4.5: a duplicate MUST NOT be assigned. Each later advertisement started a
        // new detection, and with nobody answering its one solicitation this time (the other node
        // busy, the answer lost) the duplicate was taken (found by review).
        var (host, _) = TestHost.Build(Topology, new VirtualClock());
        var guest = host.VirtualMachine("guest").Stack;
        host.Pump();
        host.RunUntil(() => false, TimeSpan.FromSeconds(2)); // the link-local address is taken
        var global = NetworkAddress.Parse("fd77::ff:fe00:5");
        host.Send("e0", Advertisement(1800, "fd77::", 600, 300));
        host.Send("e0", Dad(0x02BB_0000_0001UL, global)); // another node detects it too: a duplicate
        host.RunUntil(() => false, TimeSpan.FromSeconds(2));
        Assert.DoesNotContain(global, guest.Addresses);

        host.Send("e0", Advertisement(1800, "fd77::", 600, 300));
        host.RunUntil(() => false, TimeSpan.FromSeconds(3));

        Assert.DoesNotContain(global, guest.Addresses);
    }

    // Another node's duplicate address detection: a neighbour solicitation for `target` from ::, to its solicited-node group.
    private static byte[] Dad(ulong mac, NetworkAddress target)
    {
        var icmp = new byte[24];
        icmp[0] = 135;
        target.Write(icmp.AsSpan(8));
        var group = new NetworkAddress(NetworkAddress.Parse("ff02::1:ff00:0").Value | target.Value & 0xFF_FFFF, true);
        return TestFrames.IcmpV6(mac, 0x3333_FF00_0000UL | (ulong)(target.Value & 0xFF_FFFF), "::", group.ToString(), 255, icmp);
    }

    [Fact]
    public void The_interface_identifier_is_the_macs_modified_eui_64()
    {
        Assert.Equal(NetworkAddress.Parse("::5054:ff:fe12:3456").Value, SlaacClient.InterfaceId(0x5254_0012_3456UL));
        Assert.Equal(NetworkAddress.Parse("::ff:fe00:5").Value, SlaacClient.InterfaceId(GuestMac));
    }

    [Fact]
    public void Multicast_prefixes_malformed_options_and_more_than_sixteen_prefixes_are_refused_and_a_router_leaving_is_forgotten()
    {
        var (host, wires) = TestHost.Build(Topology, new VirtualClock());
        var guest = host.VirtualMachine("guest").Stack;
        host.Pump();

        host.Send("e0", Advertisement(1800, "ff0e::", 600, 300));                 // a multicast prefix
        var broken = Advertisement(1800, "fd77::", 600, 300);
        broken[14 + 40 + 24 + 1] = 0;                                           // an option of length 0: the whole message goes
        broken = TestFrames.IcmpV6(RouterMac, 0x3333_0000_0001UL, "fe80::1", "ff02::1", 255, broken[(14 + 40)..]);
        host.Send("e0", broken);
        Assert.Empty(guest.Autoconfigured.Addresses);
        Assert.Equal(1, guest.Counters.Dropped(StackDropReason.Malformed));

        for (var i = 0; i < SlaacClient.MaxAddresses + 4; i++) host.Send("e0", Advertisement(1800, $"fd00:{i + 1:x}::", 600, 300));
        host.RunUntil(() => false, TimeSpan.FromSeconds(2));
        Assert.Equal(SlaacClient.MaxAddresses, guest.Autoconfigured.Addresses.Count);

        host.Send("e0", Advertisement(0, "fd00:1::", 600, 300));                  // the router stops being one
        Assert.Null(guest.Autoconfigured.Router);
        Assert.Empty(guest.Gateways);
    }

    [Fact]
    public void A_vnic_with_ip_dhcp_may_send_from_its_autoconfigured_addresses_but_not_from_anothers()
    {
        const string mixed = """
            host m {
                nic e0 { model simnic-10g; rx-rings 2 }
                vm mix on e0 { mac 02:00:00:00:00:07; ip fd00::7; ip dhcp }
            }
            """;
        var (host, wires) = TestHost.Build(mixed, new VirtualClock());
        var mix = host.VirtualMachine("mix");
        var own = Packets.Frames.Udp(0x0200_0000_0007UL, 0x02BB_0000_0001UL, new IPEndPoint(IPAddress.Parse("fd77::ff:fe00:7"), 9), new IPEndPoint(IPAddress.Parse("fd77::9"), 9), new byte[8]);
        var forged = Packets.Frames.Udp(0x0200_0000_0007UL, 0x02BB_0000_0001UL, new IPEndPoint(IPAddress.Parse("fd77::1234"), 9), new IPEndPoint(IPAddress.Parse("fd77::9"), 9), new byte[8]);

        Assert.Equal(SendStatus.Sent, mix.Send(own));
        Assert.Equal(SendStatus.Spoofed, mix.Send(forged));
    }

    // The Router Solicitations the guest sent.
    private static List<byte[]> Solicitations(CapturingWire wire) =>
        wire.Frames.Where(f => f.Length >= 14 + 40 + 16 && BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(12)) == 0x86DD && f[14 + 6] == 58 && f[14 + 40] == 133
            && Packets.EthernetHeader.ReadMac(f.AsSpan(6)) == GuestMac).ToList();

    // A Router Advertisement to all nodes from the router (its MAC in a source link-layer option)
    // with one prefix information option.
    private static byte[] Advertisement(ushort routerLifetime, string prefix, uint valid, uint preferred, byte hopLimit = 255, string source = "fe80::1",
        byte prefixLength = 64, bool autonomous = true)
    {
        var icmp = new byte[16 + 8 + 32];
        icmp[0] = 134;
        icmp[4] = 64; // current hop limit
        BinaryPrimitives.WriteUInt16BigEndian(icmp.AsSpan(6), routerLifetime);
        icmp[16] = 1;
        icmp[17] = 1;
        Packets.EthernetHeader.WriteMac(icmp.AsSpan(18), RouterMac);
        var pio = icmp.AsSpan(24);
        pio[0] = 3;
        pio[1] = 4;
        pio[2] = prefixLength;
        pio[3] = (byte)(0x80 | (autonomous ? 0x40 : 0)); // on-link, autonomous
        BinaryPrimitives.WriteUInt32BigEndian(pio.Slice(4), valid);
        BinaryPrimitives.WriteUInt32BigEndian(pio.Slice(8), preferred);
        IPAddress.Parse(prefix).GetAddressBytes().CopyTo(pio.Slice(16));
        return TestFrames.IcmpV6(RouterMac, 0x3333_0000_0001UL, source, "ff02::1", hopLimit, icmp);
    }
}
