using System.Buffers.Binary;
using System.Net;
using NicBypass.Runtime.Stacks;

namespace NicBypass.Runtime.Tests;

/// <summary>
/// <c>ip dhcp</c>: a stack learns its IPv4 address, subnet and router from a DHCP server
/// (RFC 2131), here a hand-made one answering on the NIC's wire, on virtual time.
/// </summary>
public class DhcpClientTests
{
    private const string Topology = """
        host d {
            nic e0 { model simnic-10g; rx-rings 2 }
            vm guest on e0 { mac 02:00:00:00:00:05; ip dhcp }
            container web on e0 { mac 02:00:00:00:00:06; ip dhcp; protocols udp; ports 53 }
        }
        """;

    private const ulong ServerMac = 0x02AA_0000_00FEUL;
    private static readonly IPAddress Server = IPAddress.Parse("10.0.0.254");

    private const int Discover = 1, Offer = 2, Request = 3, Ack = 5, Nak = 6;

    // What a client sent: its messages on the wire (UDP 68 → 67), oldest first.
    private static List<Message> Sent(CapturingWire wire, ulong mac) =>
        wire.Frames.Where(f => f.Length > 14 + 20 + 8 + 240 && BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(12)) == 0x0800
                && f[14 + 9] == 17 && BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(14 + 22)) == 67
                && Packets.EthernetHeader.ReadMac(f.AsSpan(14 + 28 + 28)) == mac)
            .Select(f => new Message(f)).ToList();

    private sealed record Message(byte[] Frame)
    {
        private ReadOnlySpan<byte> Bootp => Frame.AsSpan(14 + 28);
        public uint Xid => BinaryPrimitives.ReadUInt32BigEndian(Bootp.Slice(4));
        public ulong DestinationMac => Packets.EthernetHeader.ReadMac(Frame);
        public IPAddress Source => new(Frame.AsSpan(14 + 12, 4));
        public IPAddress Destination => new(Frame.AsSpan(14 + 16, 4));
        public IPAddress ClientAddress => new(Bootp.Slice(12, 4));
        public bool BroadcastFlag => (Bootp[10] & 0x80) != 0;
        public bool ChecksumValid => Packets.InternetChecksum.ComputeV4(Frame.AsSpan(14 + 12, 4), Frame.AsSpan(14 + 16, 4), 17, Frame.AsSpan(14 + 20, BinaryPrimitives.ReadUInt16BigEndian(Frame.AsSpan(14 + 24)))) == 0;

        public byte[]? Option(byte code)
        {
            var options = Frame.AsSpan(14 + 28 + 240);
            for (var i = 0; i < options.Length && options[i] != 255;)
            {
                if (options[i] == 0) { i++; continue; }
                if (options[i] == code) return options.Slice(i + 2, options[i + 1]).ToArray();
                i += 2 + options[i + 1];
            }
            return null;
        }

        public int Type => Option(53)![0];
    }

    // A server's answer: broadcast (the client asked so), for `mac`'s transaction `xid`.
    private static byte[] Answer(int type, uint xid, ulong mac, string yours, uint lease = 3600, string mask = "255.255.255.0", string? router = "10.0.0.254",
        uint? renew = null, ulong? toMac = null, string to = "255.255.255.255")
    {
        var options = new List<byte> { 53, 1, (byte)type, 54, 4 };
        options.AddRange(Server.GetAddressBytes());
        void Add(byte code, byte[] value) { options.Add(code); options.Add((byte)value.Length); options.AddRange(value); }
        if (type != Nak)
        {
            Add(51, BitConverter.GetBytes(lease).Reverse().ToArray());
            Add(1, IPAddress.Parse(mask).GetAddressBytes());
            if (router is not null) Add(3, IPAddress.Parse(router).GetAddressBytes());
            if (renew is { } t1) Add(58, BitConverter.GetBytes(t1).Reverse().ToArray());
        }
        options.Add(255);
        var bootp = new byte[240 + options.Count];
        bootp[0] = 2;
        bootp[1] = 1;
        bootp[2] = 6;
        BinaryPrimitives.WriteUInt32BigEndian(bootp.AsSpan(4), xid);
        IPAddress.Parse(yours).GetAddressBytes().CopyTo(bootp, 16);
        Packets.EthernetHeader.WriteMac(bootp.AsSpan(28), mac);
        BinaryPrimitives.WriteUInt32BigEndian(bootp.AsSpan(236), 0x63825363);
        options.CopyTo(bootp, 240);
        return Packets.Frames.Udp(ServerMac, toMac ?? 0xFFFF_FFFF_FFFFUL, new IPEndPoint(Server, 67), new IPEndPoint(IPAddress.Parse(to), 68), bootp);
    }

    // Runs the exchange to a lease of `address` for `mac` (the ACK with `lease` and `renew`, at the
    // time of the call; the lease's times count from it), through the ARP check (4 s, nobody
    // answering) to the bound address; the transaction ID.
    private static uint Lease(Virtualization.NetworkHost host, CapturingWire wire, ulong mac, string address, uint lease = 3600, uint? renew = null)
    {
        var xid = Acked(host, wire, mac, address, lease, renew);
        Assert.True(host.RunUntil(() => StackOf(host, mac).DhcpLease is not null, TimeSpan.FromSeconds(10)), "the check ends and the address is taken");
        return xid;
    }

    // Its IPv4 addresses (an `ip dhcp` stack has its IPv6 link-local one too).
    private static List<NetworkAddress> V4(NetworkStack stack) => stack.Addresses.Where(a => !a.IsV6).ToList();

    // The exchange up to the ACK of `address` for `mac` (the address then being checked); the transaction ID.
    [Fact]
    public void From_the_tenth_conflict_in_a_row_the_client_asks_for_an_address_once_a_minute()
    {
        // RFC 5227 2.1.1 (MAX_CONFLICTS 10, RATE_LIMIT_INTERVAL 60 s): a server that keeps
        // offering an address another host holds was asked again 10 s after each decline, for ever.
        var clock = new VirtualClock();
        var (host, wires) = TestHost.Build(Topology, clock);
        var guest = host.VirtualMachine("guest").Stack;
        var wire = wires["e0"];
        const ulong mac = 0x0200_0000_0005UL;
        host.Pump();
        var waits = new List<double>();
        for (var conflict = 1; conflict <= 11; conflict++)
        {
            var xid = Sent(wire, mac).Last(m => m.Type == Discover).Xid;
            wire.Frames.Clear();
            host.Send("e0", Answer(Offer, xid, mac, "10.0.0.50"));
            host.Send("e0", Answer(Ack, xid, mac, "10.0.0.50"));
            host.Send("e0", Packets.Frames.ArpReply(0x02BB_0000_0001UL, IPAddress.Parse("10.0.0.50"), mac, IPAddress.Any));
            Assert.Equal(conflict, guest.Dhcp!.Declined);
            var declinedAt = clock.Nanoseconds;
            wire.Frames.Clear();
            Assert.True(host.RunUntil(() => Sent(wire, mac).Any(m => m.Type == Discover), TimeSpan.FromSeconds(120)));
            waits.Add((clock.Nanoseconds - declinedAt) / 1e9);
        }

        Assert.All(waits.Take(9), w => Assert.InRange(w, 10, 10.01));
        Assert.All(waits.Skip(9), w => Assert.InRange(w, 60, 60.01));
    }

    private static uint Acked(Virtualization.NetworkHost host, CapturingWire wire, ulong mac, string address, uint lease = 3600, uint? renew = null)
    {
        host.Pump();
        var xid = Sent(wire, mac).Single().Xid;
        host.Send("e0", Answer(Offer, xid, mac, address));
        host.Send("e0", Answer(Ack, xid, mac, address, lease: lease, renew: renew));
        return xid;
    }

    // A datagram from `mac` and `source` to the server: what a guest sends once it has an address.
    private static byte[] ToServerFrom(ulong mac, string source) =>
        Packets.Frames.Udp(mac, ServerMac, new IPEndPoint(IPAddress.Parse(source), 9), new IPEndPoint(Server, 9), new byte[8]);

    private static NetworkStack StackOf(Virtualization.NetworkHost host, ulong mac) =>
        host.VirtualMachines.Select(v => v.Stack).Concat(host.NetworkStacks.Select(s => s.Stack)).Single(s => s.Mac == mac);

    // The ARP requests a client sent: (sender IP, target IP, destination MAC).
    private static List<(IPAddress Sender, IPAddress Target, ulong To)> Arps(CapturingWire wire, ulong mac) =>
        wire.Frames.Where(f => BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(12)) == 0x0806 && Packets.EthernetHeader.ReadMac(f.AsSpan(6)) == mac)
            .Select(f => (new IPAddress(f.AsSpan(14 + 14, 4)), new IPAddress(f.AsSpan(14 + 24, 4)), Packets.EthernetHeader.ReadMac(f))).ToList();

    [Fact]
    public void A_vm_discovers_requests_and_is_bound_with_its_subnet_and_router_then_answers_pings()
    {
        var clock = new VirtualClock();
        var (host, wires) = TestHost.Build(Topology, clock);
        var guest = host.VirtualMachine("guest").Stack;
        host.Pump();

        var discover = Assert.Single(Sent(wires["e0"], 0x0200_0000_0005UL));
        Assert.Equal(Discover, discover.Type);
        Assert.Equal(0xFFFF_FFFF_FFFFUL, discover.DestinationMac);
        Assert.Equal(IPAddress.Any, discover.Source);
        Assert.Equal(IPAddress.Broadcast, discover.Destination);
        Assert.True(discover.BroadcastFlag);
        Assert.True(discover.ChecksumValid);
        Assert.Equal(new byte[] { 1, 3, 51, 54, 58, 59 }, discover.Option(55));

        host.Send("e0", Answer(Offer, discover.Xid, 0x0200_0000_0005UL, "10.0.0.50"));
        var request = Sent(wires["e0"], 0x0200_0000_0005UL).Last();
        Assert.Equal(Request, request.Type);
        Assert.Equal(discover.Xid, request.Xid);
        Assert.Equal(IPAddress.Parse("10.0.0.50").GetAddressBytes(), request.Option(50));
        Assert.Equal(Server.GetAddressBytes(), request.Option(54));
        Assert.Empty(V4(guest));

        wires["e0"].Frames.Clear();
        var acked = clock.Nanoseconds;
        host.Send("e0", Answer(Ack, discover.Xid, 0x0200_0000_0005UL, "10.0.0.50"));

        // First the check (RFC 2131 4.4.1, RFC 5227): three ARP probes from 0.0.0.0 a second
        // apart, two seconds more, then the address is taken and announced.
        Assert.Empty(V4(guest));
        Assert.Equal(DhcpState.Checking, guest.Dhcp!.State);
        Assert.True(host.RunUntil(() => guest.DhcpLease is not null, TimeSpan.FromSeconds(10)));
        Assert.InRange((clock.Nanoseconds - acked) / 1e9, 4, 4.01);
        var probe = (IPAddress.Any, IPAddress.Parse("10.0.0.50"), 0xFFFF_FFFF_FFFFUL);
        var announcement = (IPAddress.Parse("10.0.0.50"), IPAddress.Parse("10.0.0.50"), 0xFFFF_FFFF_FFFFUL);
        Assert.Equal(new[] { probe, probe, probe, announcement }, Arps(wires["e0"], 0x0200_0000_0005UL));
        // RFC 5227 2.3: announced twice, ANNOUNCE_INTERVAL (two seconds) apart, then no more.
        Assert.True(host.RunUntil(() => Arps(wires["e0"], 0x0200_0000_0005UL).Count == 5, TimeSpan.FromSeconds(10)));
        Assert.InRange((clock.Nanoseconds - acked) / 1e9, 6, 6.01);
        Assert.Equal(announcement, Arps(wires["e0"], 0x0200_0000_0005UL)[^1]);
        host.RunUntil(() => false, TimeSpan.FromSeconds(20));
        Assert.Equal(5, Arps(wires["e0"], 0x0200_0000_0005UL).Count);
        Assert.Equal(new[] { NetworkAddress.Parse("10.0.0.50") }, V4(guest));
        Assert.Equal((NetworkAddress.Parse("10.0.0.50"), 24), guest.DhcpLease);
        Assert.Equal(new[] { NetworkAddress.Parse("10.0.0.254") }, guest.Gateways);
        Assert.Equal(NetworkAddress.Parse("10.0.0.254"), guest.NextHop(NetworkAddress.Parse("192.0.2.1")));
        Assert.Equal(NetworkAddress.Parse("10.0.0.9"), guest.NextHop(NetworkAddress.Parse("10.0.0.9")));

        wires["e0"].Frames.Clear();
        host.Send("e0", Packets.Frames.EchoRequest("02:aa:00:00:00:01", "02:00:00:00:00:05", "10.0.0.1", "10.0.0.50"));
        Assert.Equal(1, guest.Counters.EchoRepliesSent);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void An_address_another_host_answers_for_or_probes_too_is_declined_and_the_client_starts_over_ten_seconds_later(bool probing)
    {
        var clock = new VirtualClock();
        var (host, wires) = TestHost.Build(Topology, clock);
        var guest = host.VirtualMachine("guest").Stack;
        Acked(host, wires["e0"], 0x0200_0000_0005UL, "10.0.0.50");
        Assert.Single(Arps(wires["e0"], 0x0200_0000_0005UL)); // the first probe
        wires["e0"].Frames.Clear();
        var declinedAt = clock.Nanoseconds;

        // Another host has it (answers the probe, to the prober's MAC), or probes for it as well.
        host.Send("e0", probing
            ? Packets.Frames.ArpRequest(0x02BB_0000_0001UL, IPAddress.Any, IPAddress.Parse("10.0.0.50"))
            : Packets.Frames.ArpReply(0x02BB_0000_0001UL, IPAddress.Parse("10.0.0.50"), 0x0200_0000_0005UL, IPAddress.Any));

        var decline = Sent(wires["e0"], 0x0200_0000_0005UL).Single();
        Assert.Equal(4, decline.Type); // DHCPDECLINE
        Assert.Equal(IPAddress.Broadcast, decline.Destination);
        Assert.Equal(IPAddress.Any, decline.Source);
        Assert.Equal(IPAddress.Parse("10.0.0.50").GetAddressBytes(), decline.Option(50));
        Assert.Equal(Server.GetAddressBytes(), decline.Option(54));
        Assert.Null(decline.Option(55));
        Assert.False(decline.BroadcastFlag); // RFC 2131 table 5: 0 for a DECLINE
        Assert.True(decline.ChecksumValid);
        Assert.Empty(V4(guest));
        Assert.Equal(1, guest.Dhcp!.Declined);

        wires["e0"].Frames.Clear();
        Assert.True(host.RunUntil(() => Sent(wires["e0"], 0x0200_0000_0005UL).Count == 1, TimeSpan.FromSeconds(30)));
        Assert.Equal(Discover, Sent(wires["e0"], 0x0200_0000_0005UL).Single().Type);
        Assert.InRange((clock.Nanoseconds - declinedAt) / 1e9, 10, 10.01);
        Assert.Empty(Arps(wires["e0"], 0x0200_0000_0005UL)); // no more probes of the declined address
    }

    [Fact]
    public void While_checking_other_hosts_arp_about_other_addresses_is_no_conflict()
    {
        var clock = new VirtualClock();
        var (host, wires) = TestHost.Build(Topology, clock);
        var guest = host.VirtualMachine("guest").Stack;
        Acked(host, wires["e0"], 0x0200_0000_0005UL, "10.0.0.50");

        host.Send("e0", Packets.Frames.ArpRequest(0x02BB_0000_0001UL, IPAddress.Parse("10.0.0.9"), IPAddress.Parse("10.0.0.77")), // a question about another
            Packets.Frames.ArpRequest(0x02BB_0000_0001UL, IPAddress.Any, IPAddress.Parse("10.0.0.78")));                       // another's own probe

        Assert.True(host.RunUntil(() => guest.DhcpLease is not null, TimeSpan.FromSeconds(10)));
        Assert.Equal(0, guest.Dhcp!.Declined);
        Assert.Equal(new[] { NetworkAddress.Parse("10.0.0.50") }, V4(guest));
    }

    [Fact]
    public void A_bound_address_another_host_claims_is_defended_once_then_given_up_and_declined()
    {
        var clock = new VirtualClock();
        var (host, wires) = TestHost.Build(Topology, clock);
        var guest = host.VirtualMachine("guest").Stack;
        Lease(host, wires["e0"], 0x0200_0000_0005UL, "10.0.0.50");
        host.RunUntil(() => false, TimeSpan.FromSeconds(3)); // past its second announcement
        wires["e0"].Frames.Clear();
        var claim = Packets.Frames.ArpRequest(0x02BB_0000_0001UL, IPAddress.Parse("10.0.0.50"), IPAddress.Parse("10.0.0.9")); // another MAC, our address as its own

        host.Send("e0", claim);
        Assert.Equal(new[] { (IPAddress.Parse("10.0.0.50"), IPAddress.Parse("10.0.0.50"), 0xFFFF_FFFF_FFFFUL) }, Arps(wires["e0"], 0x0200_0000_0005UL)); // defended: announced
        Assert.Equal(new[] { NetworkAddress.Parse("10.0.0.50") }, V4(guest));

        clock.Advance(TimeSpan.FromSeconds(11)); // past the defence interval: defended again
        host.Send("e0", claim);
        Assert.Equal(2, Arps(wires["e0"], 0x0200_0000_0005UL).Count);
        Assert.Single(V4(guest));

        clock.Advance(TimeSpan.FromSeconds(3)); // within ten seconds of the last defence: it gives way
        host.Send("e0", claim);
        Assert.Empty(V4(guest));
        var decline = Sent(wires["e0"], 0x0200_0000_0005UL).Single();
        Assert.Equal(4, decline.Type);
        Assert.Equal(IPAddress.Parse("10.0.0.50").GetAddressBytes(), decline.Option(50));
        Assert.Equal(1, guest.Dhcp!.Declined);
        Assert.Equal(0, guest.Counters.ArpRepliesSent); // the claim is not a question it answers
    }

    [Fact]
    public void A_frame_waiting_for_a_mac_when_the_lease_goes_is_refused_as_spoofed_not_lost_on_the_answer_to_the_old_address()
    {
        var clock = new VirtualClock();
        var (host, wires) = TestHost.Build(Topology, clock);
        var guest = host.VirtualMachine("guest").Stack;
        Lease(host, wires["e0"], 0x0200_0000_0005UL, "10.0.0.50");
        var socket = guest.BindUdp(5000);
        Assert.Equal(SendStatus.Queued, socket.TrySendTo(NetworkEndpoint.Parse("10.0.0.9", 9), new byte[8])); // waits for 10.0.0.9's MAC
        host.Pump();
        Assert.True(guest.ReleaseDhcpLease()); // the address goes while it waits (as a DHCPRELEASE can)
        host.Pump();
        wires["e0"].Frames.Clear();

        // The answer to the request sent from 10.0.0.50, to its MAC: the waiting frame goes to its
        // VNIC, which refuses it — the address is no longer the guest's to send from (its release
        // went out: DHCP snooping) — and counts it.
        var spoofed = host.VirtualMachine("guest").Vnic.TransmitCounters.Dropped(Accounting.DropReason.Spoofed);
        host.Send("e0", Packets.Frames.ArpReply(0x02BB_0000_0009UL, IPAddress.Parse("10.0.0.9"), 0x0200_0000_0005UL, IPAddress.Parse("10.0.0.50")));

        Assert.DoesNotContain(wires["e0"].Frames, f => BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(12)) == 0x0800 && f[14 + 9] == 17);
        Assert.Equal(spoofed + 1, host.VirtualMachine("guest").Vnic.TransmitCounters.Dropped(Accounting.DropReason.Spoofed));
    }

    [Fact]
    public void A_renewal_takes_its_address_back_without_a_check()
    {
        var clock = new VirtualClock();
        var (host, wires) = TestHost.Build(Topology, clock);
        var guest = host.VirtualMachine("guest").Stack;
        Lease(host, wires["e0"], 0x0200_0000_0005UL, "10.0.0.50", lease: 600, renew: 100);
        wires["e0"].Frames.Clear();
        Assert.True(host.RunUntil(() => Sent(wires["e0"], 0x0200_0000_0005UL).Count == 1, TimeSpan.FromSeconds(200)));
        var renewal = Sent(wires["e0"], 0x0200_0000_0005UL).Single();

        host.Send("e0", Answer(Ack, renewal.Xid, 0x0200_0000_0005UL, "10.0.0.50", lease: 600, renew: 100, toMac: 0x0200_0000_0005UL, to: "10.0.0.50"));

        Assert.Equal(DhcpState.Bound, guest.Dhcp!.State);
        Assert.DoesNotContain(Arps(wires["e0"], 0x0200_0000_0005UL), a => a.Sender.Equals(IPAddress.Any));
        // And an ARP from another host for its address now is a question, answered — not a conflict.
        host.Send("e0", Packets.Frames.ArpRequest(0x02BB_0000_0001UL, IPAddress.Parse("10.0.0.9"), IPAddress.Parse("10.0.0.50")));
        Assert.Equal(0, guest.Dhcp.Declined);
        Assert.Equal(1, guest.Counters.ArpRepliesSent);
        Assert.Equal(new[] { NetworkAddress.Parse("10.0.0.50") }, V4(guest));
    }

    [Fact]
    public void A_container_learns_its_address_the_same_way()
    {
        var (host, wires) = TestHost.Build(Topology, new VirtualClock());
        var web = host.NetworkStack("web").Stack;

        Lease(host, wires["e0"], 0x0200_0000_0006UL, "10.0.0.60");

        Assert.Equal(new[] { NetworkAddress.Parse("10.0.0.60") }, V4(web));
        Assert.Empty(V4(host.VirtualMachine("guest").Stack)); // the other client's answers were not its own
        Assert.True(host.VirtualMachine("guest").Counters.Dropped(StackDropReason.NotForUs) >= 2);
    }

    [Fact]
    public void Unanswered_discovers_go_again_after_4_8_16_32_and_then_every_64_seconds()
    {
        var clock = new VirtualClock();
        var (host, wires) = TestHost.Build(Topology, clock);
        var times = new List<double>();
        var seen = 0;

        host.RunUntil(() =>
        {
            var sent = Sent(wires["e0"], 0x0200_0000_0005UL).Count;
            for (; seen < sent; seen++) times.Add(Math.Round(clock.Nanoseconds / 1e9, 3));
            return times.Count == 7;
        }, TimeSpan.FromSeconds(300));

        Assert.Equal(new[] { 0.0, 4, 12, 28, 60, 124, 188 }, times);
        Assert.All(Sent(wires["e0"], 0x0200_0000_0005UL), m => Assert.Equal(Discover, m.Type));
    }

    [Fact]
    public void A_lease_is_renewed_at_t1_from_its_address_to_the_server()
    {
        var clock = new VirtualClock();
        var (host, wires) = TestHost.Build(Topology, clock);
        var guest = host.VirtualMachine("guest").Stack;
        var bound = clock.Nanoseconds; // the ACK's time: the lease's times count from it
        var xid = Lease(host, wires["e0"], 0x0200_0000_0005UL, "10.0.0.50", lease: 600, renew: 100);
        wires["e0"].Frames.Clear();

        Assert.True(host.RunUntil(() => Sent(wires["e0"], 0x0200_0000_0005UL).Count == 1, TimeSpan.FromSeconds(200)));

        Assert.InRange((clock.Nanoseconds - bound) / 1e9, 100, 100.01);
        var renewal = Sent(wires["e0"], 0x0200_0000_0005UL).Single();
        Assert.Equal(Request, renewal.Type);
        Assert.Equal(ServerMac, renewal.DestinationMac); // learned from the server's answers
        Assert.Equal(Server, renewal.Destination);
        Assert.Equal(IPAddress.Parse("10.0.0.50"), renewal.Source);
        Assert.Equal(IPAddress.Parse("10.0.0.50"), renewal.ClientAddress);
        Assert.Null(renewal.Option(50)); // RFC 2131 4.3.2: renewing names neither address nor server in options
        Assert.NotEqual(xid, renewal.Xid); // a new exchange: a late answer to the first is not taken for it
        host.Send("e0", Answer(Ack, renewal.Xid, 0x0200_0000_0005UL, "10.0.0.50", lease: 600, renew: 100, toMac: 0x0200_0000_0005UL, to: "10.0.0.50"));
        Assert.Equal(DhcpState.Bound, guest.Dhcp!.State);
        Assert.Equal(new[] { NetworkAddress.Parse("10.0.0.50") }, V4(guest));
    }

    [Fact]
    public void A_t1_of_zero_is_set_aside_for_half_the_lease_not_a_renewal_every_round_trip()
    {
        // A server's T1 of 0: the client renewed at once, and again at each ACK, for ever (review).
        var clock = new VirtualClock();
        var (host, wires) = TestHost.Build(Topology, clock);
        var bound = clock.Nanoseconds;
        Lease(host, wires["e0"], 0x0200_0000_0005UL, "10.0.0.50", lease: 600, renew: 0);
        wires["e0"].Frames.Clear();

        Assert.True(host.RunUntil(() => Sent(wires["e0"], 0x0200_0000_0005UL).Count == 1, TimeSpan.FromSeconds(400)));

        Assert.InRange((clock.Nanoseconds - bound) / 1e9, 300, 300.01);
    }

    [Fact]
    public void A_lease_shorter_than_the_clients_least_is_the_vnics_to_send_from_as_long_as_the_client_keeps_it()
    {
        // The client keeps a lease at least 10 s; the VNIC's snooping ended a 4-second one at 4 s,
        // and dropped as spoofed everything sent from it after — its renewals too (review).
        var clock = new VirtualClock();
        var (host, wires) = TestHost.Build(Topology, clock);
        var guest = host.VirtualMachine("guest").Stack;
        Lease(host, wires["e0"], 0x0200_0000_0005UL, "10.0.0.50", lease: 4);
        guest.AddNeighbor(NetworkAddress.Parse("10.0.0.9"), 0x02AA_0000_0009UL);
        host.RunUntil(() => false, TimeSpan.FromSeconds(2)); // the check took 4 s: 6 s from the ACK, past the lease's 4, before the client's 10
        wires["e0"].Frames.Clear();

        Assert.Equal(new[] { NetworkAddress.Parse("10.0.0.50") }, V4(guest));
        guest.BindUdp(7000).TrySendTo(NetworkEndpoint.Parse("10.0.0.9", 9), new byte[8]);
        host.Pump();

        Assert.Equal(0, host.Vnic("guest").TransmitCounters.Dropped(Accounting.DropReason.Spoofed));
        Assert.Contains(wires["e0"].Frames, f => f.Length > 14 + 20 && f[23] == 17 && f[30] == 10 && f[33] == 9);
    }

    [Fact]
    public void A_lease_whose_end_passed_while_the_host_stood_still_is_dropped_not_renewed_from()
    {
        // RFC 2131 4.4.5: at the lease's end the address goes. A clock that jumped past it (a
        // stalled host) sent a renewal, then a rebinding, from the expired address first (review).
        var clock = new VirtualClock();
        var (host, wires) = TestHost.Build(Topology, clock);
        var guest = host.VirtualMachine("guest").Stack;
        Lease(host, wires["e0"], 0x0200_0000_0005UL, "10.0.0.50", lease: 600);
        wires["e0"].Frames.Clear();

        clock.Advance(TimeSpan.FromSeconds(700));
        host.Pump();

        Assert.Empty(V4(guest));
        Assert.DoesNotContain(guest.Dhcp!.State, new[] { DhcpState.Bound, DhcpState.Renewing, DhcpState.Rebinding }); // started over
        Assert.Equal(0, host.Vnic("guest").TransmitCounters.Dropped(Accounting.DropReason.Spoofed)); // nothing went from the expired address
    }

    [Fact]
    public void A_lease_nobody_renews_ends_and_the_address_goes_and_a_nak_starts_over()
    {
        var clock = new VirtualClock();
        var (host, wires) = TestHost.Build(Topology, clock);
        var guest = host.VirtualMachine("guest").Stack;
        var bound = clock.Nanoseconds;
        Lease(host, wires["e0"], 0x0200_0000_0005UL, "10.0.0.50", lease: 400);

        // Renewing from 200 s, rebinding (broadcast) from 350 s, nothing by 400 s: the address goes.
        Assert.True(host.RunUntil(() => V4(guest).Count == 0, TimeSpan.FromSeconds(500)));
        Assert.InRange((clock.Nanoseconds - bound) / 1e9, 400, 400.01);
        var requests = Sent(wires["e0"], 0x0200_0000_0005UL).Where(m => m.Type == Request).Skip(1).ToList();
        Assert.Contains(requests, m => m.Destination.Equals(Server));
        Assert.Contains(requests, m => m.Destination.Equals(IPAddress.Broadcast) && m.ClientAddress.Equals(IPAddress.Parse("10.0.0.50")));
        Assert.Empty(guest.Gateways);
        Assert.Equal(Discover, Sent(wires["e0"], 0x0200_0000_0005UL).Last().Type); // starting over

        // A NAK to a request starts over at once too.
        var again = Sent(wires["e0"], 0x0200_0000_0005UL).Last().Xid;
        host.Send("e0", Answer(Offer, again, 0x0200_0000_0005UL, "10.0.0.51"));
        wires["e0"].Frames.Clear();
        host.Send("e0", Answer(Nak, again, 0x0200_0000_0005UL, "0.0.0.0"));
        host.Pump();
        Assert.Equal(Discover, Sent(wires["e0"], 0x0200_0000_0005UL).Single().Type);
        Assert.Empty(V4(guest));
    }

    [Fact]
    public void A_container_that_declares_ports_hears_its_renewals_unicast_answer()
    {
        var clock = new VirtualClock();
        var (host, wires) = TestHost.Build(Topology, clock);
        var web = host.NetworkStack("web").Stack;
        Lease(host, wires["e0"], 0x0200_0000_0006UL, "10.0.0.60", lease: 600, renew: 100);
        wires["e0"].Frames.Clear();

        Assert.True(host.RunUntil(() => Sent(wires["e0"], 0x0200_0000_0006UL).Count == 1, TimeSpan.FromSeconds(200)));
        var renewal = Sent(wires["e0"], 0x0200_0000_0006UL).Single();
        // RFC 2131 4.1: a renewal (ciaddr set) is answered by unicast to ciaddr:68 — a port `web`
        // does not declare, let in for its `ip dhcp`.
        host.Send("e0", Answer(Ack, renewal.Xid, 0x0200_0000_0006UL, "10.0.0.60", lease: 600, renew: 100, toMac: 0x0200_0000_0006UL, to: "10.0.0.60"));

        Assert.Equal(DhcpState.Bound, web.Dhcp!.State);
        Assert.Equal(0, host.Nic("e0").Device.Counters.Dropped(Accounting.DropReason.NoMatch));
    }

    [Fact]
    public void A_vm_with_a_declared_ipv6_address_and_ip_dhcp_sends_from_its_leased_ipv4_address()
    {
        const string mixed = """
            host m {
                nic e0 { model simnic-10g; rx-rings 2 }
                vm mix on e0 { mac 02:00:00:00:00:07; ip fd00::7; ip dhcp }
            }
            """;
        var (host, wires) = TestHost.Build(mixed, new VirtualClock());
        var mix = host.VirtualMachine("mix");
        Lease(host, wires["e0"], 0x0200_0000_0007UL, "10.0.0.70");

        host.Send("e0", Packets.Frames.EchoRequest("02:aa:00:00:00:01", "02:00:00:00:00:07", "10.0.0.1", "10.0.0.70"));

        Assert.Equal(1, mix.Counters.EchoRepliesSent);
        Assert.Equal(0, mix.Vnic.TransmitCounters.Dropped(Accounting.DropReason.Spoofed)); // the leased address is its own
        Assert.Contains(NetworkAddress.Parse("fd00::7"), mix.Stack.Addresses);
    }

    [Fact]
    public void A_lease_counts_from_the_request_not_from_a_slow_servers_ack()
    {
        // RFC 2131 4.4.1: the lease's end is the original request's time plus the lease. A server
        // that answers 5 s late has started the lease at the request: counted from its ACK, the
        // client would renew, and give the address up, 5 s after the server thinks it should.
        var clock = new VirtualClock();
        var (host, wires) = TestHost.Build(Topology, clock);
        var wire = wires["e0"];
        const ulong mac = 0x0200_0000_0005UL;
        host.Pump();
        var xid = Sent(wire, mac).Single().Xid;
        host.Send("e0", Answer(Offer, xid, mac, "10.0.0.50")); // the REQUEST goes now
        var requested = clock.Nanoseconds;
        Assert.Equal(Request, Sent(wire, mac).Last().Type);
        clock.Advance(TimeSpan.FromSeconds(5)); // (its retransmission is due later)
        host.Send("e0", Answer(Ack, xid, mac, "10.0.0.50", lease: 60)); // the ACK, 5 s late
        var guest = host.VirtualMachine("guest").Stack;
        Assert.True(host.RunUntil(() => guest.DhcpLease is not null, TimeSpan.FromSeconds(10)));
        wire.Frames.Clear();

        Assert.True(host.RunUntil(() => Sent(wire, mac).Any(m => m.Type == Request), TimeSpan.FromSeconds(60)), "it renews");
        Assert.InRange((clock.Nanoseconds - requested) / 1e9, 30, 30.01); // T1: half the lease from the request
        Assert.True(host.RunUntil(() => V4(guest).Count == 0, TimeSpan.FromSeconds(60)), "the lease ends");
        Assert.InRange((clock.Nanoseconds - requested) / 1e9, 60, 60.01);
    }

    [Fact]
    public void An_ack_with_options_in_its_file_and_sname_fields_and_a_split_mask_is_read_whole()
    {
        // RFC 2132 9.3 (option 52: the file and sname fields hold options too) and RFC 3396 (an
        // option in pieces, joined in order). The message type sits in sname, the lease and
        // router in file, the mask in two pieces: both the client and the VNIC's link protection
        // must read them all — the client to bind, the VNIC to let the leased address send.
        var clock = new VirtualClock();
        var (host, wires) = TestHost.Build(Topology, clock);
        const ulong mac = 0x0200_0000_0005UL;
        var vm = host.VirtualMachine("guest");
        var xid = Acked(host, wires["e0"], mac, "10.0.0.50"); // an ordinary ACK: checking
        Assert.True(host.RunUntil(() => vm.Stack.DhcpLease is not null, TimeSpan.FromSeconds(10)));
        wires["e0"].Frames.Clear();
        Assert.True(host.RunUntil(() => Sent(wires["e0"], mac).Any(m => m.Type == Request), TimeSpan.FromSeconds(3600)), "it renews");
        xid = Sent(wires["e0"], mac).Last().Xid;
        var renewedAt = clock.Nanoseconds;

        var bootp = new byte[300];
        bootp[0] = 2;
        bootp[1] = 1;
        bootp[2] = 6;
        BinaryPrimitives.WriteUInt32BigEndian(bootp.AsSpan(4), xid);
        IPAddress.Parse("10.0.0.50").GetAddressBytes().CopyTo(bootp, 16);
        Packets.EthernetHeader.WriteMac(bootp.AsSpan(28), mac);
        byte[] sname = [53, 1, Ack, 255];
        sname.CopyTo(bootp, 44);
        byte[] file = [51, 4, 0, 0, 0, 120, 3, 4, 10, 0, 0, 253, 255]; // a lease of 120 s, router 10.0.0.253
        file.CopyTo(bootp, 108);
        BinaryPrimitives.WriteUInt32BigEndian(bootp.AsSpan(236), 0x63825363);
        byte[] options = [52, 1, 3, 54, 4, .. Server.GetAddressBytes(), 1, 2, 255, 255, 1, 2, 255, 0, 255]; // 255.255.255.0 in two pieces
        options.CopyTo(bootp, 240);
        host.Send("e0", Packets.Frames.Udp(ServerMac, mac, new IPEndPoint(Server, 67), new IPEndPoint(IPAddress.Parse("10.0.0.50"), 68), bootp));

        Assert.Equal(DhcpState.Bound, vm.Stack.Dhcp!.State);
        Assert.Equal((NetworkAddress.Parse("10.0.0.50"), 24), vm.Stack.DhcpLease);
        Assert.Equal(NetworkAddress.Parse("10.0.0.253"), vm.Stack.Dhcp.Lease!.Router);
        wires["e0"].Frames.Clear();
        Assert.True(host.RunUntil(() => Sent(wires["e0"], mac).Any(m => m.Type == Request), TimeSpan.FromSeconds(3600)), "it renews again");
        // (Nobody here answers the ARP for the server, whose entry the first renewal's unanswered
        // probes removed, so the unicast renewal at T1 never leaves: the broadcast at T2, seven
        // eighths of the 120 s in the file field, is the first seen.)
        Assert.InRange((clock.Nanoseconds - renewedAt) / 1e9, 105, 105.01);

        host.Send("e0", Packets.Frames.EchoRequest("02:aa:00:00:00:fe", "02:00:00:00:00:05", "10.0.0.1", "10.0.0.50"));
        Assert.Equal(1, vm.Counters.EchoRepliesSent);
        Assert.Equal(0, vm.Vnic.TransmitCounters.Dropped(Accounting.DropReason.Spoofed)); // the VNIC read the ACK too
    }

    // The guest leases 10.0.0.50 for 60 s and renews at 30 s; the server's ACK names `address`
    // instead. The wire is cleared just before the ACK.
    private static (Virtualization.NetworkHost Host, CapturingWire Wire, NetworkStack Guest) RenewedWithAnotherAddress(string address)
    {
        var (host, wires) = TestHost.Build(Topology, new VirtualClock());
        var wire = wires["e0"];
        const ulong mac = 0x0200_0000_0005UL;
        Lease(host, wire, mac, "10.0.0.50", lease: 60);
        wire.Frames.Clear();
        Assert.True(host.RunUntil(() => Sent(wire, mac).Any(m => m.Type == Request), TimeSpan.FromSeconds(60)), "it renews");
        var xid = Sent(wire, mac).Last().Xid;
        wire.Frames.Clear();
        host.Send("e0", Answer(Ack, xid, mac, address, lease: 60, toMac: mac, to: "10.0.0.50"));
        return (host, wire, host.VirtualMachine("guest").Stack);
    }

    [Fact]
    public void A_renewal_acknowledged_with_another_address_gives_the_old_up_and_checks_the_new_one()
    {
        // RFC 2131 4.4.1: a client checks an address before it takes it — also one a renewal's
        // ACK names instead of the leased one. It used to take it at once, unchecked.
        var (host, wire, guest) = RenewedWithAnotherAddress("10.0.0.51");
        const ulong mac = 0x0200_0000_0005UL;

        Assert.Empty(V4(guest)); // the old address is the server's again
        Assert.True(host.RunUntil(() => guest.DhcpLease is not null, TimeSpan.FromSeconds(10)), "the check ends and the new address is taken");
        Assert.Equal(NetworkAddress.Parse("10.0.0.51"), guest.DhcpLease!.Value.Address);
        Assert.Equal(new[] { NetworkAddress.Parse("10.0.0.51") }, V4(guest));
        var probes = Arps(wire, mac).Where(a => a.Sender.Equals(IPAddress.Any) && a.Target.Equals(IPAddress.Parse("10.0.0.51"))).ToList();
        Assert.True(probes.Count >= 2, $"{probes.Count} ARP probes of the new address");
    }

    [Fact]
    public void A_renewal_acknowledged_with_an_address_another_host_holds_is_declined()
    {
        var (host, _, guest) = RenewedWithAnotherAddress("10.0.0.51");
        const ulong mac = 0x0200_0000_0005UL;
        host.Send("e0", Packets.Frames.ArpReply(0x02BB_0000_0001UL, IPAddress.Parse("10.0.0.51"), mac, IPAddress.Any)); // someone has it

        Assert.Equal(1, guest.Dhcp!.Declined);
        Assert.Null(guest.DhcpLease);
        Assert.Empty(V4(guest));
    }

    [Fact]
    public void Lease_times_are_kept_in_order_and_a_connection_on_a_lost_address_is_aborted()
    {
        var clock = new VirtualClock();
        var (host, wires) = TestHost.Build(Topology, clock);
        var guest = host.VirtualMachine("guest").Stack;
        // T1 past the lease's end: set aside for half the lease, not an hour.
        var bound = clock.Nanoseconds;
        // A 20 s lease: the SYN below is still being retried when it ends (a SYN is given up after 25.4 s).
        Lease(host, wires["e0"], 0x0200_0000_0005UL, "10.0.0.50", lease: 20, renew: 3600);
        guest.AddNeighbor(NetworkAddress.Parse("10.0.0.9"), 0x02AA_0000_0009UL); // resolved: its SYN leaves, unanswered
        var connection = guest.ConnectTcp(NetworkEndpoint.Parse("10.0.0.9", 80));
        wires["e0"].Frames.Clear();

        Assert.True(host.RunUntil(() => Sent(wires["e0"], 0x0200_0000_0005UL).Count == 1, TimeSpan.FromSeconds(100)));
        Assert.InRange((clock.Nanoseconds - bound) / 1e9, 10, 10.01);
        Assert.True(host.RunUntil(() => V4(guest).Count == 0, TimeSpan.FromSeconds(100)));
        Assert.InRange((clock.Nanoseconds - bound) / 1e9, 20, 20.01);

        Assert.Equal(TcpState.Closed, connection.State);
        Assert.Equal(TcpError.Aborted, connection.Error);
        host.RunUntil(() => false, TimeSpan.FromSeconds(30)); // probes and retries with no address: nothing throws
    }

    [Fact]
    public void A_lease_given_back_sends_a_release_to_the_server_and_the_client_stops()
    {
        var clock = new VirtualClock();
        var (host, wires) = TestHost.Build(Topology, clock);
        var guest = host.VirtualMachine("guest").Stack;
        Lease(host, wires["e0"], 0x0200_0000_0005UL, "10.0.0.50");
        wires["e0"].Frames.Clear();

        Assert.True(guest.ReleaseDhcpLease());
        host.Pump();

        var release = Sent(wires["e0"], 0x0200_0000_0005UL).Single();
        Assert.Equal(7, release.Type); // DHCPRELEASE (RFC 2131 4.4.6)
        Assert.Equal(ServerMac, release.DestinationMac);
        Assert.Equal(Server, release.Destination);
        Assert.Equal(IPAddress.Parse("10.0.0.50"), release.Source);
        Assert.Equal(IPAddress.Parse("10.0.0.50"), release.ClientAddress);
        Assert.Equal(Server.GetAddressBytes(), release.Option(54));
        Assert.True(release.ChecksumValid);
        Assert.Empty(V4(guest));
        Assert.Empty(guest.Gateways);
        // Stopped: nothing more, however long the host runs.
        host.RunUntil(() => false, TimeSpan.FromSeconds(300));
        Assert.Single(Sent(wires["e0"], 0x0200_0000_0005UL));
        Assert.False(guest.ReleaseDhcpLease());
    }

    [Fact]
    public void A_release_its_outbound_queue_refuses_is_counted_as_dropped_not_lost_silently()
    {
        // A container allowed 1 Mbit/s out, with room for four frames waiting for it.
        const string topology = """
            host d {
                nic e0 { model simnic-10g; rx-rings 2 }
                container web on e0 { mac 02:00:00:00:00:06; ip dhcp; protocols udp; ports 53; outbound-bandwidth 1M }
            }
            """;
        var clock = new VirtualClock();
        var (host, wires) = TestHost.Build(topology, clock);
        var web = host.NetworkStack("web");
        Assert.True(host.RunUntil(() => Sent(wires["e0"], 0x0200_0000_0006UL).Count == 1, TimeSpan.FromSeconds(1)), "its DISCOVER waits for credit, then goes");
        Lease(host, wires["e0"], 0x0200_0000_0006UL, "10.0.0.60");
        web.Stack.AddNeighbor(NetworkAddress.Parse("10.0.0.9"), 0x02_00_00_00_00_09);
        var socket = web.Stack.BindUdp();
        // Datagrams fill its outbound queue (a RELEASE goes once: nothing retries it).
        while (socket.TrySendTo(NetworkEndpoint.Parse("10.0.0.9", 9), new byte[1000]) != SendStatus.Blocked) { }
        var dropped = web.Stack.Counters.SendDropped(StackDropReason.OutputBlocked);

        Assert.True(web.Stack.ReleaseDhcpLease());

        Assert.Equal(dropped + 1, web.Stack.Counters.SendDropped(StackDropReason.OutputBlocked));
    }

    [Fact]
    public void A_dhcp_vnic_sends_only_from_the_address_dhcp_leased_it_learned_from_the_ack_it_delivered()
    {
        // DHCP snooping: `ip dhcp` VNICs were checked by MAC alone, so a DHCP guest could send
        // from a neighbour's address and take its replies (found by an adversarial review).
        var clock = new VirtualClock();
        var (host, wires) = TestHost.Build(Topology, clock);
        var guest = host.VirtualMachine("guest");
        const ulong mac = 0x0200_0000_0005UL;
        SendStatus From(string source) =>
            guest.Send(ToServerFrom(mac, source));

        Assert.Equal(SendStatus.Spoofed, From("10.0.0.50")); // nothing leased yet
        Lease(host, wires["e0"], mac, "10.0.0.50");
        Assert.Equal(SendStatus.Sent, From("10.0.0.50"));
        Assert.Equal(SendStatus.Spoofed, From("10.0.0.51"));
        Assert.Equal(SendStatus.Spoofed, From("10.0.0.254")); // the server's own

        // The guest gives the address back (its DHCPRELEASE): it is no longer its to send from.
        Assert.True(guest.Stack.ReleaseDhcpLease());
        host.Pump();
        Assert.Equal(SendStatus.Spoofed, From("10.0.0.50"));
        Assert.Equal(3 + 1, guest.Vnic.TransmitCounters.Dropped(Accounting.DropReason.Spoofed));
    }

    [Fact]
    public void A_nak_takes_back_the_address_the_vnic_learned()
    {
        var clock = new VirtualClock();
        var (host, wires) = TestHost.Build(Topology, clock);
        var guest = host.VirtualMachine("guest");
        const ulong mac = 0x0200_0000_0005UL;
        var xid = Lease(host, wires["e0"], mac, "10.0.0.50");
        var probe = ToServerFrom(mac, "10.0.0.50");
        Assert.Equal(SendStatus.Sent, guest.Send(probe));

        host.Send("e0", Answer(Nak, xid, mac, "0.0.0.0"));

        Assert.Equal(SendStatus.Spoofed, guest.Send(probe));
        // An answer to another MAC teaches this VNIC nothing.
        host.Send("e0", Answer(Ack, xid, 0x0200_0000_0099UL, "10.0.0.50"));
        Assert.Equal(SendStatus.Spoofed, guest.Send(probe));
    }

    [Fact]
    public void A_request_release_or_decline_in_a_neighbours_name_is_refused_and_a_nak_to_a_transaction_it_did_not_begin_is_not_snooped()
    {
        // A tenant asked the server, in the guest's name (its chaddr), for a wrong address: the
        // server's NAK made the guest's VNIC forget a lease the guest still used, and every
        // renewal after was refused (found by review).
        var clock = new VirtualClock();
        var (host, wires) = TestHost.Build(Topology, clock);
        var guest = host.VirtualMachine("guest");
        const ulong mac = 0x0200_0000_0005UL, neighbour = 0x0200_0000_0006UL; // web's
        var xid = Lease(host, wires["e0"], mac, "10.0.0.50");
        byte[] Message(byte type, ulong chaddr, uint transaction, ulong from)
        {
            var bootp = new byte[244];
            bootp[0] = 1;
            bootp[1] = 1;
            bootp[2] = 6;
            BinaryPrimitives.WriteUInt32BigEndian(bootp.AsSpan(4), transaction);
            Packets.EthernetHeader.WriteMac(bootp.AsSpan(28), chaddr);
            BinaryPrimitives.WriteUInt32BigEndian(bootp.AsSpan(236), 0x63825363);
            bootp[240] = 53;
            bootp[241] = 1;
            bootp[242] = type;
            bootp[243] = 255;
            return Packets.Frames.Udp(from, 0xFFFF_FFFF_FFFFUL, new IPEndPoint(IPAddress.Any, 68), new IPEndPoint(IPAddress.Broadcast, 67), bootp);
        }
        var web = host.NetworkStack("web").Vnic;
        foreach (var type in new byte[] { Request, 4, 7 })
        {
            Assert.Equal(SendStatus.Spoofed, web.Transmit(Message(type, mac, 0x1234, from: neighbour))); // the guest's chaddr, from web
            Assert.Equal(SendStatus.Sent, web.Transmit(Message(type, neighbour, 0x1234, from: neighbour)));
        }
        var probe = ToServerFrom(mac, "10.0.0.50");

        // A NAK to a transaction the guest did not begin (the one the server would answer a forged request with): not snooped.
        host.Send("e0", Answer(Nak, 0x1234, mac, "0.0.0.0"));
        Assert.Equal(SendStatus.Sent, guest.Send(probe));
        Assert.Equal(SendStatus.Sent, guest.Send(Message(Request, mac, xid + 1, from: mac))); // its own
    }

    [Fact]
    public void A_lease_whose_time_ran_out_is_no_longer_the_vnics_to_send_from()
    {
        var clock = new VirtualClock();
        var (host, wires) = TestHost.Build(Topology, clock);
        var guest = host.VirtualMachine("guest");
        const ulong mac = 0x0200_0000_0005UL;
        Lease(host, wires["e0"], mac, "10.0.0.50", lease: 600);
        var probe = ToServerFrom(mac, "10.0.0.50");
        Assert.Equal(SendStatus.Sent, guest.Send(probe));

        clock.Advance(TimeSpan.FromSeconds(601)); // nobody renewed it (the server never answered)

        Assert.Equal(SendStatus.Spoofed, guest.Send(probe));
    }
}
