using System.Buffers.Binary;
using System.Net;
using NicBypass.Runtime.Accounting;
using NicBypass.Runtime.Packets;
using NicBypass.Runtime.Rings;
using NicBypass.Runtime.Virtualization;
using PacketDotNet;

namespace NicBypass.Runtime.Tests;

/// <summary>The receive path end to end, on the interpreted host of a .nicdsl topology.</summary>
public class ReceivePathTests
{
    // 4 VNICs on 2 rings: a has hrr0; sr0 on hrr1 serves b (srr0) and, through nested sr1 on
    // srr1, c and d.
    private const string Topology = """
        host h {
            cpus 4
            nic e0 { model simnic-10g; rx-rings 2; ring-size 16; soft-ring-width 2 }
            vm a on e0 { mac 02:00:00:00:00:0a; ip 192.168.10.10/24; ip fd00::a; cpu 1; ring hardware }
            vm b on e0 { mac 02:00:00:00:00:0b; ip 192.168.10.11/24; cpu 2 }
            vm c on e0 { mac 02:00:00:00:00:0c; ip 192.168.10.12/24; ip fd00::c; cpu 3 }
            container d on e0 { mac 02:00:00:00:00:0d; ip 192.168.10.13; vlan 5; cpu 0 }
        }
        """;

    [Fact]
    public void The_plan_is_wired_as_placed()
    {
        var (host, _) = TestHost.Build(Topology);

        Assert.Equal("hrr0", host.Vnic("a").Ring!.Name);
        Assert.Equal("sr0/srr0", host.Vnic("b").Ring!.Name);
        Assert.Equal("sr1/srr0", host.Vnic("c").Ring!.Name);
        Assert.Equal("sr1/srr1", host.Vnic("d").Ring!.Name);
        Assert.Equal(new[] { "sr0", "sr1" }, host.Nic("e0").SoftwareRings.Select(s => s.Id));
    }

    [Fact]
    public void Arp_and_ping_a_vm_on_a_dedicated_hardware_ring()
    {
        var (host, wires) = TestHost.Build(Topology);

        host.Send("e0", TestFrames.ArpRequest("192.168.10.10"));
        var arp = Assert.Single(wires["e0"].Frames.Select(TestFrames.Parse).Select(p => p.Extract<ArpPacket>()), p => p is not null);
        Assert.Equal(ArpOperation.Response, arp.Operation);
        Assert.Equal(IPAddress.Parse("192.168.10.10"), arp.SenderProtocolAddress);
        Assert.Equal(TestFrames.Mac("02:00:00:00:00:0a"), arp.SenderHardwareAddress);
        Assert.Equal(TestFrames.Peer, arp.TargetHardwareAddress);

        wires["e0"].Frames.Clear();
        host.Send("e0", TestFrames.Ping("02:00:00:00:00:0a", "192.168.10.10", id: 42, sequence: 3));
        var reply = TestFrames.Parse(Assert.Single(wires["e0"].Frames));
        var icmp = reply.Extract<IcmpV4Packet>();
        Assert.Equal(IcmpV4TypeCode.EchoReply, icmp.TypeCode);
        Assert.Equal((42, 3), (icmp.Id, icmp.Sequence));
        Assert.True(icmp.ValidIcmpChecksum);
        var ip = reply.Extract<IPv4Packet>();
        Assert.True(ip.ValidIPChecksum);
        Assert.Equal((IPAddress.Parse("192.168.10.10"), TestFrames.PeerIp), (ip.SourceAddress, ip.DestinationAddress));
        Assert.Equal(TestFrames.Peer, reply.Extract<EthernetPacket>().DestinationHardwareAddress);
        host.AssertBalanced();
    }

    [Fact]
    public void Arp_ping_and_neighbour_discovery_reach_a_vm_behind_a_nested_software_ring()
    {
        var (host, wires) = TestHost.Build(Topology);

        host.Send("e0", TestFrames.ArpRequest("192.168.10.12"), TestFrames.Ping("02:00:00:00:00:0c", "192.168.10.12"),
            TestFrames.NeighborSolicitation("fd00::c"), TestFrames.Ping6("02:00:00:00:00:0c", "fd00::c"));

        var packets = wires["e0"].Frames.Select(TestFrames.Parse).ToList();
        Assert.Contains(packets, p => p.Extract<ArpPacket>() is { Operation: ArpOperation.Response } a && a.SenderProtocolAddress.Equals(IPAddress.Parse("192.168.10.12")));
        Assert.Contains(packets, p => p.Extract<IcmpV4Packet>() is { TypeCode: IcmpV4TypeCode.EchoReply, ValidIcmpChecksum: true });
        var advertisement = packets.Select(p => p.Extract<NdpNeighborAdvertisementPacket>()).Single(p => p is not null);
        Assert.Equal(IPAddress.Parse("fd00::c"), advertisement.TargetAddress);
        Assert.True(advertisement.Solicited);
        var echo6 = packets.Select(p => p.Extract<IcmpV6Packet>()).Single(p => p is { Type: IcmpV6Type.EchoReply });
        Assert.True(echo6.ValidIcmpChecksum);
        Assert.True(packets.Select(p => p.Extract<IcmpV6Packet>()).Where(p => p is not null).All(p => p.ValidIcmpChecksum));

        // SRRs raise software interrupts on the VM's processor; HRRs hardware interrupts.
        Assert.True(host.Processors[3].SoftwareInterrupts > 0);
        Assert.Equal(0, host.Processors[3].HardwareInterrupts);
        Assert.Equal(4, host.VirtualMachine("c").Counters.Received);
        host.AssertBalanced();
    }

    [Fact]
    public void A_vm_echoes_udp_datagrams_with_ports_swapped()
    {
        var (host, wires) = TestHost.Build(Topology);

        host.Send("e0", TestFrames.Udp("02:00:00:00:00:0b", "192.168.10.11", 7, "hello"u8.ToArray(), srcPort: 5555));

        var reply = TestFrames.Parse(Assert.Single(wires["e0"].Frames));
        var udp = reply.Extract<UdpPacket>();
        Assert.Equal((7, 5555), (udp.SourcePort, udp.DestinationPort));
        Assert.Equal("hello"u8.ToArray(), udp.PayloadData);
        Assert.True(udp.ValidUdpChecksum);
        Assert.Equal(1, host.VirtualMachine("b").Counters.UdpEchoesSent);
    }

    [Fact]
    public void Broadcast_is_replicated_to_every_vnic_in_its_vlan_only()
    {
        var (host, _) = TestHost.Build(Topology);
        var d = host.NetworkStack("d");

        host.Send("e0", TestFrames.ArpRequest("192.168.10.99"));

        Assert.Equal(new long[] { 1, 1, 1, 0 }, host.Vnics.Select(v => v.Counters.Delivered));
        Assert.Equal(0, d.Counters.Received);

        host.Send("e0", TestFrames.Tag(TestFrames.ArpRequest("192.168.10.99"), 5));
        Assert.Equal(new long[] { 1, 1, 1, 1 }, host.Vnics.Select(v => v.Counters.Delivered));
        host.AssertBalanced();
    }

    [Fact]
    public void An_untagged_broadcast_is_one_slot_all_its_rings_hold_a_tagged_one_a_copy_each()
    {
        var (host, _) = TestHost.Build(Topology);
        var device = host.Nic("e0").Device;
        var pool = device.Pool;
        var free = pool.Available;

        // Nothing runs yet: the broadcast waits on hrr0 (a) and hrr1 (the software rings behind it).
        device.Receive(TestFrames.ArpRequest("192.168.10.99"));
        Assert.Equal(free - 1, pool.Available); // copied for each ring: free - 2
        host.Pump(); // on through sr0 and sr1 to b and c, the same slot all the way; each returns it
        Assert.Equal(new long[] { 1, 1, 1, 0 }, host.Vnics.Select(v => v.Counters.Delivered));
        Assert.Equal(free, pool.Available);

        // A tagged frame is copied for each ring (a VNIC strips the tag in place), and every copy comes back.
        device.Receive(TestFrames.Tag(TestFrames.ArpRequest("192.168.10.99"), 5));
        Assert.Equal(free - 2, pool.Available);
        host.Pump();
        Assert.Equal(new long[] { 1, 1, 1, 1 }, host.Vnics.Select(v => v.Counters.Delivered));
        Assert.Equal(free, pool.Available);
        host.AssertBalanced();
    }

    [Fact]
    public void A_broadcast_behind_a_0x9100_tag_reaches_every_vnic_as_it_came_none_sees_anothers_strip()
    {
        // (Review) 0x9100 is a tag a VNIC strips in place, though the header reader does not count
        // it as one: shared as an untagged frame, the first VNIC's strip garbled the others' copy.
        var (host, _) = TestHost.Build(Topology);
        var seen = new Dictionary<string, byte[]>();
        foreach (var vnic in host.Vnics) vnic.Tap = (v, frame) => seen[v.Name] = frame.ToArray();
        var frame = TestFrames.ArpRequest("192.168.10.99");
        var tagged = new byte[frame.Length + 4];
        frame.AsSpan(0, 12).CopyTo(tagged);
        BinaryPrimitives.WriteUInt16BigEndian(tagged.AsSpan(12), 0x9100);
        frame.AsSpan(12).CopyTo(tagged.AsSpan(16));
        var free = host.Nic("e0").Device.Pool.Available;

        host.Send("e0", tagged);

        Assert.Equal(new[] { "a", "b", "c" }, seen.Keys.Order());
        Assert.All(seen.Values, f => Assert.Equal(seen["a"], f));
        Assert.Equal(free, host.Nic("e0").Device.Pool.Available);
    }

    [Fact]
    public void A_tap_that_pumps_from_inside_the_datapath_is_refused_with_a_clear_error()
    {
        // (Review) A nested pump ran the processor again in the middle of its own step.
        var (host, _) = TestHost.Build(Topology);
        host.Vnic("a").Tap = (_, _) => host.Pump();

        var nested = Assert.Throws<InvalidOperationException>(() => host.Send("e0", TestFrames.Ping("02:00:00:00:00:0a", "192.168.10.10")));

        Assert.Contains("not re-entrant", nested.Message);
        host.Vnic("a").Tap = null;
        var delivered = host.Vnic("a").Counters.Delivered;
        host.Send("e0", TestFrames.Ping("02:00:00:00:00:0a", "192.168.10.10")); // the host goes on
        Assert.Equal(delivered + 1, host.Vnic("a").Counters.Delivered);
    }

    [Fact]
    public void A_vlan_vnic_takes_frames_tagged_with_its_vlan_with_the_tag_removed()
    {
        var (host, _) = TestHost.Build(Topology);
        byte[]? seen = null;
        host.Vnic("d").Tap = (_, frame) => seen = frame.ToArray();
        var frame = TestFrames.Udp("02:00:00:00:00:0d", "192.168.10.13", 53, new byte[10]);

        host.Send("e0", TestFrames.Tag(frame, 5));
        Assert.Equal(frame, seen);

        host.Send("e0", frame, TestFrames.Tag(frame, 6), TestFrames.Tag(TestFrames.Ping("02:00:00:00:00:0a", "192.168.10.10"), 5));
        Assert.Equal(1, host.Vnic("d").Counters.Delivered);
        // simnic-10g cannot match VLANs: the VNICs check them in software and drop the rest as no-match.
        Assert.Equal(2, host.Vnic("d").Counters.Dropped(DropReason.NoMatch));
        Assert.Equal(1, host.Vnic("a").Counters.Dropped(DropReason.NoMatch));
        Assert.Equal(0, host.Nic("e0").Device.Counters.Dropped(DropReason.NoMatch));
    }

    [Fact]
    public void A_full_ring_drops_exactly_the_overflow()
    {
        var (host, _) = TestHost.Build(Topology);
        var device = host.Nic("e0").Device;
        var frame = TestFrames.Udp("02:00:00:00:00:0a", "192.168.10.10", 9, new byte[18]);

        for (var i = 0; i < 20; i++) device.Receive(frame);
        host.Pump();

        var a = host.Vnic("a");
        Assert.Equal(20, a.Counters.Received);
        Assert.Equal(16, a.Counters.Delivered);
        Assert.Equal(4, a.Counters.Dropped(DropReason.RingFull));
        Assert.Equal(4, a.Ring!.Counters.Dropped(DropReason.RingFull));
        host.AssertBalanced();
    }

    [Fact]
    public void A_full_software_receive_ring_charges_the_drop_to_its_vnic()
    {
        var (host, _) = TestHost.Build(Topology);
        var device = host.Nic("e0").Device;
        var frame = TestFrames.Udp("02:00:00:00:00:0c", "192.168.10.12", 9, new byte[18]);

        // hrr1 holds 16; servicing it moves them through sr0 and sr1 into c's SRR (16 too).
        for (var i = 0; i < 16; i++) device.Receive(frame);
        host.Processors[1].RunOnce(); // hrr1's interrupt goes to processor 1 (ring index % cpus)
        for (var i = 0; i < 16; i++) device.Receive(frame);
        host.Pump();

        var c = host.Vnic("c");
        Assert.Equal(32, c.Counters.Received);
        Assert.Equal(c.Counters.Received, c.Counters.Delivered + c.Counters.Dropped(DropReason.RingFull));
        host.AssertBalanced();
    }

    [Fact]
    public void A_full_software_receive_ring_behind_nested_software_rings_is_the_vnics_drop_not_the_software_rings()
    {
        var (host, _) = TestHost.Build(Topology);
        var device = host.Nic("e0").Device;
        var frame = TestFrames.Udp("02:00:00:00:00:0c", "192.168.10.12", 9, new byte[18]);

        // hrr1 → sr0 (cpu 1) → sr1 (cpu 0) → c's SRR; c's own processor (cpu 3) does not run, so
        // the second 16 find c's 16-slot SRR full.
        for (var round = 0; round < 2; round++)
        {
            for (var i = 0; i < 16; i++) device.Receive(frame);
            host.Processors[1].RunOnce();
            host.Processors[0].RunOnce();
        }
        host.Pump();

        var c = host.Vnic("c");
        Assert.Equal(32, c.Counters.Received);
        Assert.Equal(16, c.Counters.Delivered);
        Assert.Equal(16, c.Counters.Dropped(DropReason.RingFull));
        Assert.All(host.Nic("e0").SoftwareRings, s => Assert.Equal(0, s.Counters.DroppedTotal));
        var nic = Assert.Single(host.Report().Nics);
        Assert.Equal(nic.Vnics.Sum(v => v.Received), nic.Received - nic.Dropped.Sum(d => d.Value) + nic.Replicated);
    }

    [Fact]
    public void Frames_still_above_a_vnics_ring_count_as_queued_so_a_report_mid_run_adds_up()
    {
        var (host, _) = TestHost.Build(Topology);
        var device = host.Nic("e0").Device;

        // Nothing runs: c's frames wait on hrr1, above sr0 and sr1; a broadcast waits there too.
        for (var i = 0; i < 5; i++) device.Receive(TestFrames.Udp("02:00:00:00:00:0c", "192.168.10.12", 9, new byte[18]));
        device.Receive(TestFrames.ArpRequest("192.168.10.99"));

        var nic = Assert.Single(host.Report().Nics);
        var c = nic.Vnics.Single(v => v.Name == "c");
        Assert.Equal(6, c.Received);
        Assert.Equal(6, c.Queued);
        foreach (var v in nic.Vnics) Assert.Equal(v.Received, v.Delivered + v.Dropped.Sum(d => d.Value) + v.Queued);
        Assert.Equal(nic.Vnics.Sum(v => v.Received), nic.Received - nic.Dropped.Sum(d => d.Value) + nic.Replicated - nic.Queued);
    }

    [Fact]
    public void Runts_cut_vlan_tags_and_oversize_frames_are_counted_never_thrown()
    {
        var (host, _) = TestHost.Build(Topology);
        var device = host.Nic("e0").Device;
        var cutTag = new byte[16];
        BinaryPrimitives.WriteUInt16BigEndian(cutTag.AsSpan(12), 0x8100);

        host.Send("e0", Array.Empty<byte>(), new byte[13], cutTag, new byte[1519], TestFrames.Udp("02:00:00:00:00:99", "192.168.10.99", 1, new byte[1]));

        Assert.Equal(5, device.Counters.Received);
        Assert.Equal(3, device.Counters.Dropped(DropReason.Malformed));
        Assert.Equal(1, device.Counters.Dropped(DropReason.Oversize));
        Assert.Equal(1, device.Counters.Dropped(DropReason.NoMatch));
    }

    [Fact]
    public void A_frame_damaged_above_layer_2_still_reaches_its_vnic_and_is_judged_by_the_guest()
    {
        var (host, _) = TestHost.Build(Topology);
        var frame = TestFrames.Ping("02:00:00:00:00:0a", "192.168.10.10");
        frame[14 + 10] ^= 0xFF; // break the IPv4 header checksum

        host.Send("e0", frame);

        Assert.Equal(1, host.Vnic("a").Counters.Delivered);
        Assert.Equal(1, host.VirtualMachine("a").Counters.Malformed);
    }

    [Fact]
    public void Hardware_rings_interrupt_the_processor_bound_to_their_vm()
    {
        var (host, _) = TestHost.Build(Topology);

        host.Send("e0", TestFrames.Ping("02:00:00:00:00:0a", "192.168.10.10"));

        Assert.Equal(1, host.Processors[1].HardwareInterrupts);
        Assert.Equal(InterruptKind.Hardware, host.Vnic("a").Ring!.InterruptKind);
        Assert.Equal(1, host.Vnic("a").Ring!.Interrupts);
    }

    [Fact]
    public void Polling_mode_leaves_frames_in_the_ring_until_the_consumer_polls()
    {
        const string topology = """
            host p {
                nic e0 { model simnic-100g; rx-rings 2 }
                container web on e0 { mac 02:00:00:00:01:01; ip 10.0.0.1; protocols udp; ports 53; bandwidth 1G; mode polling }
                container db on e0 { mac 02:00:00:00:01:02; ip 10.0.0.2; mode interrupt }
            }
            """;
        var (host, _) = TestHost.Build(topology);
        var web = host.Vnic("web");
        var device = host.Nic("e0").Device;
        var frame = TestFrames.Udp("02:00:00:00:01:01", "10.0.0.1", 53, new byte[20]);

        for (var i = 0; i < 5; i++) device.Receive(frame);

        Assert.False(web.Ring!.InterruptsEnabled);
        Assert.Equal(5, web.Ring.Count);
        Assert.Equal(0, web.Ring.Interrupts);
        Assert.Equal(0, host.NetworkStack("web").Counters.Received);

        host.Pump();
        Assert.Equal(0, web.Ring.Count);
        Assert.Equal(5, host.NetworkStack("web").Counters.Received);
        Assert.True(host.Vnic("db").Ring!.InterruptsEnabled);
    }

    [Fact]
    public void Reverse_bits_places_the_frame_bit_reversed_in_vm_memory_and_ping_still_works()
    {
        const string topology = """
            host r {
                nic e0 { model simnic-1g; rx-rings 1 }
                vm g on e0 { mac 02:00:00:00:02:01; ip 10.1.0.1; transform reverse-bits }
            }
            """;
        var (host, wires) = TestHost.Build(topology);
        var ping = TestFrames.Ping("02:00:00:00:02:01", "10.1.0.1");

        host.Send("e0", ping);

        var memory = host.VirtualMachine("g").Memory.LastFrame.ToArray();
        Assert.Equal(ping.Select(BitReversal.Reverse), memory);
        Assert.NotEqual(ping, memory);
        var reply = TestFrames.Parse(Assert.Single(wires["e0"].Frames)).Extract<IcmpV4Packet>();
        Assert.Equal(IcmpV4TypeCode.EchoReply, reply.TypeCode);
    }

    [Fact]
    public void A_vlan_vm_replies_with_its_tag()
    {
        const string topology = """
            host v {
                nic e0 { model simnic-100g; rx-rings 1 }
                vm g on e0 { mac 02:00:00:00:03:01; ip 10.2.0.1; vlan 42 }
            }
            """;
        var (host, wires) = TestHost.Build(topology);

        host.Send("e0", TestFrames.Tag(TestFrames.Ping("02:00:00:00:03:01", "10.2.0.1"), 42));

        var reply = Assert.Single(wires["e0"].Frames);
        Assert.Equal(0x8100, BinaryPrimitives.ReadUInt16BigEndian(reply.AsSpan(12)));
        Assert.Equal(42, BinaryPrimitives.ReadUInt16BigEndian(reply.AsSpan(14)) & 0xFFF);
    }

    [Fact]
    public void A_dhcp_vm_answers_once_it_has_learned_its_address()
    {
        const string topology = """
            host d {
                nic e0 { model simnic-1g; rx-rings 1 }
                vm g on e0 { mac 02:00:00:00:04:01; ip dhcp }
            }
            """;
        var (host, wires) = TestHost.Build(topology, new VirtualClock());
        var ping = TestFrames.Ping("02:00:00:00:04:01", "10.3.0.7");
        host.Pump();
        wires["e0"].Frames.Clear(); // its DHCP DISCOVER (DhcpClientTests), unanswered here

        host.Send("e0", ping);
        Assert.Empty(wires["e0"].Frames);
        Assert.Equal(1, host.VirtualMachine("g").Counters.Ignored);

        host.VirtualMachine("g").AssignAddress(IPAddress.Parse("10.3.0.7"));
        host.Send("e0", ping);
        Assert.Single(wires["e0"].Frames);
    }
}
