using NicBypass.Dsl.Diagnostics;
using NicBypass.Dsl.Hardware;
using NicBypass.Dsl.Model;
using NicBypass.Dsl.Text;

namespace NicBypass.Dsl.Planning;

/// <summary>
/// Decides which receive ring serves which VNIC — the seed's method, made deterministic
/// (docs/dsl.md § Placement). Per NIC, with k hardware receive rings (HRRs) and n VNICs:
/// <list type="number">
/// <item>n ≤ k: VNIC i in placement order gets HRR i; the rest stay idle.</item>
/// <item>n &gt; k: the first k−1 get HRRs 0..k−2; HRR k−1 carries a software ring whose software
/// receive rings (SRRs) serve the rest, one each. Past soft-ring-width, the last SRR carries a
/// nested software ring, and so on.</item>
/// <item>Placement order: <c>ring hardware</c> first, then higher inbound bandwidth (none is
/// lowest), then declaration order.</item>
/// <item>The hardware classifier sends each VNIC's MACs (with IP/VLAN/port where the model
/// matches them) to its HRR or to the HRR carrying its software ring; each software classifier
/// is programmed with the same criteria for its SRRs.</item>
/// </list>
/// Pure: the same host always gives the same plan.
/// </summary>
public static class Planner
{
    public static PlanResult Plan(HostDefinition host)
    {
        var diagnostics = new List<Diagnostic>();
        var nics = host.Nics.Select(nic => PlanNic(nic, host.VnicsOn(nic.Name).ToList(), diagnostics)).ToEquatableArray();
        return new PlanResult(new HostPlan(host.Name, nics), diagnostics.ToEquatableArray());
    }

    /// <summary>The placement order of docs/dsl.md § Placement, rule 3.</summary>
    public static IReadOnlyList<VnicDefinition> PlacementOrder(IEnumerable<VnicDefinition> vnics) =>
        vnics.OrderBy(v => v.Ring == RingPolicy.Hardware ? 0 : 1)
             .ThenByDescending(v => v.Bandwidth?.BitsPerSecond ?? 0UL)
             .ThenBy(v => v.DeclarationIndex)
             .ToList();

    private static NicPlan PlanNic(NicDefinition nic, List<VnicDefinition> vnics, List<Diagnostic> diagnostics)
    {
        var order = PlacementOrder(vnics);
        var k = nic.RxRings;
        var n = order.Count;
        // The hardware classifier holds one entry per MAC; the VNICs that do not fit (first fit in
        // placement order) are classified in software on the default ring, hrr k−1, whose
        // software ring serves them — so they share it even when rings are left.
        var fallback = SoftwareClassified(nic, order, diagnostics);
        // The VNICs classified in software cannot have a ring of their own: they go last.
        if (fallback.Count > 0) order = order.Where(v => !fallback.Contains(v)).Concat(order.Where(fallback.Contains)).ToList();
        var dedicated = n <= k && fallback.Count == 0 ? n : Math.Min(k - 1, n - fallback.Count);

        var hardwareRings = new List<RingBinding>(k);
        var ringOf = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < dedicated; i++)
        {
            hardwareRings.Add(new RingBinding(i, order[i].Name, null));
            ringOf[order[i].Name] = i;
        }

        var softwareRings = new List<SoftwareRingPlan>();
        if ((n > k || fallback.Count > 0) && SoftwareRingDepth(n - dedicated, nic.SoftRingWidth) is var depth && depth > MaxSoftwareRingDepth)
        {
            // Bounded before anything is built: the nesting would recurse that deep here, in the
            // lowering and at run time, and each level's classifier covers every VNIC below it.
            var rest = n - dedicated;
            var width = (int)Math.Min(int.MaxValue, (rest - 2L) / MaxSoftwareRingDepth + 2);
            while (SoftwareRingDepth(rest, width) > MaxSoftwareRingDepth) width++;
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.SoftwareRingsTooDeep, nic.Location, null,
                nic.Name, rest, nic.SoftRingWidth, depth, MaxSoftwareRingDepth, width));
            return new NicPlan(nic.Name, nic.Model, nic.TxRings, nic.Msi, order.Select(v => v.Name).ToEquatableArray(),
                Enumerable.Range(0, k).Select(i => new RingBinding(i, null, null)).ToEquatableArray(), new ClassifierProgram(nic.Model.ClassifierFields, EquatableArray<ClassifierEntry>.Empty));
        }
        if (n > k || fallback.Count > 0)
        {
            var rest = order.Skip(dedicated).ToList();
            var counter = 0;
            var softwareRing = BuildSoftwareRing(nic, rest, ref counter);
            // Rings between the dedicated ones and the last stay idle (VNICs whose MACs the
            // classifier cannot hold leave rings over): each index once, in order.
            for (var i = hardwareRings.Count; i < k - 1; i++) hardwareRings.Add(new RingBinding(i, null, null));
            hardwareRings.Add(new RingBinding(k - 1, null, softwareRing));
            foreach (var vnic in rest) ringOf[vnic.Name] = k - 1;
            for (var ring = softwareRing; ring is not null; ring = ring.Rings[ring.Rings.Count - 1].SoftwareRing) softwareRings.Add(ring);
        }
        for (var i = hardwareRings.Count; i < k; i++) hardwareRings.Add(new RingBinding(i, null, null));

        var classifier = Program(nic.Model.ClassifierFields, order.Where(v => !fallback.Contains(v)), v => ringOf[v.Name]);
        var plan = new NicPlan(nic.Name, nic.Model, nic.TxRings, nic.Msi, order.Select(v => v.Name).ToEquatableArray(),
            hardwareRings.ToEquatableArray(), classifier,
            fallback.Count > 0 ? k - 1 : null, order.Where(fallback.Contains).Select(v => v.Name).ToEquatableArray());

        ReportHardwarePolicy(nic, order.Where(v => !fallback.Contains(v)).ToList(), dedicated, diagnostics);
        var inUse = plan.HardwareRingsInUse;
        if (inUse > nic.Msi)
        {
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.MsiShared, nic.Location, null, nic.Name, inUse, nic.Msi, nic.Model.MsiVectors));
        }
        if (softwareRings.Count > 0)
        {
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.PlacementSummary, nic.Location,
                softwareRings.SelectMany(s => s.Rings).Where(r => r.Vnic is not null).Select(r => vnics.First(v => v.Name == r.Vnic).Location),
                nic.Name, Summarize(nic, order, dedicated, softwareRings)));
        }
        return plan;
    }

    // NB0018: the VNICs, in placement order, whose MACs no longer fit the hardware classifier's
    // entries; a warning (they are classified in software), an error for those with `ring hardware`.
    private static HashSet<VnicDefinition> SoftwareClassified(NicDefinition nic, IReadOnlyList<VnicDefinition> order, List<Diagnostic> diagnostics)
    {
        var capacity = nic.Model.ClassifierEntries;
        var used = 0;
        var fallback = new HashSet<VnicDefinition>();
        foreach (var vnic in order)
        {
            var entries = Math.Max(1, vnic.Macs.Count);
            // First fit, in placement order: a VNIC with many MACs that does not fit leaves its
            // entries to the VNICs after it.
            if (used + entries <= capacity) used += entries;
            else fallback.Add(vnic);
        }
        if (fallback.Count == 0) return fallback;
        var needed = order.Sum(v => Math.Max(1, v.Macs.Count));
        var names = order.Where(fallback.Contains).Select(v => v.Name).ToList();
        var listed = string.Join(", ", names.Take(8)) + (names.Count > 8 ? $" and {names.Count - 8} more" : "");
        diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.ClassifierFull, nic.Location, null, nic.Name, needed, nic.Model.Name, capacity,
            $"{names.Count} VNIC{(names.Count == 1 ? "" : "s")} ({listed}) {(names.Count == 1 ? "is" : "are")} classified in software on the default ring hrr{nic.RxRings - 1}, at a processor cost per frame; move VNICs to another NIC or use a larger model to keep them in hardware"));
        foreach (var vnic in order.Where(v => v.Ring == RingPolicy.Hardware && fallback.Contains(v)))
        {
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.ClassifierFull, vnic.RingLocation ?? vnic.Location, new[] { nic.Location }, nic.Name, needed, nic.Model.Name, capacity,
                $"{vnic} asks for 'ring hardware' but has no classifier entry left, so it cannot have a ring of its own; give it fewer MACs, move VNICs to another NIC or use a larger model")
                with { Severity = DiagnosticSeverity.Error });
        }
        return fallback;
    }

    /// <summary>The deepest software-ring nesting a plan may have.</summary>
    public const int MaxSoftwareRingDepth = 100;

    // Levels of software rings `count` VNICs need at `width`: each level but the last serves width − 1.
    private static long SoftwareRingDepth(long count, int width) =>
        count <= width ? 1 : 1 + (count - width + width - 2) / (width - 1);

    // Builds the software ring for `vnics`, nesting on its last SRR when they exceed the width.
    private static SoftwareRingPlan BuildSoftwareRing(NicDefinition nic, List<VnicDefinition> vnics, ref int counter)
    {
        var id = "sr" + counter++;
        var width = nic.SoftRingWidth;
        var rings = new List<RingBinding>();
        var ringOf = new Dictionary<string, int>(StringComparer.Ordinal);
        if (vnics.Count <= width)
        {
            for (var i = 0; i < vnics.Count; i++)
            {
                rings.Add(new RingBinding(i, vnics[i].Name, null));
                ringOf[vnics[i].Name] = i;
            }
        }
        else
        {
            for (var i = 0; i < width - 1; i++)
            {
                rings.Add(new RingBinding(i, vnics[i].Name, null));
                ringOf[vnics[i].Name] = i;
            }
            var nested = vnics.Skip(width - 1).ToList();
            rings.Add(new RingBinding(width - 1, null, BuildSoftwareRing(nic, nested, ref counter)));
            foreach (var vnic in nested) ringOf[vnic.Name] = width - 1;
        }
        return new SoftwareRingPlan(id, rings.ToEquatableArray(), Program(nic.Model.ClassifierFields, vnics, v => ringOf[v.Name]));
    }

    private static ClassifierProgram Program(ClassifierFields fields, IEnumerable<VnicDefinition> vnics, Func<VnicDefinition, int> ring)
    {
        var entries = new List<ClassifierEntry>();
        foreach (var vnic in vnics)
        {
            // With `ip dhcp` the address is learned at run time: classify on the MAC alone — no
            // addresses, and no ports either (its DHCP client's answers come to port 68, unicast
            // once it renews); its stack still serves only the declared ports.
            var ips = !vnic.Dhcp ? vnic.Ips.Select(p => p.Address).ToEquatableArray() : EquatableArray<Values.IpAddress>.Empty;
            var ports = !vnic.Dhcp ? vnic.Ports : EquatableArray<int>.Empty;
            foreach (var mac in vnic.Macs)
            {
                // Every field the VNIC declares is part of its rule (docs/architecture.md § Classification as advertised): the classifier
                // matches those of `fields`, the VNIC checks the rest in software.
                entries.Add(new ClassifierEntry(mac, vnic.Vlan, ips, ports, vnic.Protocols, ring(vnic), vnic.Name));
            }
        }
        return new ClassifierProgram(fields, entries.ToEquatableArray());
    }

    private static void ReportHardwarePolicy(NicDefinition nic, IReadOnlyList<VnicDefinition> order, int dedicated, List<Diagnostic> diagnostics)
    {
        var wanting = order.Where(v => v.Ring == RingPolicy.Hardware).ToList();
        if (wanting.Count <= dedicated) return;
        var holders = order.Take(dedicated).ToList();
        var reason = dedicated == 0
            ? $"its only ring, hrr{nic.RxRings - 1}, carries the software ring the other VNICs share"
            : $"{(dedicated == 1 ? "its one dedicated ring is" : $"its {dedicated} dedicated rings are")} held by {string.Join(", ", holders.Select(h => "'" + h.Name + "'"))}" +
              (order.Count > nic.RxRings ? $" and hrr{nic.RxRings - 1} carries the software ring" : "");
        // Raising rx-rings is advice only while the model has more to give.
        var remedy = nic.RxRings < nic.Model.MaxRxRings
            ? $"raise rx-rings (the model allows {nic.Model.MaxRxRings}) or change this VNIC to 'ring any'"
            : $"the model has no more than its {nic.Model.MaxRxRings} rx-rings: change this VNIC to 'ring any', or move it to another NIC";
        foreach (var vnic in wanting.Skip(dedicated))
        {
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.NoHardwareRingLeft, vnic.RingLocation ?? vnic.Location,
                holders.Select(h => h.Location), vnic.ToString(), nic.Name, reason, remedy));
        }
    }

    private static string Summarize(NicDefinition nic, IReadOnlyList<VnicDefinition> order, int dedicated, List<SoftwareRingPlan> softwareRings)
    {
        var shared = order.Skip(dedicated).Select(v => v.Name).ToList();
        // More VNICs than rings, or (NB0018) MACs the hardware classifier has no room for.
        var cause = order.Count > nic.RxRings
            ? $"{order.Count} VNICs outnumber its {nic.RxRings} hardware receive {(nic.RxRings == 1 ? "ring" : "rings")}, so {shared.Count} of them"
            : $"its hardware classifier has no room for the MACs of {shared.Count} of its {order.Count} VNICs (NB0018), so {(shared.Count == 1 ? "that one" : "those")}";
        var text = $"{cause} ({string.Join(", ", shared)}) {(shared.Count == 1 ? "shares" : "share")} hrr{nic.RxRings - 1} through software ring {softwareRings[0].Id}";
        if (dedicated > 0)
        {
            text += $"; dedicated rings went to {string.Join(", ", order.Take(dedicated).Select(v => v.Name))} " +
                    "('ring hardware' first, then higher bandwidth, then declaration order)";
        }
        if (softwareRings.Count > 1)
        {
            text += $"; beyond soft-ring-width {nic.SoftRingWidth} the software rings nest {softwareRings.Count} deep ({string.Join(" → ", softwareRings.Select(s => s.Id))})";
        }
        return text;
    }
}
