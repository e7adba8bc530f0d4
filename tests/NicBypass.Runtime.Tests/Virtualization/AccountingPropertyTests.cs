using CsCheck;
using NicBypass.Runtime.Accounting;

namespace NicBypass.Runtime.Tests;

/// <summary>
/// Nothing is lost silently: under random traffic (unicast, wrong VLANs, unknown MACs,
/// broadcasts, runts, oversize frames, bursts that overflow rings) every frame is either
/// delivered or counted under a drop reason, and each VNIC receives exactly what an independent
/// model of the classification rules says it should.
/// </summary>
public class AccountingPropertyTests
{
    private const string Topology = """
        host h {
            cpus 2
            nic e0 { model MODEL; rx-rings 2; ring-size 16; soft-ring-width 2 }
            vm a on e0 { mac 02:00:00:00:00:01; ip 10.0.0.1 }
            vm b on e0 { mac 02:00:00:00:00:02; ip 10.0.0.2 }
            container c on e0 { mac 02:00:00:00:00:03; ip 10.0.0.3; vlan 5 }
            service d on e0 { mac 02:00:00:00:00:04; ip 10.0.0.4; vlan 5; mode polling; bandwidth 1G }
            vm e on e0 { mac 02:00:00:00:00:05; ip 10.0.0.5; vlan 7 }
        }
        """;

    private static readonly (string Name, int Vlan)[] Vnics = { ("a", 0), ("b", 0), ("c", 5), ("d", 5), ("e", 7) };

    // kind: 0 unicast (priority-tagged half the time when the VNIC is untagged), 1 unicast in a
    // wrong VLAN, 2 unknown MAC, 3 broadcast, 4 runt, 5 oversize, 6 the VNIC's MAC but another IP,
    // 7 a multicast group nobody joined
    private static readonly Gen<(int Kind, int Vnic, int Vlan, bool Pump)[]> Traffic =
        Gen.Select(Gen.Int[0, 7], Gen.Int[0, 4], Gen.Int[0, 3].Select(i => new[] { 0, 5, 7, 9 }[i]), Gen.Int[0, 9].Select(p => p == 0))
           .Array[1, 300];

    /// <summary>
    /// An independent model of docs/architecture.md § Classification as advertised on each catalogue model: what the hardware matches
    /// (simnic-1g: MAC; simnic-10g: + IP; simnic-100g: + VLAN, port) is dropped at the NIC, what
    /// it cannot is received by the VNIC its MAC names and dropped there by the software check.
    /// </summary>
    [Theory]
    [InlineData("simnic-1g")]
    [InlineData("simnic-10g")]
    [InlineData("simnic-100g")]
    public void Every_frame_is_delivered_or_counted_and_each_vnic_gets_what_the_rules_say(string model)
    {
        var matchIp = model != "simnic-1g";
        var matchVlan = model == "simnic-100g";
        Traffic.Sample(traffic =>
        {
            var (host, _) = TestHost.Build(Topology.Replace("MODEL", model));
            var device = host.Nic("e0").Device;
            var expected = new long[Vnics.Length];
            var softwareDrops = new long[Vnics.Length];
            long noMatch = 0, malformed = 0, oversize = 0;

            foreach (var (kind, v, vlan, pump) in traffic)
            {
                var (name, ownVlan) = Vnics[v];
                var mac = $"02:00:00:00:00:0{v + 1}";
                var udp = TestFrames.Udp(mac, $"10.0.0.{v + 1}", 9, new byte[20]);
                byte[] frame;
                switch (kind)
                {
                    case 0:
                        frame = ownVlan == 0 ? (vlan == 5 ? TestFrames.Tag(udp, 0) : udp) : TestFrames.Tag(udp, ownVlan);
                        expected[v]++;
                        break;
                    case 1:
                        frame = TestFrames.Tag(udp, ownVlan == 9 ? 5 : 9);
                        if (matchVlan) noMatch++;
                        else { expected[v]++; softwareDrops[v]++; }
                        break;
                    case 2:
                        frame = TestFrames.Udp("02:00:00:00:00:77", "10.0.0.77", 9, new byte[20]);
                        noMatch++;
                        break;
                    case 3:
                        var arp = TestFrames.ArpRequest("10.9.9.9");
                        frame = vlan == 0 ? arp : TestFrames.Tag(arp, vlan);
                        var members = Enumerable.Range(0, Vnics.Length).Where(i => Vnics[i].Vlan == vlan).ToList();
                        if (matchVlan)
                        {
                            foreach (var i in members) expected[i]++;
                            if (members.Count == 0) noMatch++;
                        }
                        else
                        {
                            for (var i = 0; i < Vnics.Length; i++)
                            {
                                expected[i]++;
                                if (!members.Contains(i)) softwareDrops[i]++;
                            }
                        }
                        break;
                    case 4:
                        frame = new byte[v * 3];
                        malformed++;
                        break;
                    case 5:
                        frame = new byte[1519 + v];
                        oversize++;
                        break;
                    case 6:
                        var stranger = TestFrames.Udp(mac, "10.0.0.99", 9, new byte[20]);
                        frame = ownVlan == 0 ? stranger : TestFrames.Tag(stranger, ownVlan);
                        if (matchIp) noMatch++;
                        else { expected[v]++; softwareDrops[v]++; }
                        break;
                    default:
                        frame = TestFrames.Udp("01:00:5e:00:00:fb", "224.0.0.251", 5353, new byte[20]);
                        noMatch++;
                        break;
                }
                device.Receive(frame);
                if (pump) host.Pump();
            }
            host.Pump();

            Assert.Equal(traffic.Length, device.Counters.Received);
            Assert.Equal(noMatch, device.Counters.Dropped(DropReason.NoMatch));
            Assert.Equal(malformed, device.Counters.Dropped(DropReason.Malformed));
            Assert.Equal(oversize, device.Counters.Dropped(DropReason.Oversize));
            for (var i = 0; i < Vnics.Length; i++)
            {
                var vnic = host.Vnic(Vnics[i].Name);
                Assert.Equal(expected[i], vnic.Counters.Received);
                // What the software check drops, unless a burst filled the ring first.
                Assert.InRange(vnic.Counters.Dropped(DropReason.NoMatch), softwareDrops[i] - vnic.Counters.Dropped(DropReason.RingFull), softwareDrops[i]);
                Assert.Equal(vnic.Counters.Received, vnic.Counters.Delivered + vnic.Counters.DroppedTotal);
            }
            var report = host.Report();
            var nic = Assert.Single(report.Nics);
            // The report's two equations: per NIC with the extra copies of group frames, per VNIC with what is still queued.
            Assert.Equal(nic.Vnics.Sum(v => v.Received), nic.Received - nic.Dropped.Sum(d => d.Value) + nic.Replicated);
            foreach (var v in nic.Vnics) Assert.Equal(v.Received, v.Delivered + v.Dropped.Sum(d => d.Value) + v.Queued);
        }, iter: 200);
    }

    [Fact]
    public void Bursts_overflow_rings_and_the_overflow_is_counted_as_ring_full()
    {
        var (host, _) = TestHost.Build(Topology.Replace("MODEL", "simnic-10g"));
        var device = host.Nic("e0").Device;
        var frame = TestFrames.Udp("02:00:00:00:00:02", "10.0.0.2", 9, new byte[20]);

        for (var i = 0; i < 100; i++) device.Receive(frame);
        host.Pump();

        var b = host.Vnic("b");
        Assert.Equal(100, b.Counters.Received);
        Assert.True(b.Counters.Dropped(DropReason.RingFull) > 0);
        Assert.Equal(100, b.Counters.Delivered + b.Counters.Dropped(DropReason.RingFull));
    }
}
