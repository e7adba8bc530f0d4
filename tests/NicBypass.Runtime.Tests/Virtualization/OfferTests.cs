using NicBypass.Runtime.Accounting;
using NicBypass.Runtime.Virtualization;

namespace NicBypass.Runtime.Tests;

/// <summary><see cref="NetworkHost.Offer(string, long, TimeSpan, int)"/>: the test author's traffic helper — a rate for a span of virtual time.</summary>
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

    [Theory]
    [InlineData(3_000_000, 1000, 1000, 375)]
    [InlineData(7_000_000, 1000, 333, 292)]
    [InlineData(1_000_000, 500, 8, 2)]
    public void It_offers_exactly_rate_times_span_frames_rounded_up(long rate, int frameSize, int milliseconds, long expected)
    {
        var (host, _) = TestHost.Build(Topology, new VirtualClock());

        Assert.Equal(expected, host.Offer("v", rate, TimeSpan.FromMilliseconds(milliseconds), frameSize));
        Assert.Equal(expected, host.Vnic("v").Counters.Received);
    }

    [Fact]
    public void After_an_offer_beyond_the_link_rate_the_report_adds_up_and_a_capture_keeps_virtual_nanoseconds()
    {
        var clock = new VirtualClock();
        var (host, _) = TestHost.Build(Topology.Replace("bandwidth 10M", ""), clock);
        var path = Path.Combine(Path.GetTempPath(), $"nicbypass-offer-{Guid.NewGuid():N}.pcap");
        try
        {
            using (host.Capture("v", path))
            {
                host.Offer("v", 20_000_000_000, TimeSpan.FromMilliseconds(1), frameSize: 1000); // twice simnic-10g's link
            }
            var nic = Assert.Single(host.Report().Nics);
            Assert.True(nic.Wire!.Dropped > 0);
            Assert.Equal(nic.Wire.Carried, nic.Received);
            Assert.Equal(nic.Vnics.Sum(v => v.Received), nic.Received - nic.Dropped.Sum(d => d.Value) + nic.Replicated - nic.Queued);
            foreach (var v in nic.Vnics) Assert.Equal(v.Received, v.Delivered + v.Dropped.Sum(d => d.Value) + v.Queued);

            // Back-to-back 1,000-byte frames at 10 Gbit/s land 819.2 ns apart: the capture keeps the nanoseconds.
            var bytes = File.ReadAllBytes(path);
            long Timestamp(int offset) => System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(offset)) * 1_000_000_000L
                                          + System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(offset + 4));
            var first = Timestamp(24);
            var second = Timestamp(24 + 16 + 1000);
            Assert.InRange(second - first, 819, 820);
        }
        finally
        {
            File.Delete(path);
        }
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

    [Theory]
    [InlineData("v", 1514, true)]    // MTU 1500 + the Ethernet header: the largest frame
    [InlineData("dns", 1514, true)]  // in a VLAN too (its tag is added beside)
    [InlineData("v", 1515, false)]
    [InlineData("v", 20000, false)]
    public void A_frame_longer_than_the_vnics_nic_carries_is_refused_by_name_not_dropped_one_by_one(string vnic, int frameSize, bool taken)
    {
        // 20,000-byte frames were offered, and each dropped as oversize (found by a new user's drive).
        var (host, _) = TestHost.Build(Topology, new VirtualClock());

        if (taken)
        {
            Assert.Equal(1, host.Offer(vnic, 1_000_000, TimeSpan.FromMilliseconds(frameSize * 8 / 1000.0), frameSize));
            Assert.Equal(0, host.Nic("e0").Device.Counters.Dropped(Accounting.DropReason.Oversize));
            return;
        }
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => host.Offer(vnic, 1_000_000, TimeSpan.FromMilliseconds(1), frameSize));
        Assert.Equal("frameSize", error.ParamName);
        Assert.StartsWith("NIC 'e0' of VNIC 'v' carries frames of at most 1514 bytes (MTU 1500)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Frames_as_short_as_ethernet_allows_are_offered_and_shorter_than_their_headers_refused()
    {
        // 60 bytes without the FCS is Ethernet's least, as simulate's --frame-size: Offer said 64
        // (found by a new user's drive). IPv6 and UDP headers alone are 62: refused by name, not
        // offered longer than asked.
        var (host, _) = TestHost.Build("""
            host h {
                nic e0 { model simnic-10g; rx-rings 2 }
                container four on e0 { mac 02:00:00:00:00:01; ip 10.0.0.1; protocols udp; ports 53 }
                container six on e0 { mac 02:00:00:00:00:02; ip fd00::2; protocols udp; ports 53 }
            }
            """, new VirtualClock());

        Assert.Equal(10, host.Offer("four", 4_800_000, TimeSpan.FromMilliseconds(1), frameSize: 60));
        Assert.Equal(10 * 60, host.Vnic("four").Counters.DeliveredBytes);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => host.Offer("six", 1_000_000, TimeSpan.FromMilliseconds(1), frameSize: 60));
        Assert.StartsWith("frames to VNIC 'six' carry 62 bytes of headers at least; offer 62 bytes or more", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => host.Offer("four", 1_000_000, TimeSpan.FromMilliseconds(1), frameSize: 59));
    }

    [Fact]
    public void Offering_to_a_vnic_that_learns_its_address_by_dhcp_says_why_it_cannot()
    {
        var (host, _) = TestHost.Build("host h { nic e0 { model simnic-10g; rx-rings 2 } vm d on e0 { mac 02:00:00:00:00:01; ip dhcp } }", new VirtualClock());

        var error = Assert.Throws<InvalidOperationException>(() => host.Offer("d", 1_000_000, TimeSpan.FromMilliseconds(1)));

        Assert.Equal("VNIC 'd' has no declared address to send to ('ip dhcp': Offer needs an 'ip' address in the .nicdsl file)", error.Message);
    }

    private const string Shared = """
        host h {
            nic e0 { model simnic-10g; rx-rings 4 }
            vm a on e0 { mac 02:00:00:00:00:01; ip 10.0.0.1; bandwidth 10M }
            service b on e0 { mac 02:00:00:00:00:02; ip 10.0.0.2; protocols tcp; ports 873; bandwidth 5M; mode polling }
        }
        """;

    [Fact]
    public void Several_vnics_offered_at_once_each_get_their_allocation_while_they_share_the_time()
    {
        var (host, _) = TestHost.Build(Shared, new VirtualClock());

        var offered = host.Offer(TimeSpan.FromMilliseconds(400), 1000, ("a", 20_000_000), ("b", 10_000_000));

        Assert.Equal(1000 + 500, offered);
        Assert.Equal(400_000_000, ((VirtualClock)host.Time).Nanoseconds);
        var a = host.Vnic("a").Counters;
        var b = host.Vnic("b").Counters;
        Assert.Equal((1000, 500), (a.Received, b.Received));
        Assert.InRange(a.Delivered, 500, 500 + 15);   // 10 Mbit/s for 0.4 s, plus its starting credit
        Assert.InRange(b.Delivered, 230, 250 + 15);   // 5 Mbit/s, by polling
        // A TCP-only service is sent TCP segments to its declared port: its VNIC's checks let them in.
        Assert.Equal(0, b.Dropped(DropReason.NoMatch));
        Assert.True(host.NetworkStack("b").Counters.Received > 0);
    }

    [Theory]
    [InlineData("v1", "v2", "v3")]
    [InlineData("v3", "v2", "v1")]
    public void Vnics_offered_equal_rates_over_a_full_link_share_it_whatever_the_order(string first, string second, string third)
    {
        var (host, _) = TestHost.Build("""
            host h {
                nic e0 { model simnic-1g; rx-rings 2 }
                vm v1 on e0 { mac 02:00:00:00:00:01; ip 10.0.0.1 }
                vm v2 on e0 { mac 02:00:00:00:00:02; ip 10.0.0.2 }
                vm v3 on e0 { mac 02:00:00:00:00:03; ip 10.0.0.3 }
            }
            """, new VirtualClock());

        host.Offer(TimeSpan.FromMilliseconds(100), 1000, (first, 600_000_000), (second, 600_000_000), (third, 600_000_000));

        // 1.8 Gbit/s into a 1 Gbit/s link: each gets about a third of what it carries, not all or nothing.
        var received = new[] { "v1", "v2", "v3" }.Select(v => host.Vnic(v).Counters.Received).ToArray();
        var share = received.Sum() / 3.0;
        Assert.All(received, r => Assert.InRange(r, share * 0.9, share * 1.1));
    }

    [Theory]
    [InlineData(3_000_000_000, 3_000_000_000, 1_000_000_000)]
    [InlineData(1_000_000_000, 3_000_000_000, 3_000_000_000)]
    public void Vnics_offered_unequal_rates_over_a_full_link_each_get_about_their_proportion(long a, long b, long c)
    {
        // With fixed phases, 3G, 3G and 1G into 1G got 82,056, 40,069 and 10 frames in a second:
        // the phases locked to the link's departures (found by a new user's drive; simulate,
        // drawing each frame's time, gave 53,791, 53,842 and 14,502).
        var (host, _) = TestHost.Build("""
            host h {
                cpus 3
                nic e0 { model simnic-10g; speed 1G; rx-rings 3; ring-size 4096 }
                vm a on e0 { mac 02:00:00:00:00:01; ip 10.0.0.1; cpu 0 }
                vm b on e0 { mac 02:00:00:00:00:02; ip 10.0.0.2; cpu 1 }
                vm c on e0 { mac 02:00:00:00:00:03; ip 10.0.0.3; cpu 2 }
            }
            """, new VirtualClock());

        host.Offer(TimeSpan.FromMilliseconds(100), 1000, ("a", a), ("b", b), ("c", c));

        var offered = new[] { a, b, c };
        var received = new[] { "a", "b", "c" }.Select(v => host.Vnic(v).Counters.Received).ToArray();
        var carried = received.Sum();
        for (var i = 0; i < 3; i++)
        {
            var proportion = carried * (double)offered[i] / offered.Sum();
            Assert.True(received[i] >= 0.7 * proportion && received[i] <= 1.3 * proportion,
                $"offered {string.Join(", ", offered)}: received {string.Join(", ", received)} of {carried}");
        }
    }

    [Fact]
    public void A_report_and_the_counters_print_their_counts_for_a_failed_assertions_message()
    {
        var (host, _) = TestHost.Build(Topology, new VirtualClock());
        host.Offer("v", 20_000_000, TimeSpan.FromMilliseconds(200));

        var vnic = host.Report().Nics[0].Vnics.Single(v => v.Name == "v");

        Assert.Matches(@"^\[bandwidth: \d+\]$", vnic.Dropped.ToString()); // not the list's type name
        Assert.Contains("Dropped = [bandwidth: ", vnic.ToString());
        Assert.Matches(@"^received 500, delivered \d+ \(\d+ bytes\), replicated 0, dropped \[bandwidth: \d+\]$", host.Vnic("v").Counters.ToString());
        Assert.StartsWith("received 0, delivered 0, answered 0, sent ", host.NetworkStack("dns").Counters.ToString());
    }
}
