using System.Buffers.Binary;
using System.Net;
using NicBypass.Runtime.Accounting;
using NicBypass.Runtime.Classification;
using NicBypass.Runtime.Devices;
using NicBypass.Runtime.Stacks;
using NicBypass.Runtime.Virtualization;

namespace NicBypass.Runtime.Tests;

/// <summary>docs/architecture.md § Classification as advertised: what each model's classifier matches, group membership, and the fallback to software classification.</summary>
public class ClassificationAsAdvertisedTests
{
    [Fact]
    public void A_declared_multicast_group_reaches_its_members_sockets_and_other_groups_reach_nobody()
    {
        var (host, _) = TestHost.Build("""
            host h {
                nic e0 { model simnic-100g; rx-rings 4 }
                container mdns on e0 { mac 02:00:00:00:00:01; ip 10.0.0.1; ip fd00::5; protocols udp; ports 5353; multicast 224.0.0.251 ff02::fb }
                container other on e0 { mac 02:00:00:00:00:02; ip 10.0.0.2; protocols udp; ports 5353 }
            }
            """);
        var mdns = host.NetworkStack("mdns").Stack.BindUdp(5353);
        var other = host.NetworkStack("other").Stack.BindUdp(5353);

        host.Send("e0",
            TestFrames.Udp("01:00:5e:00:00:fb", "224.0.0.251", 5353, new byte[12]),
            TestFrames.Udp("33:33:00:00:00:fb", "ff02::fb", 5353, new byte[12]),
            TestFrames.Udp("01:00:5e:00:00:fc", "224.0.0.252", 5353, new byte[12]),                   // nobody joined 224.0.0.252
            TestFrames.Udp("01:80:c2:00:00:00", "224.0.0.1", 5353, new byte[12]));                    // an STP group: nobody's

        Assert.Equal(2, mdns.Pending);
        Assert.Equal(0, other.Pending);
        Assert.Equal(0, host.Vnic("other").Counters.Received);
        Assert.Equal(2, host.Nic("e0").Device.Counters.Dropped(DropReason.NoMatch));
    }

    [Theory]
    [InlineData("simnic-1g")]   // MAC only: the VNIC checks the rest in software
    [InlineData("simnic-100g")] // MAC, IP, VLAN and port in hardware: but a group frame is copied to every member whatever its port
    public void A_broadcast_or_multicast_datagram_to_a_port_a_container_does_not_declare_never_reaches_its_stack(string model)
    {
        // docs/dsl.md: frames to any other port never reach its stack. Broadcasts did, on every
        // model, and were counted port-unreachable by the VNS (found by a new user's drive: NBNS to UDP 137).
        var (host, _) = TestHost.Build($$"""
            host h {
                nic e0 { model {{model}}; rx-rings 2 }
                container me on e0 { mac 02:00:00:00:00:01; ip 10.0.0.1/24; protocols udp; ports 53; multicast 224.0.0.251 }
                vm plain on e0 { mac 02:00:00:00:00:02; ip 10.0.0.2/24 }
            }
            """);
        var dns = host.NetworkStack("me").Stack.BindUdp(53);
        var me = host.Vnic("me");

        host.Send("e0",
            TestFrames.Udp("ff:ff:ff:ff:ff:ff", "10.0.0.255", 137, new byte[12]),        // NBNS: undeclared
            TestFrames.Udp("01:00:5e:00:00:fb", "224.0.0.251", 5353, new byte[12]),      // mDNS: undeclared
            TestFrames.Udp("ff:ff:ff:ff:ff:ff", "10.0.0.255", 53, new byte[12]),         // declared
            TestFrames.Udp("ff:ff:ff:ff:ff:ff", "10.0.0.255", 50000, new byte[12]),      // ephemeral: the stack judges it
            TestFrames.ArpRequest("10.0.0.1"));                                          // no port at all

        Assert.Equal(5, me.Counters.Received);
        Assert.Equal(2, me.Counters.Dropped(DropReason.NoMatch));
        Assert.Equal(3, me.Counters.Delivered);
        Assert.Equal(1, dns.Pending);
        Assert.Equal(1, host.NetworkStack("me").Counters.Dropped(StackDropReason.PortUnreachable)); // only the ephemeral one
        Assert.Equal(4, host.Vnic("plain").Counters.Delivered); // a VM declares no ports: its guest judges every broadcast (the mDNS group is not its)
        host.Report().AssertAddsUp();
    }

    [Fact]
    public void An_ipv6_first_fragment_to_an_undeclared_port_is_checked_as_a_whole_datagram_is()
    {
        // Its ports sit behind the fragment header: it passed unchecked, where IPv4's first
        // fragment is checked (found by review). A multicast to all nodes, UDP 4660 → 5000.
        var (host, _) = TestHost.Build("""
            host h {
                nic e0 { model simnic-100g; rx-rings 2 }
                container web on e0 { mac 02:00:00:00:00:10; ip 10.0.0.20/24; ip fd00::20; protocols udp; ports 53 }
            }
            """);
        var firstFragment = Convert.FromHexString("33330000000102000000009986dd6000000000202cfffe800000000000000000000000000099ff02000000000000000000000000000111000001000012341388008903f0000079797979797979797979797979797979");

        host.Send("e0", firstFragment);

        Assert.Equal(1, host.Vnic("web").Counters.Received);
        Assert.Equal(1, host.Vnic("web").Counters.Dropped(DropReason.NoMatch));
    }

    [Fact]
    public void A_neighbour_solicitation_reaches_only_the_vnic_whose_solicited_node_group_it_is_sent_to()
    {
        var (host, wires) = TestHost.Build("""
            host h {
                nic e0 { model simnic-10g; rx-rings 4 }
                vm a on e0 { mac 02:00:00:00:00:0a; ip fd00::a }
                vm b on e0 { mac 02:00:00:00:00:0b; ip fd00::b }
            }
            """);

        host.Send("e0", TestFrames.NeighborSolicitation("fd00::a"));

        Assert.Equal(1, host.Vnic("a").Counters.Received);
        Assert.Equal(0, host.Vnic("b").Counters.Received);
        Assert.Single(wires["e0"].Frames); // a's advertisement
    }

    [Fact]
    public void A_hop_by_hop_header_does_not_hide_an_undeclared_port_from_the_hardware()
    {
        var (host, _) = TestHost.Build("""
            host h {
                nic e0 { model simnic-100g; rx-rings 2 }
                container c on e0 { mac 02:00:00:00:00:01; ip fd00::1; protocols udp; ports 53 }
            }
            """);
        var plain = TestFrames.Udp("02:00:00:00:00:01", "fd00::1", 9999, new byte[8]);

        host.Send("e0", WithHopByHop(plain), WithHopByHop(TestFrames.Udp("02:00:00:00:00:01", "fd00::1", 53, new byte[8])));

        Assert.Equal(1, host.Nic("e0").Device.Counters.Dropped(DropReason.NoMatch));
        Assert.Equal(1, host.Vnic("c").Counters.Received);
    }

    [Theory]
    [InlineData("simnic-1g", false)]
    [InlineData("simnic-10g", false)]
    [InlineData("simnic-100g", true)]
    public void A_frame_to_an_undeclared_port_is_dropped_in_hardware_where_the_model_matches_ports_else_by_the_vnic_at_a_cost(string model, bool inHardware)
    {
        var (host, _) = TestHost.Build($$"""
            host h {
                nic e0 { model {{model}}; rx-rings 2 }
                container c on e0 { mac 02:00:00:00:00:01; ip 10.0.0.1; protocols tcp; ports 80 }
            }
            """, new VirtualClock());
        host.Costs = CostTable.Default;
        var frame = TestFrames.Udp("02:00:00:00:00:01", "10.0.0.1", 80, new byte[8]); // UDP: not a declared protocol
        for (var i = 0; i < 100; i++)
        {
            host.RunTo(i * 20_000L);
            host.Nic("e0").Device.Offer(frame);
        }
        host.RunTo(5_000_000);

        var busy = host.Processors.Sum(p => p.BusyNanoseconds);
        if (inHardware)
        {
            Assert.Equal(100, host.Nic("e0").Device.Counters.Dropped(DropReason.NoMatch));
            Assert.Equal(0, busy); // no processor ever saw them
        }
        else
        {
            Assert.Equal(100, host.Vnic("c").Counters.Dropped(DropReason.NoMatch));
            Assert.True(busy >= 100 * CostTable.Default.ClassifyNanoseconds, $"busy {busy} ns");
        }
        Assert.Equal(0, host.NetworkStack("c").Counters.Received);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // sorted into flows first
    public void The_vnics_port_check_of_group_frames_is_charged_where_the_nic_matches_ports_in_hardware(bool flows)
    {
        // A broadcast is copied to every member whatever its port, so even on a NIC that matches
        // ports the VNIC checks group frames in software — and that check cost the processor
        // nothing (the charge was made only for VNICs whose NIC could not match the port).
        var (host, _) = TestHost.Build($$"""
            host h {
                nic e0 { model simnic-100g; rx-rings 2 }
                container c on e0 { mac 02:00:00:00:00:01; ip 10.0.0.1; protocols udp; ports 53 }
                {{(flows ? "flow dns on c { transport udp; local-port 53 }" : "")}}
            }
            """, new VirtualClock());
        host.Costs = new CostTable(InterruptNanoseconds: 0, PollNanoseconds: 0, FrameNanoseconds: 0, CopyNanosecondsPerByte: 0, ClassifyNanoseconds: 1_000, StackNanoseconds: 0);
        for (var i = 0; i < 100; i++)
        {
            host.RunTo(i * 20_000L);
            host.Nic("e0").Device.Offer(TestFrames.Udp("ff:ff:ff:ff:ff:ff", "10.0.0.255", (ushort)(i % 2 == 0 ? 137 : 53), new byte[8]));
        }
        host.RunTo(5_000_000);

        Assert.Equal(50, host.Vnic("c").Counters.Dropped(DropReason.NoMatch)); // the 137s
        Assert.Equal(100 * 1_000, host.Processors.Sum(p => p.BusyNanoseconds)); // every one checked, at the classifier's cost
    }

    [Fact]
    public void A_fallback_host_delivers_what_a_host_that_fits_delivers_at_a_higher_processor_cost()
    {
        var fits = Build(fallback: false);
        var fallback = Build(fallback: true);
        var traffic = new List<byte[]>();
        for (var i = 0; i < 300; i++)
        {
            traffic.Add(TestFrames.Udp($"02:00:00:00:00:0{1 + i % 3}", $"10.0.0.{1 + i % 3}", 9, new byte[40]));
            if (i % 5 == 0) traffic.Add(TestFrames.ArpRequest("10.0.0.2"));
            if (i % 7 == 0) traffic.Add(TestFrames.Udp("02:00:00:00:00:77", "10.0.0.77", 9, new byte[40])); // unknown unicast
            if (i % 11 == 0) traffic.Add(TestFrames.Udp("01:00:5e:00:00:fc", "224.0.0.252", 9, new byte[40])); // a group nobody joined
        }

        foreach (var host in new[] { fits, fallback })
        {
            for (var i = 0; i < traffic.Count; i++)
            {
                host.RunTo(i * 20_000L);
                host.Nic("e0").Device.Offer(traffic[i]);
            }
            host.RunTo(traffic.Count * 20_000L + 5_000_000);
        }

        foreach (var name in new[] { "v1", "v2", "v3" })
        {
            Assert.Equal(fits.Vnic(name).Counters.Received, fallback.Vnic(name).Counters.Received);
            Assert.Equal(fits.Vnic(name).Counters.Delivered, fallback.Vnic(name).Counters.Delivered);
        }
        foreach (var report in new[] { fits.Report(), fallback.Report() })
        {
            var nic = Assert.Single(report.Nics);
            Assert.Equal(nic.Vnics.Sum(v => v.Received), nic.Received - nic.Dropped.Sum(d => d.Value) + nic.Replicated);
            Assert.Equal(traffic.Count(f => f[6] == 0x02 && f[5] == 0x77) + traffic.Count(f => f[0] == 0x01 && f[5] == 0xfc),
                nic.Dropped.Single(d => d.Key == "no-match").Value);
        }
        // Unknown unicast and every group frame now reach a processor to be classified in software.
        Assert.True(fallback.Processors.Sum(p => p.BusyNanoseconds) > fits.Processors.Sum(p => p.BusyNanoseconds));
        Assert.Equal(0, fits.Nic("e0").SoftwareRings.Single().Counters.Dropped(DropReason.NoMatch));
        Assert.True(fallback.Nic("e0").SoftwareRings.Single().Counters.Dropped(DropReason.NoMatch) > 0);

        // v1 on hrr0; v2 and v3 share sr0 on hrr1: in the fallback host the hardware holds v1's entry only.
        static NetworkHost Build(bool fallback)
        {
            var build = new HostBuilder("h", cpus: 2, new VirtualClock());
            build.AddNic("e0", "simnic-1g", new SimNicSettings(2, 1, 64));
            for (var i = 1; i <= 3; i++)
            {
                build.AddVirtualMachine(new VnicSettings($"v{i}", "e0", new ulong[] { 0x02_00_00_00_00_00UL + (ulong)i }, new[] { IPAddress.Parse($"10.0.0.{i}") }));
            }
            build.BindHardwareRing("e0", 0, "v1");
            build.BindSoftwareRing("e0", null, 1, "sr0", 2);
            build.BindSoftwareReceiveRing("e0", "sr0", 0, "v2");
            build.BindSoftwareReceiveRing("e0", "sr0", 1, "v3");
            build.Program("e0", null, 0x02_00_00_00_00_01UL, 0, 0, "v1");
            if (!fallback)
            {
                build.Program("e0", null, 0x02_00_00_00_00_02UL, 0, 1, "v2");
                build.Program("e0", null, 0x02_00_00_00_00_03UL, 0, 1, "v3");
            }
            build.Program("e0", "sr0", 0x02_00_00_00_00_02UL, 0, 0, "v2");
            build.Program("e0", "sr0", 0x02_00_00_00_00_03UL, 0, 1, "v3");
            if (fallback) build.ClassifyInSoftware("e0", 1);
            var host = build.Start();
            host.Costs = CostTable.Default;
            foreach (var nic in host.Nics) nic.Device.Wire = new CapturingWire();
            return host;
        }
    }

    [Fact]
    public void Frames_waiting_on_the_default_ring_are_the_nics_queued_until_the_software_classifier_takes_them()
    {
        var vms = string.Concat(Enumerable.Range(1, 20).Select(i => $"    vm v{i} on e0 {{ mac 02:00:00:00:00:{i:x2}; ip 10.0.0.{i} }}\n"));
        var (host, _) = TestHost.Build("host h {\n    nic e0 { model simnic-1g; rx-rings 2 }\n" + vms + "}\n");
        var device = host.Nic("e0").Device;

        device.Receive(TestFrames.Udp("02:00:00:00:00:14", "10.0.0.20", 9, new byte[8])); // v20: classified in software
        device.Receive(TestFrames.ArpRequest("10.0.0.20"));                                   // a copy to every ring, the default one included
        var nic = Assert.Single(host.Report().Nics);
        Assert.Equal(2, nic.Queued);
        Assert.Equal(nic.Vnics.Sum(v => v.Received), nic.Received - nic.Dropped.Sum(d => d.Value) + nic.Replicated - nic.Queued);
        foreach (var v in nic.Vnics) Assert.Equal(v.Received, v.Delivered + v.Dropped.Sum(d => d.Value) + v.Queued);

        host.Pump();
        nic = Assert.Single(host.Report().Nics);
        Assert.Equal(0, nic.Queued);
        Assert.Equal(nic.Vnics.Sum(v => v.Received), nic.Received - nic.Dropped.Sum(d => d.Value) + nic.Replicated);
    }

    [Fact]
    public void A_host_with_more_vnics_than_entries_delivers_to_every_vnic_including_those_classified_in_software()
    {
        var vms = string.Concat(Enumerable.Range(1, 20).Select(i => $"    vm v{i} on e0 {{ mac 02:00:00:00:00:{i:x2}; ip 10.0.0.{i} }}\n"));
        var (host, _) = TestHost.Build("host h {\n    nic e0 { model simnic-1g; rx-rings 2 }\n" + vms + "}\n");

        Assert.Equal(1, host.Nic("e0").DefaultRing);
        host.Send("e0", Enumerable.Range(1, 20).Select(i => TestFrames.Udp($"02:00:00:00:00:{i:x2}", $"10.0.0.{i}", 9, new byte[8])).ToArray());
        host.Send("e0", TestFrames.ArpRequest("10.0.0.20"));

        Assert.All(host.Vnics, v => Assert.Equal(2, v.Counters.Delivered));
        Assert.Equal(1, host.VirtualMachine("v20").Counters.ArpRepliesSent); // a VNIC classified in software answers its ARP
        var nic = Assert.Single(host.Report().Nics);
        Assert.Equal(nic.Vnics.Sum(v => v.Received), nic.Received - nic.Dropped.Sum(d => d.Value) + nic.Replicated);
    }

    // The same IPv6 frame with an 8-byte hop-by-hop options header (PadN) before its UDP header.
    private static byte[] WithHopByHop(byte[] frame)
    {
        var result = new byte[frame.Length + 8];
        frame.AsSpan(0, 14 + 40).CopyTo(result);
        result[14 + 6] = 0; // next header: hop-by-hop
        BinaryPrimitives.WriteUInt16BigEndian(result.AsSpan(14 + 4), (ushort)(BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(14 + 4)) + 8));
        result[54] = 17; // then UDP
        result[55] = 0;  // 8 bytes
        result[56] = 1;  // PadN, 4 bytes of padding
        result[57] = 4;
        frame.AsSpan(54).CopyTo(result.AsSpan(62));
        return result;
    }
}
