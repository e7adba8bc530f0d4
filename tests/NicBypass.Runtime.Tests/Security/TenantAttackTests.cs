using System.Net;
using System.Buffers.Binary;
using NicBypass.Runtime.Accounting;
using NicBypass.Runtime.Stacks;
using NicBypass.Runtime.Virtualization;
using PacketDotNet;

namespace NicBypass.Runtime.Tests;

/// <summary>
/// A VNIC's owner, and anyone on the wire, is untrusted: each test is an attack, named after it,
/// and what the host must do about it.
/// </summary>
public class TenantAttackTests
{
    private const string Topology = """
        host s {
            nic e0 { model simnic-10g; rx-rings 4 }
            container web on e0 { mac 02:00:00:00:00:01; ip 192.168.10.20; protocols tcp udp; ports 80 53 }
            vm guest on e0 { mac 02:00:00:00:00:02; ip 192.168.10.30; vlan 10 }
            vm echo on e0 { mac 02:00:00:00:00:03; ip 192.168.10.40 }
        }
        """;

    [Fact]
    public void Vlan_hopping_a_guest_supplied_tag_or_a_forged_source_inside_one_is_refused()
    {
        var (host, wires) = TestHost.Build(Topology);
        var guest = host.VirtualMachine("guest"); // on VLAN 10
        var own = Own(TestFrames.Udp("02:aa:00:00:00:01", "192.168.10.1", 9, new byte[8], srcIp: "192.168.10.30"));
        var forged = Own(TestFrames.Udp("02:aa:00:00:00:01", "192.168.10.1", 9, new byte[8], srcIp: "192.168.10.20")); // web's address

        Assert.Equal(SendStatus.Spoofed, guest.Send(TestFrames.Tag(own, 20)));      // into another VLAN
        Assert.Equal(SendStatus.Spoofed, guest.Send(TestFrames.Tag(forged, 20)));   // a forged source the check would not have looked into
        Assert.Equal(SendStatus.Spoofed, guest.Send(QinQ(own, 20)));                 // an 802.1ad tag: QinQ on the wire
        Assert.Equal(SendStatus.Spoofed, guest.Send(TestFrames.Tag(own, 0)));       // even a priority tag
        Assert.Equal(SendStatus.Sent, guest.Send(own));
        host.Pump();

        // What left is the one honest frame, in the guest's own VLAN, tagged once by its VNIC.
        var frame = Assert.Single(wires["e0"].Frames);
        Assert.Equal(EthernetHeaderTag(frame), (0x8100, 10));
        Assert.Equal(0x0800, BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(16)));
        var counters = guest.Vnic.TransmitCounters;
        Assert.Equal(4, counters.Dropped(DropReason.Spoofed));
        Assert.Equal(counters.Received, counters.Delivered + counters.DroppedTotal);
    }

    [Fact]
    public void A_syn_flood_from_5000_sources_holds_at_most_the_syn_backlog_half_open_and_no_buffers_and_a_real_client_still_connects()
    {
        // On virtual time: on the system clock a loaded machine took over a second, and the flood's
        // SYN-ACKs went again on their retransmission timer, after the real client's.
        var (host, wires) = TestHost.Build(Topology, new VirtualClock());
        var web = host.NetworkStack("web");
        var listener = web.Stack.ListenTcp(80);
        var backlog = web.Settings.SynBacklog;

        for (var i = 0; i < 5000; i++)
        {
            host.Nic("e0").Device.Receive(TestFrames.Tcp("02:00:00:00:00:01", "192.168.10.20", 80, $"10.0.{i / 250}.{i % 250 + 1}"));
            if (i % 64 == 0) host.Pump();
        }
        host.Pump();

        // The queue holds the first SYNs; every later one got a SYN cookie and left nothing behind.
        Assert.Equal(backlog, web.Stack.ConnectionCount);
        Assert.Equal(backlog, listener.HalfOpen);
        Assert.Equal(0, listener.SynQueueDrops);
        Assert.Equal(5000 - backlog, web.Counters.SynCookiesSent);
        var stack = host.Report().Nics[0].Vnics.Single(v => v.Name == "web").Stack!;
        Assert.Equal(5000 - backlog, stack.SynCookiesSent);
        Assert.DoesNotContain(web.Stack.Connections, c => c.BuffersAllocated);

        // A real client's SYN, after the flood, gets its SYN-ACK, and its ACK makes the connection.
        wires["e0"].Frames.Clear();
        host.Send("e0", TestFrames.Tcp("02:00:00:00:00:01", "192.168.10.20", 80, "192.168.10.1", srcPort: 50000, sequence: 7000));
        var synAck = TestFrames.Parse(wires["e0"].Frames.Last()).Extract<TcpPacket>();
        Assert.True(synAck.Synchronize && synAck.Acknowledgment);
        Assert.Equal(50000, synAck.DestinationPort);
        host.Send("e0", TestFrames.Tcp("02:00:00:00:00:01", "192.168.10.20", 80, "192.168.10.1", srcPort: 50000, syn: false, ack: true,
            sequence: 7001, acknowledgment: (uint)synAck.SequenceNumber + 1, payload: new byte[] { 1, 2, 3 }));
        Assert.True(listener.TryAccept(out var connection));
        Assert.Equal(3, connection.Available);
        Assert.Equal(1, web.Counters.SynCookiesAccepted);
    }

    [Theory]
    [InlineData("255.255.255.255")]
    [InlineData("224.0.0.1")]
    [InlineData("0.0.0.0")]
    [InlineData("240.0.0.9")]
    public void A_smurf_with_a_broadcast_or_multicast_source_gets_no_answer(string source)
    {
        var (host, wires) = TestHost.Build(Topology);
        var web = host.NetworkStack("web");

        host.Send("e0", TestFrames.Udp("02:00:00:00:00:01", "192.168.10.20", 53, new byte[8], srcIp: source), // a closed port: would be port unreachable
            TestFrames.Tcp("02:00:00:00:00:01", "192.168.10.20", 80, source));                          // a closed port: would be RST

        Assert.Empty(wires["e0"].Frames);
        Assert.Equal(2, web.Counters.Dropped(StackDropReason.InvalidSource));
    }

    [Fact]
    public void A_fraggle_sent_as_link_layer_broadcast_gets_no_error_no_reset_and_no_echo()
    {
        var (host, wires) = TestHost.Build(Topology);
        const string broadcast = "ff:ff:ff:ff:ff:ff";

        host.Send("e0", TestFrames.Udp(broadcast, "192.168.10.20", 53, new byte[8]),  // web: closed UDP port
            TestFrames.Tcp(broadcast, "192.168.10.20", 80, "192.168.10.1"),               // web: closed TCP port
            TestFrames.Udp(broadcast, "192.168.10.40", 7, new byte[8]));                  // echo: the guest's UDP echo service

        Assert.Empty(wires["e0"].Frames);
        Assert.Equal(2, host.NetworkStack("web").Counters.Dropped(StackDropReason.PortUnreachable)); // counted, not answered
        Assert.Equal(0, host.VirtualMachine("echo").Counters.UdpEchoesSent);
    }

    [Fact]
    public void A_packet_from_its_subnets_broadcast_address_is_never_answered()
    {
        var (host, wires) = TestHost.Build("""
            host b {
                nic e0 { model simnic-10g; rx-rings 2 }
                container web on e0 { mac 02:00:00:00:00:01; ip 10.0.0.2/24; protocols tcp udp; ports 80 }
            }
            """);
        var web = host.NetworkStack("web");

        host.Send("e0", TestFrames.Udp("02:00:00:00:00:01", "10.0.0.2", 80, new byte[8], srcIp: "10.0.0.255"), // no socket: would be port unreachable
            TestFrames.Tcp("02:00:00:00:00:01", "10.0.0.2", 80, "10.0.0.255"));                               // no listener: would be RST

        Assert.Empty(wires["e0"].Frames);
        Assert.Equal(2, web.Counters.Dropped(StackDropReason.InvalidSource));
        host.Send("e0", TestFrames.Udp("02:00:00:00:00:01", "10.0.0.2", 80, new byte[8], srcIp: "10.0.0.254")); // an ordinary neighbour is answered
        Assert.NotEmpty(wires["e0"].Frames);
    }

    [Fact]
    public void An_echo_loop_between_two_echo_services_is_refused_at_the_guest()
    {
        var (host, wires) = TestHost.Build(Topology);

        // A spoofed datagram "from" another host's echo port (7) to the guest's echo service.
        host.Send("e0", TestFrames.Udp("02:00:00:00:00:03", "192.168.10.40", 7, new byte[8], srcPort: 7));

        Assert.Equal(0, host.VirtualMachine("echo").Counters.UdpEchoesSent); // not bounced back to port 7
        host.Send("e0", TestFrames.Udp("02:00:00:00:00:03", "192.168.10.40", 7, new byte[8], srcPort: 40000));
        Assert.Equal(1, host.VirtualMachine("echo").Counters.UdpEchoesSent); // an ordinary client still is
    }

    [Fact]
    public void Icmp_errors_are_rate_limited_to_a_burst_of_50_then_1000_a_second()
    {
        var clock = new VirtualClock();
        var (host, wires) = TestHost.Build(Topology, clock);
        var web = host.NetworkStack("web");
        web.Stack.AddNeighbor(NetworkAddress.Parse("192.168.10.1"), 0x02_AA_00_00_00_01);
        var closed = TestFrames.Udp("02:00:00:00:00:01", "192.168.10.20", 53, new byte[8]); // declared, no socket

        for (var i = 0; i < 500; i++) host.Nic("e0").Device.Receive(closed); // all at one instant
        host.Pump();
        Assert.Equal(50, wires["e0"].Frames.Count);
        Assert.Equal(450, web.Counters.SendDropped(StackDropReason.RateLimited));
        Assert.Equal(500, web.Counters.Dropped(StackDropReason.PortUnreachable));

        clock.Advance(TimeSpan.FromMilliseconds(10)); // ten more tokens
        for (var i = 0; i < 100; i++) host.Nic("e0").Device.Receive(closed);
        host.Pump();
        Assert.Equal(60, wires["e0"].Frames.Count);
    }

    [Fact]
    public void A_land_syn_from_the_stacks_own_address_is_dropped_and_teaches_it_nothing()
    {
        var (host, wires) = TestHost.Build(Topology);
        var web = host.NetworkStack("web");
        web.Stack.ListenTcp(80);

        host.Send("e0", TestFrames.Tcp("02:00:00:00:00:01", "192.168.10.20", 80, "192.168.10.20", srcPort: 80, srcMac: "02:66:66:66:66:66"));

        Assert.Empty(wires["e0"].Frames);
        Assert.Equal(0, web.Stack.ConnectionCount);
        Assert.Equal(1, web.Counters.Dropped(StackDropReason.InvalidSource));
        // It did not learn its own address at the attacker's MAC: a ping to itself is not sent there.
        web.Stack.SendEchoRequest(NetworkAddress.Parse("192.168.10.20"), 1, 1);
        host.Pump();
        Assert.DoesNotContain(wires["e0"].Frames, f => f[0] == 0x02 && f[1] == 0x66);
    }

    // The guest's MAC as source (the helpers send from the peer's).
    private static byte[] Own(byte[] frame)
    {
        Array.Copy(new byte[] { 2, 0, 0, 0, 0, 2 }, 0, frame, 6, 6);
        return frame;
    }

    private static byte[] QinQ(byte[] frame, int vlan)
    {
        var tagged = TestFrames.Tag(frame, vlan);
        BinaryPrimitives.WriteUInt16BigEndian(tagged.AsSpan(12), 0x88A8);
        return tagged;
    }

    private static (int, int) EthernetHeaderTag(byte[] frame) =>
        (BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(12)), BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(14)) & 0x0FFF);

    private const string Neighbours = """
        host n {
            nic e0 { model simnic-10g; rx-rings 4 }
            vm attacker on e0 { mac 02:00:00:00:00:66; ip 10.1.0.66/24; ip fd01::66/64 }
            vm bare on e0 { mac 02:00:00:00:00:77 }
            container dns on e0 { mac 02:00:00:00:00:20; ip 10.1.0.20/24; ip fd01::20/64; protocols udp; ports 53 }
        }
        """;

    private const ulong AttackerMac = 0x0200_0000_0066UL, DnsMac = 0x0200_0000_0020UL;

    [Fact]
    public void Neighbour_discovery_naming_a_neighbours_address_or_mac_and_router_messages_are_refused()
    {
        // From its own address, a tenant advertised a neighbour's address at its own MAC (a
        // third stack's entry moved to it; unsolicited every 100 ms it black-holed the neighbour
        // for good), claimed a neighbour's tentative address to stop its SLAAC, and advertised
        // itself as everyone's router (found by an adversarial review).
        var (host, wires) = TestHost.Build(Neighbours);
        var attacker = host.VirtualMachine("attacker");
        byte[] Message(byte type, string target, byte option = 0, ulong optionMac = AttackerMac, string source = "fd01::66")
        {
            var icmp = new byte[option == 0 ? 24 : 32];
            icmp[0] = type;
            IPAddress.Parse(target).TryWriteBytes(icmp.AsSpan(8), out _);
            if (option != 0)
            {
                icmp[24] = option;
                icmp[25] = 1;
                Packets.EthernetHeader.WriteMac(icmp.AsSpan(26), optionMac);
            }
            return TestFrames.IcmpV6(AttackerMac, 0x3333_0000_0001UL, source, "ff02::1", 255, icmp);
        }

        Assert.Equal(SendStatus.Spoofed, attacker.Send(Message(136, "fd01::20", option: 2)));                     // the neighbour's address at its MAC
        Assert.Equal(SendStatus.Spoofed, attacker.Send(Message(136, "fd01::66", option: 2, optionMac: DnsMac))); // its own address at the neighbour's MAC
        Assert.Equal(SendStatus.Spoofed, attacker.Send(Message(135, "fd01::20", option: 1, optionMac: DnsMac))); // a question signed with the neighbour's MAC
        Assert.Equal(SendStatus.Spoofed, attacker.Send(Message(135, "fd01::20", source: "::")));                // another's duplicate address detection
        Assert.Equal(SendStatus.Spoofed, attacker.Send(Message(134, "::", option: 1)));                          // a router advertisement (RA guard)
        Assert.Equal(SendStatus.Spoofed, attacker.Send(Message(137, "fd01::20")));                               // a redirect
        var broken = Message(136, "fd01::66", option: 2);
        broken[broken.Length - 7] = 0; // an option of length 0: no receiver reads past it
        Assert.Equal(SendStatus.Spoofed, attacker.Send(broken));

        // Its own: an advertisement of its address at its MAC, a question about anyone's, its own DAD.
        Assert.Equal(SendStatus.Sent, attacker.Send(Message(136, "fd01::66", option: 2)));
        Assert.Equal(SendStatus.Sent, attacker.Send(Message(135, "fd01::20", option: 1)));
        Assert.Equal(SendStatus.Sent, attacker.Send(Message(135, "fd01::66", source: "::")));
        var solicitation = new byte[16]; // a router solicitation: its options from byte 8
        solicitation[0] = 133;
        solicitation[8] = 1;
        solicitation[9] = 1;
        Packets.EthernetHeader.WriteMac(solicitation.AsSpan(10), AttackerMac);
        Assert.Equal(SendStatus.Sent, attacker.Send(TestFrames.IcmpV6(AttackerMac, 0x3333_0000_0002UL, "fd01::66", "ff02::2", 255, solicitation)));
        host.Pump();

        Assert.Equal(7, attacker.Vnic.TransmitCounters.Dropped(DropReason.Spoofed));
        Assert.Equal(4, wires["e0"].Frames.Count(f => Packets.EthernetHeader.ReadMac(f.AsSpan(6)) == AttackerMac));
    }

    [Fact]
    public void A_tenant_cannot_answer_as_a_dhcp_server()
    {
        // DHCP guard: an offer or ACK from a tenant hands its neighbours its router and name servers.
        var (host, _) = TestHost.Build(Neighbours);
        var attacker = host.VirtualMachine("attacker");
        var bootp = new byte[300];
        bootp[0] = 2;
        bootp[1] = 1;
        bootp[2] = 6;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(bootp.AsSpan(236), 0x63825363);
        byte[] From(int port, int to, string source = "10.1.0.66", string destination = "255.255.255.255") =>
            Packets.Frames.Udp(AttackerMac, 0xFFFF_FFFF_FFFFUL, new IPEndPoint(IPAddress.Parse(source), port), new IPEndPoint(IPAddress.Parse(destination), to), bootp);

        Assert.Equal(SendStatus.Spoofed, attacker.Send(From(67, 68)));          // a BOOTREPLY to the clients' port
        Assert.Equal(SendStatus.Spoofed, attacker.Send(From(67, 9)));           // anything from the server port
        Assert.Equal(SendStatus.Spoofed, attacker.Send(From(547, 546, "fd01::66", "ff02::1:2"))); // a DHCPv6 server's
        Assert.Equal(SendStatus.Sent, attacker.Send(From(40000, 9)));
    }

    [Fact]
    public void A_vm_without_addresses_sends_only_from_addresses_it_may_learn()
    {
        // Checked by MAC alone, a VM with no `ip` sent from a neighbour's address and, having
        // answered ARP for it, took the neighbour's replies (found by an adversarial review). It
        // may still send from the unspecified address (DHCP, DAD) and from addresses ending in its
        // MAC's interface identifier (SLAAC, link-local).
        var (host, _) = TestHost.Build(Neighbours);
        var bare = host.VirtualMachine("bare");
        const ulong mac = 0x0200_0000_0077UL;
        byte[] Udp(string source, string destination) =>
            Packets.Frames.Udp(mac, DnsMac, new IPEndPoint(IPAddress.Parse(source), 40000), new IPEndPoint(IPAddress.Parse(destination), 53), new byte[8]);

        Assert.Equal(SendStatus.Spoofed, bare.Send(Udp("10.1.0.66", "10.1.0.20")));
        Assert.Equal(SendStatus.Spoofed, bare.Send(Udp("fd01::66", "fd01::20")));
        Assert.Equal(SendStatus.Spoofed, bare.Send(Packets.Frames.ArpReply(mac, IPAddress.Parse("10.1.0.66"), DnsMac, IPAddress.Parse("10.1.0.20"))));
        Assert.Equal(SendStatus.Sent, bare.Send(Udp("fe80::ff:fe00:77", "fd01::20")));
        Assert.Equal(SendStatus.Sent, bare.Send(Udp("fd01::ff:fe00:77", "fd01::20")));
        Assert.Equal(SendStatus.Sent, bare.Send(Udp("0.0.0.0", "255.255.255.255")));
        Assert.Equal(SendStatus.Spoofed, bare.Send(Packets.Frames.ArpRequest(mac, IPAddress.Any, IPAddress.Parse("10.1.0.20")))); // a probe for the neighbour's address
        Assert.Equal(4, bare.Vnic.TransmitCounters.Dropped(DropReason.Spoofed));
    }

    [Fact]
    public void An_arp_probe_may_ask_only_about_an_address_its_sender_may_take()
    {
        // A probe (RFC 5227, from 0.0.0.0) for a neighbour's address — one a DHCP client is
        // checking before it takes it — made that client decline it (found by an adversarial review).
        var (host, _) = TestHost.Build(Neighbours);
        var attacker = host.VirtualMachine("attacker");
        SendStatus Probe(string target) => attacker.Send(Packets.Frames.ArpRequest(AttackerMac, IPAddress.Any, IPAddress.Parse(target)));

        Assert.Equal(SendStatus.Spoofed, Probe("10.1.0.20"));
        Assert.Equal(SendStatus.Spoofed, Probe("10.1.0.99"));
        Assert.Equal(SendStatus.Sent, Probe("10.1.0.66")); // its own
    }

    // `upper` (protocol `next`) from `source` behind `headers`: the given extension headers, each
    // (type, its bytes), chained in order.
    private static byte[] Ipv6With(ulong mac, string source, string destination, byte next, byte[] upper, params (byte Type, byte[] Bytes)[] headers)
    {
        var body = new List<byte>();
        for (var h = 0; h < headers.Length; h++)
        {
            var bytes = headers[h].Bytes.ToArray();
            bytes[0] = h + 1 < headers.Length ? headers[h + 1].Type : next;
            body.AddRange(bytes);
        }
        body.AddRange(upper);
        var frame = new byte[14 + 40 + body.Count];
        Packets.EthernetHeader.WriteMac(frame, 0x3333_0000_0001UL);
        Packets.EthernetHeader.WriteMac(frame.AsSpan(6), mac);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), 0x86DD);
        frame[14] = 0x60;
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(14 + 4), (ushort)body.Count);
        frame[14 + 6] = headers.Length > 0 ? headers[0].Type : next;
        frame[14 + 7] = 255;
        IPAddress.Parse(source).GetAddressBytes().CopyTo(frame, 14 + 8);
        IPAddress.Parse(destination).GetAddressBytes().CopyTo(frame, 14 + 24);
        body.CopyTo(frame, 14 + 40);
        return frame;
    }

    private static readonly byte[] PadN = [0, 0, 1, 4, 0, 0, 0, 0]; // a destination options header of 8 bytes: PadN of 4

    [Fact]
    public void Router_messages_hidden_behind_extension_headers_or_in_a_fragment_are_refused_and_a_fragmented_datagram_is_not()
    {
        // Past eight extension headers the check gave up ("the stacks drop it") — a peer's stack
        // need not; a router advertisement in a first fragment passed too (found by review).
        var (host, _) = TestHost.Build(Neighbours);
        var attacker = host.VirtualMachine("attacker");
        var advertisement = new byte[16];
        advertisement[0] = 134;
        var options = Enumerable.Repeat(((byte)60, PadN), 9).ToArray();

        Assert.Equal(SendStatus.Spoofed, attacker.Send(Ipv6With(AttackerMac, "fd01::66", "ff02::1", 58, advertisement, options)));
        Assert.Equal(SendStatus.Spoofed, attacker.Send(Ipv6With(AttackerMac, "fd01::66", "ff02::1", 58, advertisement, options[..3])));
        byte[] Fragment(int offset, bool more) => [0, 0, (byte)(offset >> 5), (byte)(offset << 3 | (more ? 1 : 0)), 0, 0, 0, 7];
        Assert.Equal(SendStatus.Spoofed, attacker.Send(Ipv6With(AttackerMac, "fd01::66", "ff02::1", 58, advertisement, ((byte)44, Fragment(0, more: true)))));
        var reply = new byte[16]; // a DHCPv6 answer, from any port, to the clients' port 546
        BinaryPrimitives.WriteUInt16BigEndian(reply, 5470);
        BinaryPrimitives.WriteUInt16BigEndian(reply.AsSpan(2), 546);
        Assert.Equal(SendStatus.Spoofed, attacker.Send(Ipv6With(AttackerMac, "fd01::66", "ff02::1", 17, reply, ((byte)44, Fragment(0, more: true)))));
        // … and behind another header after the fragment header (found by review).
        Assert.Equal(SendStatus.Spoofed, attacker.Send(Ipv6With(AttackerMac, "fd01::66", "ff02::1", 58, advertisement, ((byte)44, Fragment(0, more: true)), ((byte)60, PadN))));
        Assert.Equal(SendStatus.Spoofed, attacker.Send(Ipv6With(AttackerMac, "fd01::66", "ff02::1", 17, reply, ((byte)44, Fragment(0, more: true)), ((byte)60, PadN))));

        // A large datagram of its own, in two fragments, goes.
        var datagram = new byte[16];
        BinaryPrimitives.WriteUInt16BigEndian(datagram, 40000);
        BinaryPrimitives.WriteUInt16BigEndian(datagram.AsSpan(2), 53);
        Assert.Equal(SendStatus.Sent, attacker.Send(Ipv6With(AttackerMac, "fd01::66", "fd01::20", 17, datagram, ((byte)44, Fragment(0, more: true)))));
        Assert.Equal(SendStatus.Sent, attacker.Send(Ipv6With(AttackerMac, "fd01::66", "fd01::20", 17, new byte[16], ((byte)44, Fragment(2, more: false)))));
        // Its own link-local address (its MAC's identifier) is its own too; another is not.
        Assert.Equal(SendStatus.Sent, attacker.Send(Ipv6With(AttackerMac, "fe80::ff:fe00:66", "fd01::20", 17, datagram)));
        Assert.Equal(SendStatus.Spoofed, attacker.Send(Ipv6With(AttackerMac, "fe80::ff:fe00:20", "fd01::20", 17, datagram)));
    }

    [Fact]
    public void A_dhcp_answer_from_any_port_to_the_clients_port_or_a_bootreply_to_the_servers_is_refused()
    {
        var (host, _) = TestHost.Build(Neighbours);
        var attacker = host.VirtualMachine("attacker");
        var reply = new byte[300];
        reply[0] = 2;
        reply[1] = 1;
        reply[2] = 6;
        BinaryPrimitives.WriteUInt32BigEndian(reply.AsSpan(236), 0x63825363);
        byte[] Udp(string source, int port, int to, byte[] payload) =>
            Packets.Frames.Udp(AttackerMac, 0xFFFF_FFFF_FFFFUL, new IPEndPoint(IPAddress.Parse(source), port), new IPEndPoint(IPAddress.Broadcast, to), payload);

        Assert.Equal(SendStatus.Spoofed, attacker.Send(Udp("0.0.0.0", 1067, 68, reply)));      // an offer from another port
        Assert.Equal(SendStatus.Spoofed, attacker.Send(Udp("10.1.0.66", 68, 67, reply)));     // a BOOTREPLY, relayed as it were

        // A request must be a well-formed Ethernet client's, in one piece, naming its own MAC —
        // as chaddr and as the client identifier (option 61), which servers key the lease on.
        byte[] Request(ulong chaddr, ulong? identifier = null, byte hardware = 1)
        {
            var bootp = new byte[300];
            bootp[0] = 1;
            bootp[1] = hardware;
            bootp[2] = 6;
            Packets.EthernetHeader.WriteMac(bootp.AsSpan(28), chaddr);
            BinaryPrimitives.WriteUInt32BigEndian(bootp.AsSpan(236), 0x63825363);
            bootp[240] = 53;
            bootp[241] = 1;
            bootp[242] = 7; // release
            var at = 243;
            if (identifier is { } id)
            {
                bootp[at++] = 61;
                bootp[at++] = 7;
                bootp[at++] = 1;
                Packets.EthernetHeader.WriteMac(bootp.AsSpan(at), id);
                at += 6;
            }
            bootp[at] = 255;
            return Udp("10.1.0.66", 68, 67, bootp);
        }
        const ulong bare = 0x0200_0000_0077UL;
        Assert.Equal(SendStatus.Sent, attacker.Send(Request(AttackerMac)));
        Assert.Equal(SendStatus.Spoofed, attacker.Send(Request(AttackerMac, identifier: bare)));
        Assert.Equal(SendStatus.Spoofed, attacker.Send(Request(bare, hardware: 6)));
        var fragment = Request(bare);
        fragment[14 + 6] = 0x20; // more fragments: a first fragment the check cannot read whole
        Assert.Equal(SendStatus.Spoofed, attacker.Send(fragment));
    }

    [Theory]
    [InlineData("02:aa:00:00:00:09", "224.168.1.104")] // multicast
    [InlineData("02:aa:00:00:00:09", "243.168.1.104")] // class E
    [InlineData("02:aa:00:00:00:09", "0.168.1.104")]   // 0/8, not a probe
    [InlineData("02:aa:00:00:00:09", "127.0.0.5")]     // loopback
    [InlineData("02:aa:00:00:00:09", "10.1.0.255")]    // the subnet's broadcast
    [InlineData("03:aa:00:00:00:09", "10.1.0.9")]      // a group MAC: the reply would reach every host
    public void An_arp_request_from_a_sender_no_host_can_be_is_neither_answered_nor_learned(string mac, string sender)
    {
        var (host, wires) = TestHost.Build(Neighbours);
        var dns = host.NetworkStack("dns");
        var senderMac = BinaryPrimitives.ReadUInt64BigEndian([0, 0, .. TestFrames.Mac(mac).GetAddressBytes()]);

        host.Send("e0", Packets.Frames.ArpRequest(senderMac, IPAddress.Parse(sender), IPAddress.Parse("10.1.0.20")));

        Assert.DoesNotContain(wires["e0"].Frames, f => BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(12)) == 0x0806);
        Assert.Equal(1, dns.Counters.Dropped(StackDropReason.InvalidSource));
        Assert.Equal(0, dns.Stack.NeighborCount);

        // A probe (from 0.0.0.0) and a real neighbour's question are answered.
        host.Send("e0", Packets.Frames.ArpRequest(0x02AA_0000_0009UL, IPAddress.Any, IPAddress.Parse("10.1.0.20")));
        host.Send("e0", Packets.Frames.ArpRequest(0x02AA_0000_0009UL, IPAddress.Parse("10.1.0.9"), IPAddress.Parse("10.1.0.20")));
        Assert.Equal(2, wires["e0"].Frames.Count(f => BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(12)) == 0x0806));
    }

    [Fact]
    public void Broadcast_and_multicast_datagrams_teach_a_stack_no_neighbours_and_a_unicast_one_does()
    {
        // Any IPv4 packet made a stale entry for its source, broadcasts too: a flood of them from
        // made-up sources filled the cache (1,024 entries) and pushed real neighbours out.
        var (host, _) = TestHost.Build(Neighbours);
        var dns = host.NetworkStack("dns").Stack;
        for (var i = 1; i <= 200; i++)
        {
            var mac = 0x02BB_0000_0000UL + (uint)i;
            host.Nic("e0").Device.Receive(Packets.Frames.Udp(mac, 0xFFFF_FFFF_FFFFUL, new IPEndPoint(IPAddress.Parse($"10.1.0.{i}"), 40000), new IPEndPoint(IPAddress.Parse("10.1.0.255"), 53), new byte[8]));
            host.Nic("e0").Device.Receive(Packets.Frames.Udp(mac, 0xFFFF_FFFF_FFFFUL, new IPEndPoint(IPAddress.Parse($"10.1.0.{i}"), 40000), new IPEndPoint(IPAddress.Broadcast, 53), new byte[8]));
        }
        host.Pump();
        Assert.True(host.NetworkStack("dns").Counters.Received >= 400);
        Assert.Equal(0, dns.NeighborCount);

        host.Send("e0", Packets.Frames.Udp(0x02BB_0000_0001UL, DnsMac, new IPEndPoint(IPAddress.Parse("10.1.0.1"), 40000), new IPEndPoint(IPAddress.Parse("10.1.0.20"), 53), new byte[8]));
        Assert.Equal(1, dns.NeighborCount);
    }
}
