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
            nic e0 { model simnic-10g; rx-rings 2; ring-size 16; soft-ring-width 2 }
            vm a on e0 { mac 02:00:00:00:00:01; ip 10.0.0.1 }
            vm b on e0 { mac 02:00:00:00:00:02; ip 10.0.0.2 }
            container c on e0 { mac 02:00:00:00:00:03; ip 10.0.0.3; vlan 5 }
            service d on e0 { mac 02:00:00:00:00:04; ip 10.0.0.4; vlan 5; mode polling; bandwidth 1G }
            vm e on e0 { mac 02:00:00:00:00:05; ip 10.0.0.5; vlan 7 }
        }
        """;

    private static readonly (string Name, int Vlan)[] Vnics = { ("a", 0), ("b", 0), ("c", 5), ("d", 5), ("e", 7) };

    // kind: 0 unicast, 1 unicast in a wrong VLAN, 2 unknown MAC, 3 broadcast, 4 runt, 5 oversize
    private static readonly Gen<(int Kind, int Vnic, int Vlan, bool Pump)[]> Traffic =
        Gen.Select(Gen.Int[0, 5], Gen.Int[0, 4], Gen.Int[0, 3].Select(i => new[] { 0, 5, 7, 9 }[i]), Gen.Int[0, 9].Select(p => p == 0))
           .Array[1, 300];

    [Fact]
    public void Every_frame_is_delivered_or_counted_and_each_vnic_gets_what_the_rules_say()
    {
        Traffic.Sample(traffic =>
        {
            var (host, _) = TestHost.Build(Topology);
            var device = host.Nic("e0").Device;
            var expected = new long[Vnics.Length];
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
                        frame = ownVlan == 0 ? udp : TestFrames.Tag(udp, ownVlan);
                        expected[v]++;
                        break;
                    case 1:
                        frame = TestFrames.Tag(udp, ownVlan == 9 ? 5 : 9);
                        noMatch++;
                        break;
                    case 2:
                        frame = TestFrames.Udp("02:00:00:00:00:77", "10.0.0.77", 9, new byte[20]);
                        noMatch++;
                        break;
                    case 3:
                        var arp = TestFrames.ArpRequest("10.9.9.9");
                        frame = vlan == 0 ? arp : TestFrames.Tag(arp, vlan);
                        var members = Enumerable.Range(0, Vnics.Length).Where(i => Vnics[i].Vlan == vlan).ToList();
                        foreach (var i in members) expected[i]++;
                        if (members.Count == 0) noMatch++;
                        break;
                    case 4:
                        frame = new byte[v * 3];
                        malformed++;
                        break;
                    default:
                        frame = new byte[1519 + v];
                        oversize++;
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
                Assert.Equal(vnic.Counters.Received, vnic.Counters.Delivered + vnic.Counters.DroppedTotal);
            }
            var report = host.Report();
            var nic = Assert.Single(report.Nics);
            Assert.Equal(nic.Received, nic.Dropped.Sum(d => d.Value) + traffic.Count(t => t.Kind is 0 || (t.Kind == 3 && Vnics.Any(x => x.Vlan == t.Vlan))));
            // The report's two equations: per NIC with the extra copies of group frames, per VNIC with what is still queued.
            Assert.Equal(nic.Vnics.Sum(v => v.Received), nic.Received - nic.Dropped.Sum(d => d.Value) + nic.Replicated);
            foreach (var v in nic.Vnics) Assert.Equal(v.Received, v.Delivered + v.Dropped.Sum(d => d.Value) + v.Queued);
        }, iter: 200);
    }

    [Fact]
    public void Bursts_overflow_rings_and_the_overflow_is_counted_as_ring_full()
    {
        var (host, _) = TestHost.Build(Topology);
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
