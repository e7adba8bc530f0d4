using CsCheck;
using NicBypass.Dsl.Model;
using NicBypass.Dsl.Planning;

namespace NicBypass.Dsl.Tests;

/// <summary>Placement invariants over random hosts (CsCheck): they must hold for any input.</summary>
public class PlannerPropertyTests
{
    private sealed record VnicSpec(bool Hardware, int BandwidthMbps);

    private sealed record NicSpec(int Rings, int Width, VnicSpec[] Vnics)
    {
        public string ToText()
        {
            var body = string.Concat(Vnics.Select((v, i) => TestSources.Vm("v" + i, i + 1,
                (v.Hardware ? "ring hardware; " : "") + (v.BandwidthMbps > 0 ? $"bandwidth {v.BandwidthMbps}M" : ""))));
            return TestSources.Host(body, model: "simnic-100g", rings: Rings, nicExtra: $"soft-ring-width {Width}");
        }
    }

    private static readonly Gen<NicSpec> Nics =
        Gen.Select(Gen.Int[1, 10], Gen.Int[2, 6],
            Gen.Select(Gen.Int[0, 9], Gen.Int[0, 4].Select(i => new[] { 0, 0, 10, 100, 1000 }[i])).Select((h, bw) => new VnicSpec(h == 0, bw)).Array[0, 60],
            (rings, width, vnics) => new NicSpec(rings, width, vnics));

    private static IEnumerable<(RingBinding Ring, int Depth, SoftwareRingPlan? Owner)> Walk(IEnumerable<RingBinding> rings, int depth = 0, SoftwareRingPlan? owner = null)
    {
        foreach (var ring in rings)
        {
            yield return (ring, depth, owner);
            if (ring.SoftwareRing is { } software)
            {
                foreach (var inner in Walk(software.Rings, depth + 1, software)) yield return inner;
            }
        }
    }

    [Fact]
    public void Placement_invariants_hold_for_random_hosts()
    {
        Nics.Sample(spec =>
        {
            var compilation = TestSources.Compile(spec.ToText());
            var nic = compilation.Hosts[0].Plan.Nics[0];
            var vnics = compilation.Hosts[0].Definition.Vnics;
            int n = vnics.Count, k = spec.Rings;

            // Every VNIC is placed exactly once.
            var placed = Walk(nic.HardwareRings).Where(x => x.Ring.Vnic is not null).Select(x => x.Ring.Vnic!).ToList();
            Assert.Equal(vnics.Select(v => v.Name).OrderBy(x => x), placed.OrderBy(x => x));

            // No HRR is bound twice; there are exactly k of them, indexed 0..k-1.
            Assert.Equal(Enumerable.Range(0, k), nic.HardwareRings.Select(r => r.Index));
            Assert.All(nic.HardwareRings, r => Assert.False(r.Vnic is not null && r.SoftwareRing is not null));

            // Dedicated HRRs = min(n, k) when n ≤ k, else k − 1 (one carries the software ring).
            var dedicated = nic.HardwareRings.Count(r => r.Vnic is not null);
            Assert.Equal(n <= k ? n : k - 1, dedicated);
            Assert.Equal(n > k ? 1 : 0, nic.HardwareRings.Count(r => r.SoftwareRing is not null));

            // Dedicated rings go to the head of the placement order, in order.
            Assert.Equal(nic.PlacementOrder.Take(dedicated), nic.HardwareRings.Take(dedicated).Select(r => r.Vnic!));

            // Software rings respect soft-ring-width and nest only on their last SRR.
            foreach (var (ring, _, owner) in Walk(nic.HardwareRings))
            {
                if (owner is null) continue;
                Assert.InRange(owner.Rings.Count, 1, spec.Width);
                if (ring.SoftwareRing is not null) Assert.Equal(owner.Rings.Count - 1, ring.Index);
            }

            // The hardware classifier leads every MAC to the HRR that serves or carries its VNIC.
            var hrrOf = new Dictionary<string, int>();
            foreach (var hrr in nic.HardwareRings)
            {
                foreach (var (ring, _, _) in Walk(new[] { hrr }))
                {
                    if (ring.Vnic is not null) hrrOf[ring.Vnic] = hrr.Index;
                }
            }
            Assert.Equal(n, nic.HardwareClassifier.Entries.Count);
            Assert.All(nic.HardwareClassifier.Entries, e => Assert.Equal(hrrOf[e.Vnic], e.Ring));

            // NB0017 exactly when more VNICs ask for hardware than there are dedicated rings.
            var wanting = vnics.Count(v => v.Ring == RingPolicy.Hardware);
            Assert.Equal(Math.Max(0, wanting - dedicated), compilation.Diagnostics.Count(d => d.Id == "NB0017"));
        }, iter: 500);
    }

    [Fact]
    public void Placement_order_is_sorted_by_policy_then_bandwidth_then_declaration()
    {
        Nics.Sample(spec =>
        {
            var compilation = TestSources.Compile(spec.ToText());
            var byName = compilation.Hosts[0].Definition.Vnics.ToDictionary(v => v.Name);
            var order = compilation.Hosts[0].Plan.Nics[0].PlacementOrder.Select(name => byName[name]).ToList();
            for (var i = 1; i < order.Count; i++)
            {
                var (a, b) = (order[i - 1], order[i]);
                var key = (A: (a.Ring == RingPolicy.Hardware ? 0 : 1, -(long)(a.Bandwidth?.BitsPerSecond ?? 0), a.DeclarationIndex),
                           B: (b.Ring == RingPolicy.Hardware ? 0 : 1, -(long)(b.Bandwidth?.BitsPerSecond ?? 0), b.DeclarationIndex));
                Assert.True(key.A.CompareTo(key.B) < 0, $"{a.Name} before {b.Name}");
            }
        }, iter: 300);
    }
}
