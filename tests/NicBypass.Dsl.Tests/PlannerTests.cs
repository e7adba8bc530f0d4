using NicBypass.Dsl.Diagnostics;
using NicBypass.Dsl.Hardware;
using NicBypass.Dsl.Model;
using NicBypass.Dsl.Planning;

namespace NicBypass.Dsl.Tests;

public class PlannerTests
{
    private static NicPlan PlanOf(string text, int nic = 0)
    {
        var compilation = TestSources.Compile(text);
        Assert.Empty(compilation.Errors());
        return compilation.Hosts[0].Plan.Nics[nic];
    }

    private static string Vms(int count, Func<int, string>? extra = null) =>
        string.Concat(Enumerable.Range(0, count).Select(i => TestSources.Vm("v" + i, i + 1, extra?.Invoke(i) ?? "")));

    [Fact]
    public void Fewer_vnics_than_rings_each_get_a_dedicated_ring_and_the_rest_idle()
    {
        var nic = PlanOf(TestSources.Host(Vms(3), rings: 4));

        Assert.Equal(new[] { "v0", "v1", "v2", null }, nic.HardwareRings.Select(r => r.Vnic));
        Assert.True(nic.HardwareRings[3].IsIdle);
        Assert.Equal(new[] { 0, 1, 2, 3 }, nic.HardwareRings.Select(r => r.Index));
    }

    [Fact]
    public void As_many_vnics_as_rings_use_every_ring()
    {
        var nic = PlanOf(TestSources.Host(Vms(4), rings: 4));

        Assert.Equal(new[] { "v0", "v1", "v2", "v3" }, nic.HardwareRings.Select(r => r.Vnic));
        Assert.All(nic.HardwareRings, r => Assert.Null(r.SoftwareRing));
    }

    [Fact]
    public void More_vnics_than_rings_share_the_last_ring_through_a_software_ring()
    {
        var nic = PlanOf(TestSources.Host(Vms(6), rings: 4));

        Assert.Equal(new[] { "v0", "v1", "v2", null }, nic.HardwareRings.Select(r => r.Vnic));
        var software = nic.HardwareRings[3].SoftwareRing!;
        Assert.Equal("sr0", software.Id);
        Assert.Equal(new[] { "v3", "v4", "v5" }, software.Rings.Select(r => r.Vnic));
        Assert.Equal(new[] { 0, 1, 2 }, software.Rings.Select(r => r.Index));
    }

    [Fact]
    public void One_ring_and_several_vnics_put_every_vnic_behind_the_software_ring()
    {
        var nic = PlanOf(TestSources.Host(Vms(3), rings: 1));

        var software = nic.HardwareRings.Single().SoftwareRing!;
        Assert.Equal(new[] { "v0", "v1", "v2" }, software.Rings.Select(r => r.Vnic));
    }

    [Fact]
    public void Software_rings_nest_on_their_last_srr_beyond_soft_ring_width()
    {
        var nic = PlanOf(TestSources.Host(Vms(7), rings: 2, nicExtra: "soft-ring-width 3"));

        Assert.Equal("v0", nic.HardwareRings[0].Vnic);
        var sr0 = nic.HardwareRings[1].SoftwareRing!;
        Assert.Equal(new[] { "v1", "v2", null }, sr0.Rings.Select(r => r.Vnic));
        var sr1 = sr0.Rings[2].SoftwareRing!;
        Assert.Equal("sr1", sr1.Id);
        Assert.Equal(new[] { "v3", "v4", null }, sr1.Rings.Select(r => r.Vnic));
        var sr2 = sr1.Rings[2].SoftwareRing!;
        Assert.Equal("sr2", sr2.Id);
        Assert.Equal(new[] { "v5", "v6" }, sr2.Rings.Select(r => r.Vnic));
    }

    [Fact]
    public void Placement_order_is_ring_hardware_then_bandwidth_then_declaration()
    {
        var body = TestSources.Vm("low", 1, "bandwidth 10M") +
                   TestSources.Vm("none1", 2) +
                   TestSources.Vm("high", 3, "bandwidth 1G") +
                   TestSources.Vm("pinned", 4, "ring hardware") +
                   TestSources.Vm("none2", 5) +
                   TestSources.Vm("mid", 6, "bandwidth 100M");
        var nic = PlanOf(TestSources.Host(body, rings: 3));

        Assert.Equal(new[] { "pinned", "high", "mid", "low", "none1", "none2" }, nic.PlacementOrder);
        Assert.Equal(new[] { "pinned", "high", null }, nic.HardwareRings.Select(r => r.Vnic));
        Assert.Equal(new[] { "mid", "low", "none1", "none2" }, nic.HardwareRings[2].SoftwareRing!.Rings.Select(r => r.Vnic));
    }

    [Fact]
    public void Several_nics_are_planned_independently()
    {
        const string text = """
            host h {
                nic a { model simnic-1g; rx-rings 1 }
                nic b { model simnic-100g; rx-rings 8 }
                vm x on a { mac 02:00:00:00:00:01 }
                vm y on b { mac 02:00:00:00:00:02 }
                vm z on a { mac 02:00:00:00:00:03 }
            }
            """;
        var compilation = TestSources.Compile(text);
        var plan = compilation.Hosts[0].Plan;

        Assert.Equal(new[] { "x", "z" }, plan.Nics[0].HardwareRings[0].SoftwareRing!.Rings.Select(r => r.Vnic));
        Assert.Equal("y", plan.Nics[1].HardwareRings[0].Vnic);
        Assert.Equal(7, plan.Nics[1].HardwareRings.Count(r => r.IsIdle));
    }

    [Fact]
    public void Hardware_classifier_sends_each_mac_to_its_ring_or_the_ring_carrying_its_software_ring()
    {
        var nic = PlanOf(TestSources.Host(Vms(5), rings: 3));

        var entries = nic.HardwareClassifier.Entries.ToDictionary(e => e.Vnic, e => e.Ring);
        Assert.Equal(new Dictionary<string, int> { ["v0"] = 0, ["v1"] = 1, ["v2"] = 2, ["v3"] = 2, ["v4"] = 2 }, entries);
        var software = nic.HardwareRings[2].SoftwareRing!;
        Assert.Equal(new[] { ("v2", 0), ("v3", 1), ("v4", 2) }, software.Classifier.Entries.Select(e => (e.Vnic, e.Ring)));
        Assert.Equal(nic.HardwareClassifier.Fields, software.Classifier.Fields);
    }

    [Theory]
    [InlineData("simnic-1g")]
    [InlineData("simnic-10g")]
    [InlineData("simnic-100g")]
    public void Classifier_entries_carry_every_declared_field_and_the_program_says_which_the_hardware_matches(string model)
    {
        var body = "    container c on n0 { mac 02:00:00:00:00:01; ip 10.0.0.1; vlan 10; protocols tcp; ports 80 }\n";
        var nic = PlanOf(TestSources.Host(body, model: model, rings: 2));

        var entry = Assert.Single(nic.HardwareClassifier.Entries);
        Assert.Equal("10.0.0.1", Assert.Single(entry.Ips).ToString());
        Assert.Equal(10, entry.Vlan);
        Assert.Equal(80, Assert.Single(entry.Ports));
        Assert.Equal(TransportProtocols.Tcp, entry.Protocols);
        Assert.Equal(NicModelCatalogue.Find(model)!.ClassifierFields, nic.HardwareClassifier.Fields);
    }

    [Fact]
    public void Vnics_beyond_the_classifiers_entries_are_classified_in_software_on_the_last_ring()
    {
        // simnic-1g holds 16 entries: 20 one-MAC VMs leave 4 to software, on hrr1's software ring.
        var vms = string.Concat(Enumerable.Range(1, 20).Select(i => TestSources.Vm("v" + i, i)));
        var result = TestSources.Compile(TestSources.Host(vms, model: "simnic-1g", rings: 2));
        var nic = Assert.Single(result.Hosts[0].Plan.Nics);

        Assert.Equal(16, nic.HardwareClassifier.Entries.Count);
        Assert.Equal(1, nic.DefaultRing);
        Assert.Equal(new[] { "v17", "v18", "v19", "v20" }, nic.SoftwareClassified);
        Assert.Equal("v1", nic.HardwareRings[0].Vnic);
        var software = nic.HardwareRings[1].SoftwareRing!;
        Assert.Equal(19, software.Classifier.Entries.Count); // v2..v20: the software classifier holds them all
        var warning = Assert.Single(result.Diagnostics, d => d.Id == "NB0018");
        Assert.Equal(DiagnosticSeverity.Warning, warning.Severity);
        Assert.Contains("4 VNICs (v17, v18, v19, v20) are classified in software on the default ring hrr1", warning.Message);
    }

    [Theory]
    [InlineData("simnic-10g", 4, 128)] // b has hrr0, a (128 MACs: no room) shares hrr3; hrr1 and hrr2 idle
    [InlineData("simnic-1g", 2, 17)]
    public void With_rings_left_over_beside_a_default_ring_every_ring_is_planned_once_in_order(string model, int rings, int macs)
    {
        var many = "mac " + string.Join(" ", Enumerable.Range(0, macs).Select(i => $"02:00:00:00:{1 + i / 256:x2}:{i % 256:x2}"));
        var vnics = (rings > 2 ? TestSources.Vm("b", 200) : "") + TestSources.Vm("a", 1, many);
        var nic = Assert.Single(TestSources.Compile(TestSources.Host(vnics, model: model, rings: rings)).Hosts[0].Plan.Nics);

        Assert.Equal(Enumerable.Range(0, rings), nic.HardwareRings.Select(r => r.Index));
        Assert.NotNull(nic.HardwareRings[rings - 1].SoftwareRing);
        Assert.All(nic.HardwareRings.Skip(rings > 2 ? 1 : 0).Take(rings - (rings > 2 ? 2 : 1)), r => Assert.True(r.IsIdle));
    }

    [Fact]
    public void A_host_with_an_error_of_its_own_gets_no_placement_summary()
    {
        // Three VMs on one ring share it (NB0027) — unless the host has an error and is not built
        // (found by a new user's drive: the summary was printed for a file full of errors).
        var vms = TestSources.Vm("a", 1) + TestSources.Vm("b", 2) + TestSources.Vm("c", 3);
        Assert.Contains(TestSources.Compile(TestSources.Host(vms, rings: 1)).Diagnostics, d => d.Id == "NB0027");

        var broken = TestSources.Compile(TestSources.Host(vms + TestSources.Vm("d", 4, "cpu 99"), rings: 1));
        Assert.Contains(broken.Diagnostics, d => d.Severity == DiagnosticSeverity.Error);
        Assert.DoesNotContain(broken.Diagnostics, d => d.Id == "NB0027");
    }

    [Fact]
    public void A_vnic_that_must_have_a_hardware_ring_but_finds_no_classifier_entry_is_an_error()
    {
        // 17 MACs: more than simnic-1g's 16 entries on their own.
        var macs = "mac " + string.Join(" ", Enumerable.Range(2, 16).Select(i => $"02:00:00:00:01:{i:x2}"));
        var fine = TestSources.Compile(TestSources.Host(TestSources.Vm("big", 1, macs), model: "simnic-1g", rings: 2));
        Assert.Equal(DiagnosticSeverity.Warning, Assert.Single(fine.Diagnostics, d => d.Id == "NB0018").Severity);
        Assert.Empty(fine.Errors());
        // One VNIC, two rings: it shares hrr1 because its MACs do not fit, not because VNICs outnumber rings.
        Assert.Contains("its hardware classifier has no room for the MACs of 1 of its 1 VNICs (NB0018), so that one (big) shares hrr1 through software ring",
            Assert.Single(fine.Diagnostics, d => d.Id == "NB0027").Message);

        var text = TestSources.Host(TestSources.Vm("big", 1, macs + "; ring hardware"), model: "simnic-1g", rings: 2);
        var broken = TestSources.Compile(text);
        Assert.DoesNotContain(broken.Diagnostics, d => d.Id == "NB0027"); // the host is not built: no placement to summarize
        var error = Assert.Single(broken.Errors());
        Assert.Equal("NB0018", error.Id);
        Assert.Contains("vm 'big' asks for 'ring hardware' but has no classifier entry left", error.Message);
        Assert.Equal("hardware", text.Split('\n')[error.Location.Span.Line - 1].Substring(error.Location.Span.Column - 1, 8));
    }

    [Fact]
    public void Classifier_entries_go_first_fit_so_a_vnic_with_too_many_macs_does_not_push_out_the_ones_after_it()
    {
        var macs = "mac " + string.Join(" ", Enumerable.Range(2, 19).Select(i => $"02:00:00:00:01:{i:x2}")); // 20 MACs
        var result = TestSources.Compile(TestSources.Host(TestSources.Vm("big", 1, macs + "; ring hardware") + TestSources.Vm("small", 2, "ring hardware"),
            model: "simnic-1g", rings: 2));

        var error = Assert.Single(result.Errors());
        Assert.Contains("vm 'big'", error.Message);
        var nic = result.Hosts[0].Plan.Nics[0];
        Assert.Equal(new[] { "big" }, nic.SoftwareClassified);
        Assert.Equal("small", nic.HardwareRings[0].Vnic); // the one that fits gets the dedicated ring
    }

    [Fact]
    public void Dhcp_vnics_are_classified_on_the_mac_alone()
    {
        var nic = PlanOf(TestSources.Host(TestSources.Vm("v", 1, "ip dhcp; ip 10.0.0.5"), model: "simnic-100g", rings: 2));

        Assert.Empty(Assert.Single(nic.HardwareClassifier.Entries).Ips);
    }

    [Fact]
    public void Every_mac_of_a_vnic_gets_an_entry()
    {
        var nic = PlanOf(TestSources.Host("    vm v on n0 { mac 02:00:00:00:00:01; mac 02:00:00:00:00:02 02:00:00:00:00:03 }\n", rings: 2));

        Assert.Equal(3, nic.HardwareClassifier.Entries.Count);
        Assert.All(nic.HardwareClassifier.Entries, e => Assert.Equal(0, e.Ring));
    }

    [Fact]
    public void Msi_vectors_are_shared_round_robin_when_fewer_than_rings()
    {
        var nic = PlanOf(TestSources.Host(Vms(4), rings: 4, nicExtra: "msi 2"));

        Assert.Equal(new[] { 0, 1, 0, 1 }, nic.HardwareRings.Select(r => nic.MsiVectorOf(r.Index)));
    }

    [Fact]
    public void Planning_is_deterministic()
    {
        var text = TestSources.Host(Vms(40, i => i % 3 == 0 ? "bandwidth 10M" : ""), rings: 4, nicExtra: "soft-ring-width 8");

        Assert.Equal(TestSources.Compile(text).Hosts, TestSources.Compile(text).Hosts);
    }
}
