using NicBypass.Dsl.Diagnostics;

namespace NicBypass.Dsl.Tests;

/// <summary>
/// Every diagnostic ID of docs/diagnostics.md: triggered by a minimal file at the exact line and column,
/// and not triggered once the file is corrected.
/// </summary>
public class ValidatorTests
{
    private static readonly string[] BaseLines =
    {
        "host h {",                       // 1
        "    cpus 4",                     // 2
        "    nic n0 {",                   // 3
        "        model simnic-10g",       // 4
        "        rx-rings 4",             // 5
        "    }",                          // 6
        "    vm a on n0 {",               // 7
        "        mac 02:00:00:00:00:01",  // 8
        "    }",                          // 9
        "}",                              // 10
    };

    private const string Mac1 = "        mac 02:00:00:00:00:01";
    private const string VmB = "    }\n    vm b on n0 { mac 02:00:00:00:00:02 }";
    private const string VmC = "    }\n    vm b on n0 { mac 02:00:00:00:00:02 }\n    vm c on n0 { mac 02:00:00:00:00:03 }";

    // 101 more VMs: 102 VNICs behind one hardware ring.
    private static readonly string HundredMoreVms = "    }\n" + string.Join("\n", Enumerable.Range(0, 101).Select(i => $"    vm m{i} on n0 {{ mac 02:00:00:00:{i / 256 + 1:x2}:{i % 256:x2} }}"));

    private static string With(params (int Line, string Text)[] replacements)
    {
        var lines = BaseLines.ToArray();
        foreach (var (line, text) in replacements) lines[line - 1] = text;
        return string.Join("\n", lines) + "\n";
    }

    private static string SeventeenMacs(int count) =>
        "        mac " + string.Join(" ", Enumerable.Range(1, count).Select(i => $"02:00:00:00:01:{i:x2}"));

    public static TheoryData<string, string, int, int, string> Cases => new()
    {
        { "NB0001", With((8, Mac1 + " {")), 8, 31, With() },
        { "NB0002", With((5, "        rx-ring 4")), 5, 9, With() },
        { "NB0003", With((9, "    }\n    vm a on n0 { mac 02:00:00:00:00:02 }")), 10, 8, With((9, VmB)) },
        { "NB0004", With((4, "        model simnic-10g; model simnic-1g")), 4, 27, With() },
        { "NB0005", With((8, "        mac 02:00:00:00:00")), 8, 13, With() },
        { "NB0006", With((8, "        mac 01:00:5e:00:00:01")), 8, 13, With() },
        { "NB0007", With((9, "    }\n    vm b on n0 { mac 02:00:00:00:00:01 }")), 10, 22, With((9, VmB)) },
        { "NB0008", With((8, Mac1 + "; ip 10.0.0.1/33")), 8, 35, With((8, Mac1 + "; ip 10.0.0.1/24")) },
        { "NB0009", With((8, Mac1 + "; ip 10.0.0.1"), (9, "    }\n    vm b on n0 { mac 02:00:00:00:00:02; ip 10.0.0.1 }")), 10, 44,
                    With((8, Mac1 + "; ip 10.0.0.1"), (9, "    }\n    vm b on n0 { mac 02:00:00:00:00:02; ip 10.0.0.2 }")) },
        { "NB0010", With((7, "    vm a on n1 {")), 7, 13, With() },
        { "NB0011", With((8, "        ip 10.0.0.1")), 7, 8, With((8, Mac1 + "; ip 10.0.0.1")) },
        { "NB0012", With((5, "        rx-rings 9")), 5, 18, With((5, "        rx-rings 8")) },
        { "NB0013", With((5, "        rx-rings 4; ring-size 1000")), 5, 31, With((5, "        rx-rings 4; ring-size 1024")) },
        { "NB0014", With((8, Mac1 + "; bandwidth 0M")), 8, 42, With((8, Mac1 + "; bandwidth 10M")) },
        { "NB0015", With((8, Mac1 + "; bandwidth 20G")), 8, 42, With((8, Mac1 + "; bandwidth 2G")) },
        { "NB0016", With((8, Mac1 + "; bandwidth 6G"), (9, "    }\n    vm b on n0 { mac 02:00:00:00:00:02; bandwidth 6G }")), 3, 9,
                    With((8, Mac1 + "; bandwidth 4G"), (9, "    }\n    vm b on n0 { mac 02:00:00:00:00:02; bandwidth 6G }")) },
        { "NB0017", With((5, "        rx-rings 1"), (8, Mac1 + "; ring hardware"), (9, VmB)), 8, 37,
                    With((5, "        rx-rings 2"), (8, Mac1 + "; ring hardware"), (9, VmB)) },
        { "NB0018", With((4, "        model simnic-1g"), (5, "        rx-rings 2"), (8, SeventeenMacs(17))), 3, 9,
                    With((4, "        model simnic-1g"), (5, "        rx-rings 2"), (8, SeventeenMacs(16))) },
        { "NB0019", With((7, "    container a on n0 {"), (8, Mac1 + "; bandwidth 1G; mode interrupt")), 8, 51,
                    With((7, "    container a on n0 {"), (8, Mac1 + "; bandwidth 1G; mode polling")) },
        { "NB0020", With((8, Mac1 + "; cpu 4")), 8, 36, With((8, Mac1 + "; cpu 3")) },
        { "NB0021", With((7, "    container a on n0 {"), (8, Mac1 + "; ports 80")), 8, 32,
                    With((7, "    container a on n0 {"), (8, Mac1 + "; protocols tcp; ports 80")) },
        { "NB0022", With((5, "        rx-rings 4; msi 2"), (9, VmC)), 3, 9, With((5, "        rx-rings 4; msi 4"), (9, VmC)) },
        { "NB0023", With((7, ""), (8, ""), (9, "")), 3, 9, With() },
        { "NB0024", With((9, "    }\n    vm A on n0 { mac 02:00:00:00:00:02 }")), 10, 8, With((9, VmB)) },
        { "NB0025", With((4, "        model simnic-5g")), 4, 15, With() },
        { "NB0026", With((8, Mac1 + "; vlan 4095")), 8, 37, With((8, Mac1 + "; vlan 4094")) },
        { "NB0027", With((5, "        rx-rings 1"), (9, VmB)), 3, 9, With((5, "        rx-rings 2"), (9, VmB)) },
        { "NB0028", With((5, "        rx-rings 4; mtu 9001")), 5, 25, With((5, "        rx-rings 4; mtu 9000")) },
        { "NB0031", With((5, "        rx-rings 1; soft-ring-width 2"), (9, HundredMoreVms)), 3, 9, With((5, "        rx-rings 1; soft-ring-width 3"), (9, HundredMoreVms)) },
        { "NB0029", With((8, Mac1 + "; ring dedicated")), 8, 37, With((8, Mac1 + "; ring hardware")) },
        { "NB0032", With((8, Mac1 + "; multicast 10.0.0.1")), 8, 42, With((8, Mac1 + "; multicast 224.0.0.251")) },
        { "NB0033", With((9, "    }\n    flow f on b { transport tcp }")), 10, 15, With((9, "    }\n    flow f on a { transport tcp }")) },
        { "NB0034", With((9, "    }\n    flow f on a { transport tcp; local-port 80 }\n    flow g on a { transport tcp }")), 11, 10,
                    With((9, "    }\n    flow f on a { transport tcp; local-port 80 }\n    flow g on a { transport udp }")) },
        { "NB0035", With((9, "    }\n    flow f on a { local-port 80 }")), 10, 19, With((9, "    }\n    flow f on a { transport tcp; local-port 80 }")) },
        { "NB0036", With((8, Mac1 + "; ip 10.0.0.2; gateway 10.0.0.1")), 8, 53, With((8, Mac1 + "; ip 10.0.0.2/24; gateway 10.0.0.1")) },
        { "NB0038", With((8, Mac1 + "; ip 127.0.0.1")), 8, 35, With((8, Mac1 + "; ip 10.0.0.1")) },
        { "NB0039", "# the host, written later\n", 1, 1, With() },
        { "NB0040", With((7, "    container a on n0 {"), (8, Mac1 + "; protocols tcp; ports 80"), (9, "    }\n    flow f on a { transport tcp; local-port 8080 }")), 10, 10,
                    With((7, "    container a on n0 {"), (8, Mac1 + "; protocols tcp; ports 80"), (9, "    }\n    flow f on a { transport tcp; local-port 80 }")) },
        // 256 more NICs: the 257th (line 9 + 256) is one too many.
        { "NB0037", With((9, "    }\n" + string.Join("\n", Enumerable.Range(1, 256).Select(i => $"    nic x{i} {{ model simnic-1g; rx-rings 1 }}")))), 265, 5,
            With((9, "    }\n" + string.Join("\n", Enumerable.Range(1, 255).Select(i => $"    nic x{i} {{ model simnic-1g; rx-rings 1 }}")))) },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Each_id_is_reported_at_its_token_and_gone_once_fixed(string id, string bad, int line, int column, string good)
    {
        var reported = TestSources.Compile(bad).Diagnostics;
        var hit = reported.Where(d => d.Id == id).ToList();
        Assert.True(hit.Count > 0, $"{id} not reported; got:\n{string.Join("\n", reported)}");
        Assert.Contains(hit, d => d.Location.Span.Line == line && d.Location.Span.Column == column);

        var severity = DiagnosticDescriptors.All.Single(d => d.Id == id).Severity;
        Assert.All(hit, d => Assert.Equal(severity, d.Severity));

        var fixedReport = TestSources.Compile(good).Diagnostics;
        Assert.DoesNotContain(fixedReport, d => d.Id == id);
        Assert.DoesNotContain(fixedReport, d => d.Severity == DiagnosticSeverity.Error);
    }

    [Fact]
    public void Every_descriptor_has_a_test_case()
    {
        var tested = Cases.Select(row => (string)row[0]).ToHashSet();
        // NB0030 (internal error) is the generator's; its test lives with the generator.
        Assert.All(DiagnosticDescriptors.All.Where(d => d.Id != "NB0030"), d => Assert.Contains(d.Id, tested));
    }

    [Theory]
    [InlineData(2, "    cpus 2O", 8, Mac1 + "; cpu 1", "NB0014", "'2O'")]              // not NB0020 against the default of 1 as well
    [InlineData(2, "    cpus 2000", 8, Mac1 + "; cpu 1", "NB0014", "at most")]
    [InlineData(7, "    vm a on n1 {", 0, "", "NB0010", "did you mean 'n0'")]         // not NB0023 "n0 has no VNICs" as well
    [InlineData(7, "    vn a on n0 {", 0, "", "NB0001", "did you mean 'vm'")]          // nor beside a misspelt 'vm'
    [InlineData(8, Mac1 + "; bandwidth 20G", 0, "", "NB0015", "20G")]                 // not NB0016 for that one VNIC as well
    [InlineData(8, Mac1 + "; bandwidth 10 G", 0, "", "NB0014", "without a space: 10G")] // not "needs a unit" and NB0029 both
    public void A_mistake_is_reported_once_with_no_follow_on_diagnostics(int line, string text, int otherLine, string other, string id, string message)
    {
        // Found by a new user's drive: each of these brought a second, misleading diagnostic.
        var source = otherLine == 0 ? With((line, text)) : With((line, text), (otherLine, other));
        var diagnostics = TestSources.Compile(source).Diagnostics;
        var only = Assert.Single(diagnostics);
        Assert.Equal(id, only.Id);
        Assert.Contains(message, only.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void What_is_wrong_whatever_cpus_says_and_a_nic_two_names_are_near_are_still_reported()
    {
        // Found by review of the follow-on suppression: a refused 'cpus' hid 'cpu -1' and 'cpu 5000',
        // and 'e9' (near both 'e0' and 'e1') silenced e1's NB0023 though e1 has nothing on it.
        var cpus = TestSources.Compile("host h {\n    cpus 4x\n    nic e0 { model simnic-10g; rx-rings 4 }\n    vm g1 on e0 { mac 02:00:00:00:00:01; cpu -1 }\n    vm g2 on e0 { mac 02:00:00:00:00:02; cpu 5000 }\n    vm g3 on e0 { mac 02:00:00:00:00:03; cpu 3 }\n}\n").Diagnostics;
        Assert.Equal(new[] { "NB0014", "NB0020", "NB0020" }, cpus.Select(d => d.Id).Order().ToArray());
        Assert.Equal(new[] { 4, 5 }, cpus.Where(d => d.Id == "NB0020").Select(d => d.Location.Span.Line).Order().ToArray());

        var nics = TestSources.Compile("host h {\n    nic e1 { model simnic-10g; rx-rings 4 }\n    nic e0 { model simnic-10g; rx-rings 4 }\n    vm g1 on e0 { mac 02:00:00:00:00:01 }\n    vm g2 on e9 { mac 02:00:00:00:00:02 }\n}\n").Diagnostics;
        Assert.Contains(nics, d => d.Id == "NB0010");
        Assert.Contains(nics, d => d.Id == "NB0023" && d.Message.Contains("'e1'", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("    vm host on n0 { mac 02:00:00:00:00:02 }", "a member every generated host class has")]
    [InlineData("    vm placement on n0 { mac 02:00:00:00:00:02 }", "a member every generated host class has")]
    [InlineData("    vm h on n0 { mac 02:00:00:00:00:02 }", "host 'h' (the generated class)")]
    [InlineData("    vm dispose on n0 { mac 02:00:00:00:00:02 }", "a member every generated host class has")]
    [InlineData("    vm reference-equals on n0 { mac 02:00:00:00:00:02 }", "a member every generated host class has")] // object's static one (CS0108 in generated code before)
    [InlineData("    vm n-0 on n0 { mac 02:00:00:00:00:02 }", "vm 'n-0' and nic 'n0' both become the C# identifier 'N0'")]
    public void Names_that_would_clash_with_the_generated_class_are_NB0024(string line, string message)
    {
        var diagnostics = TestSources.Compile(With((9, "    }\n" + line))).Diagnostics;

        var collision = Assert.Single(diagnostics, d => d.Id == "NB0024");
        Assert.Contains(message, collision.Message);
    }

    [Theory]
    [InlineData("ip 0.0.0.0", "NB0038", "the unspecified address (0.0.0.0)")]
    [InlineData("ip ::", "NB0038", "the unspecified address (::)")]
    [InlineData("ip ::1", "NB0038", "the loopback address (::1)")]
    [InlineData("ip 127.0.0.1/8", "NB0038", "a loopback address (127.0.0.0/8)")]
    [InlineData("ip 224.0.0.1", "NB0038", "a multicast group (a VNIC joins groups on a 'multicast' line)")]
    [InlineData("ip ff02::1", "NB0038", "a multicast group")]
    [InlineData("ip 255.255.255.255", "NB0038", "the limited broadcast address")]
    [InlineData("ip 0.1.2.3", "NB0038", "in 0.0.0.0/8")]
    [InlineData("ip 10.0.0.255/24", "NB0038", "the broadcast address of its own subnet /24")]
    [InlineData("ip 10.0.0.5/24; gateway 10.0.0.0", "NB0036", "it is the network address of its subnet 10.0.0.5/24, not a router's")]
    [InlineData("ip 10.0.0.5/24; gateway 10.0.0.255", "NB0036", "it is the broadcast address of its subnet 10.0.0.5/24, not a router's")]
    [InlineData("ip 10.0.0.5/24; gateway 127.0.0.1", "NB0036", "it is a loopback address (127.0.0.0/8), every host's own, not a router's")]
    [InlineData("ip fd00::5/64; gateway fd00::3/64", "NB0008", "'fd00::3/64' is not an IP address: a gateway is one address, without a prefix length; write the router's address")]
    [InlineData("multicast 224.0.0.251/32", "NB0008", "a group is one address, without a prefix length; write a group address, e.g. 224.0.0.251")]
    [InlineData("gateway dhcp", "NB0008", "write the router's address, e.g. 192.168.10.1 or fd00::1")]
    public void Addresses_no_host_or_router_can_hold_are_refused_saying_why(string properties, string id, string message)
    {
        var diagnostics = TestSources.Compile(With((8, Mac1 + "; " + properties))).Diagnostics;

        var refused = Assert.Single(diagnostics, d => d.Id == id);
        Assert.Contains(message, refused.Message);
        Assert.DoesNotContain(", or 'dhcp'", id == "NB0008" ? refused.Message : ""); // only 'ip' takes dhcp
    }

    [Theory]
    [InlineData("ip dhcp dhcp", "'dhcp' is not a valid value for 'ip': it is listed twice")]
    [InlineData("multicast 224.0.0.251 224.0.0.251", "'224.0.0.251' is not a valid value for 'multicast': it is listed twice")]
    public void A_value_listed_twice_is_an_error_as_a_port_listed_twice_is(string properties, string message)
    {
        var error = Assert.Single(TestSources.Compile(With((8, Mac1 + "; " + properties))).Errors());
        Assert.Equal(("NB0029", message), (error.Id, error.Message[..message.Length]));
    }

    [Fact]
    public void A_ring_count_past_the_model_hides_nothing_wrong_with_the_nics_vnics()
    {
        // rx-rings 9 on a model with 8 left the NIC out, and with it NB0007, NB0009 and NB0015 of its VNICs.
        var diagnostics = TestSources.Compile("host h {\n    nic e0 { model simnic-1g; rx-rings 9 }\n"
            + "    vm a on e0 { mac 02:00:00:00:00:01; ip 10.0.0.1; bandwidth 10G }\n"
            + "    vm b on e0 { mac 02:00:00:00:00:01; ip 10.0.0.1 }\n}\n").Diagnostics;
        Assert.Equal(new[] { "NB0007", "NB0009", "NB0012", "NB0015" }, diagnostics.Select(d => d.Id).Order().ToArray());
    }

    [Fact]
    public void A_protocol_listed_twice_is_an_error()
    {
        var error = Assert.Single(TestSources.Compile(With((7, "    container a on n0 {"), (8, Mac1 + "; protocols tcp tcp"))).Errors());
        Assert.Equal("NB0029", error.Id);
        Assert.Contains("'tcp' is not a valid value for 'protocols': it is listed twice", error.Message);
    }

    [Theory]
    [InlineData("ip 10.0.0.0/24")]                      // Linux lets a host hold its subnet's first address
    [InlineData("ip 10.0.0.5/31; gateway 10.0.0.4")]    // a /31 has no network or broadcast address (RFC 3021)
    [InlineData("ip fe80::5")]
    [InlineData("ip fd00::5/64; gateway fe80::1")]      // IPv6 routers are known by their link-local addresses
    public void Host_addresses_at_the_edges_are_taken(string properties)
    {
        Assert.Empty(TestSources.Compile(With((8, Mac1 + "; " + properties))).Errors());
    }

    [Theory]
    [InlineData(255, null)]
    [InlineData(256, "a name of 256 characters; expected a name: an ASCII letter (a-z, A-Z), then ASCII letters, digits and '-', at most 255 characters")]
    [InlineData(3000, "a name of 3,000 characters; expected")]
    public void A_name_too_long_for_a_csharp_identifier_is_a_located_error_not_a_failure_in_generated_code(int length, string? message)
    {
        // 3,000 characters passed 'check' and failed the build with CS7013 in generated code
        // (found by a new user's drive).
        var name = "v" + new string('a', length - 1);
        var errors = TestSources.Compile(With((9, "    }\n    vm " + name + " on n0 { mac 02:00:00:00:00:02 }"))).Errors().ToList();

        if (message is null)
        {
            Assert.Empty(errors);
            return;
        }
        var error = Assert.Single(errors);
        Assert.Equal(("NB0001", 10, 8), (error.Id, error.Location.Span.Line, error.Location.Span.Column));
        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("dispose")]
    [InlineData("placement")]
    public void A_host_named_after_a_member_of_its_own_class_is_NB0024(string name)
    {
        var collision = Assert.Single(TestSources.Compile(With((1, $"host {name} {{"))).Errors());
        Assert.Equal("NB0024", collision.Id);
        Assert.Contains($"host '{name}' and a member every generated host class has both become", collision.Message);
    }

    [Fact]
    public void The_full_example_has_no_errors()
    {
        var compilation = TestSources.Compile(TestSources.FullExample);

        Assert.Empty(compilation.Errors());
        Assert.False(compilation.HasErrors);
    }

    [Fact]
    public void Duplicates_point_back_at_the_first_declaration()
    {
        var diagnostics = TestSources.Compile(With((9, "    }\n    vm b on n0 { mac 02:00:00:00:00:01 }"))).Diagnostics;

        var duplicate = diagnostics.Single(d => d.Id == "NB0007");
        var related = Assert.Single(duplicate.RelatedLocations);
        Assert.Equal((8, 13), (related.Span.Line, related.Span.Column));
        Assert.Contains("vm 'a'", duplicate.Message);
        Assert.EndsWith("; every VNIC on a NIC needs its own MAC", duplicate.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("; ip 10.0.0.5/24; ip 10.0.0.5/24", "NB0009", "IP 10.0.0.5 is already used by vm 'a' itself on NIC 'n0' untagged; remove the repeated one")]
    [InlineData(" 02:00:00:00:00:01", "NB0007", "MAC 02:00:00:00:00:01 is already used by vm 'a' itself on NIC 'n0'; remove the repeated one")]
    public void A_vnic_listing_its_own_address_twice_is_told_to_remove_one_not_to_move_vnics_apart(string more, string id, string message)
    {
        // "… give each VNIC its own address or put them in different VLANs" for one VNIC's repeated
        // line (found by a new user's drive).
        var duplicate = Assert.Single(TestSources.Compile(With((8, Mac1 + more))).Diagnostics, d => d.Id == id);
        Assert.Equal(message, duplicate.Message);
    }

    [Fact]
    public void Hardware_ring_conflict_names_the_vnics_that_hold_the_rings()
    {
        var text = With((5, "        rx-rings 2"), (8, Mac1 + "; ring hardware"),
            (9, "    }\n    vm b on n0 { mac 02:00:00:00:00:02; ring hardware }\n    vm c on n0 { mac 02:00:00:00:00:03; ring hardware }"));
        var diagnostics = TestSources.Compile(text).Diagnostics.Where(d => d.Id == "NB0017").ToList();

        // 3 VNICs, 2 rings: one dedicated ring (a), the other carries the software ring.
        Assert.Equal(2, diagnostics.Count);
        Assert.All(diagnostics, d => Assert.Contains("held by 'a'", d.Message));
        Assert.All(diagnostics, d => Assert.Equal(7, Assert.Single(d.RelatedLocations).Span.Line));
    }

    [Theory]
    [InlineData(1, "raise rx-rings (the model allows 2) or change this VNIC to 'ring any'")]
    [InlineData(2, "the model has no more than its 2 rx-rings: change this VNIC to 'ring any', or move it to another NIC")]
    public void Hardware_ring_conflict_advises_more_rings_only_while_the_model_has_more(int rings, string advice)
    {
        var compilation = TestSources.Compile($"host h {{ nic n {{ model simnic-1g; rx-rings {rings} }}\n"
            + "vm a on n { mac 02:00:00:00:00:01; ring hardware }\n vm b on n { mac 02:00:00:00:00:02; ring hardware }\n vm c on n { mac 02:00:00:00:00:03 } }");

        var diagnostic = compilation.Diagnostics.First(d => d.Id == "NB0017");
        Assert.EndsWith(advice, diagnostic.Message);
    }

    [Theory]
    [InlineData("        modle simnic-10g", "did you mean 'model'?")]
    [InlineData("        model simnic-10", "did you mean 'simnic-10g'?")]
    [InlineData("        model nonsense", "the known models are simnic-1g, simnic-10g, simnic-100g")]
    public void Misspellings_offer_the_closest_valid_name(string line4, string expected)
    {
        var diagnostics = TestSources.Compile(With((4, line4))).Diagnostics;

        Assert.Contains(diagnostics, d => d.Message.Contains(expected));
    }

    [Fact]
    public void A_misspelt_required_property_is_reported_once_not_also_as_missing()
    {
        var diagnostics = TestSources.Compile(With((5, "        rx-ring 4"))).Diagnostics;

        Assert.Single(diagnostics, d => d.Id == "NB0002");
        Assert.DoesNotContain(diagnostics, d => d.Id == "NB0011");
    }

    [Fact]
    public void A_property_of_another_block_says_where_it_belongs()
    {
        var diagnostics = TestSources.Compile(With((8, Mac1 + "; ports 80"))).Diagnostics;

        var unknown = diagnostics.Single(d => d.Id == "NB0002");
        Assert.Contains("belongs in container, service blocks", unknown.Message);
    }

    [Theory]
    [InlineData("vm a on n0 { mac 02:00:00:00:00:01 }")]
    [InlineData("container a on n0 { mac 02:00:00:00:00:01; protocols udp; ports 53 }")]
    [InlineData("service a on n0 { mac 02:00:00:00:00:01; protocols tcp; ports 80 443 }")]
    public void Vms_containers_and_services_bind_to_vnics(string line)
    {
        var compilation = TestSources.Compile(With((7, "    " + line), (8, ""), (9, "")));

        Assert.Empty(compilation.Errors());
        Assert.Single(compilation.Hosts[0].Definition.Vnics);
    }

    [Fact]
    public void A_cpu_range_spreads_a_destinations_vsq_workers_and_reaches_the_build_steps()
    {
        var compilation = TestSources.Compile("host h { cpus 4\n nic n { model simnic-10g; rx-rings 2 }\n container c on n { mac 02:00:00:00:00:01; protocols udp; ports 53; cpu 2-3 } }");

        Assert.Empty(compilation.Errors());
        var vnic = compilation.Hosts[0].Definition.Vnics[0];
        Assert.Equal((2, 2), (vnic.Cpu, vnic.CpuCount));
        var step = Lowering.HostLowering.Lower(compilation.Hosts[0].Definition, compilation.Hosts[0].Plan).Steps.OfType<Lowering.AddNetworkStackStep>().Single();
        Assert.Equal((2, 2), (step.Vnic.Cpu, step.Vnic.Cpus));
    }

    [Theory]
    [InlineData("container c on n { mac 02:00:00:00:00:01; protocols udp; cpu 3-4 }", "NB0020", "cpu 4 is outside 0..3")]
    [InlineData("container c on n { mac 02:00:00:00:00:01; protocols udp; cpu 3-2 }", "NB0029", "a range runs from low to high: write 2-3")]
    [InlineData("container c on n { mac 02:00:00:00:00:01; protocols udp; cpu 2-x }", "NB0014", "a range such as 2-3")]
    [InlineData("vm c on n { mac 02:00:00:00:00:01; cpu 2-3 }", "NB0029", "a range is for a container's or service's VSQ workers")]
    public void A_bad_cpu_range_is_reported_on_its_value(string line, string id, string message)
    {
        var compilation = TestSources.Compile("host h { cpus 4\n nic n { model simnic-10g; rx-rings 2 }\n " + line + " }");

        var diagnostic = Assert.Single(compilation.Errors());
        Assert.Equal(id, diagnostic.Id);
        Assert.Contains(message, diagnostic.Message);
        Assert.Equal(3, diagnostic.Location.Span.Line);
        Assert.Equal(line.IndexOf("cpu ", StringComparison.Ordinal) + 6, diagnostic.Location.Span.Column);
    }

    [Theory]
    [InlineData("2000000000")]
    [InlineData("1025")]
    public void A_host_with_billions_of_processors_is_refused_on_its_value(string cpus)
    {
        var compilation = TestSources.Compile("host h { cpus " + cpus + "\n nic n { model simnic-10g; rx-rings 1 }\n vm v on n { mac 02:00:00:00:00:01 } }");

        var diagnostic = Assert.Single(compilation.Errors());
        Assert.Equal("NB0014", diagnostic.Id);
        Assert.Contains("at most 1024 processors", diagnostic.Message);
        Assert.Equal((1, 15), (diagnostic.Location.Span.Line, diagnostic.Location.Span.Column));
    }

    [Theory]
    [InlineData("nic n { model simnic-10g; rx-rings 99999999999 }", "'99999999999' is not a valid rx-rings: far too large")]
    [InlineData("nic n { model simnic-10g; rx-rings 2; ring-size -99999999999 }", "'-99999999999' is not a valid ring-size: far too small")]
    [InlineData("nic n { model simnic-10g; rx-rings 2; msi 4x }", "'4x' is not a valid msi: write a whole number such as 4")]
    public void A_whole_number_too_large_to_hold_is_said_to_be_too_large_not_malformed(string nic, string message)
    {
        var compilation = TestSources.Compile("host h {\n " + nic + "\n vm v on n { mac 02:00:00:00:00:01 } }");

        var diagnostic = Assert.Single(compilation.Errors());
        Assert.Equal("NB0014", diagnostic.Id);
        Assert.Contains(message, diagnostic.Message);
        Assert.Equal(2, diagnostic.Location.Span.Line);
    }

    [Fact]
    public void A_nic_whose_only_vnic_was_refused_gets_the_refusal_not_also_an_unused_warning()
    {
        var diagnostics = TestSources.Compile("host h {\n nic n { model simnic-1g; rx-rings 1 }\n vm a\u00e9 on n { mac 02:00:00:00:00:01 }\n}").Diagnostics;

        var refused = Assert.Single(diagnostics);
        Assert.Equal("NB0001", refused.Id);
        Assert.Contains("an ASCII letter", refused.Message);
        Assert.DoesNotContain(TestSources.Compile("host h {\n nic n { model simnic-1g; rx-rings 1 }\n vm a on n { mac 02:00:00:00:00:01 }\n vm a on n { mac 02:00:00:00:00:02 }\n}").Diagnostics, d => d.Id == "NB0023");
        Assert.Contains(TestSources.Compile("host h {\n nic n { model simnic-1g; rx-rings 1 }\n nic m { model simnic-1g; rx-rings 1 }\n vm a on n { mac 02:00:00:00:00:01 }\n}").Diagnostics, d => d.Id == "NB0023"); // still, for a NIC nothing was meant for
        // A header missing its 'on': the NIC it names is still the one meant.
        Assert.Equal(["NB0001"], TestSources.Compile("host h {\n nic n { model simnic-1g; rx-rings 1 }\n vm a n { mac 02:00:00:00:00:01 }\n}").Diagnostics.Select(d => d.Id));
    }

    [Fact]
    public void Defaults_are_filled_in()
    {
        var compilation = TestSources.Compile("host h { nic n { model simnic-100g; rx-rings 3 }\n container c on n { mac 02:00:00:00:00:01; bandwidth 1G }\n vm v on n { mac 02:00:00:00:00:02 } }");

        var host = compilation.Hosts[0].Definition;
        Assert.Equal(1, host.Cpus);
        var nic = host.Nics[0];
        Assert.Equal((1, 1024, 64, 1500, 64), (nic.TxRings, nic.RingSize, nic.SoftRingWidth, nic.Mtu, nic.Msi));
        Assert.Equal(100_000_000_000UL, nic.Speed.BitsPerSecond);
        Assert.Equal(Model.ProcessingMode.Polling, host.Vnics[0].Mode);
        Assert.Equal(Model.ProcessingMode.Interrupt, host.Vnics[1].Mode);
        Assert.Equal(Model.RingPolicy.Any, host.Vnics[1].Ring);
    }

    [Fact]
    public void Several_files_and_hosts_bind_together_and_host_names_are_unique_across_files()
    {
        var compilation = DslCompiler.Compile(new[]
        {
            new Text.SourceFile("a.nicdsl", "host one { }\nhost two { }"),
            new Text.SourceFile("b.nicdsl", "host one { }"),
        });

        Assert.Equal(3, compilation.Hosts.Count);
        var duplicate = Assert.Single(compilation.Diagnostics, d => d.Id == "NB0003");
        Assert.Equal("b.nicdsl", duplicate.Location.Path);
        Assert.Equal("a.nicdsl", Assert.Single(duplicate.RelatedLocations).Path);
    }

    [Fact]
    public void Diagnostics_format_like_compiler_output()
    {
        var diagnostic = TestSources.Compile(With((5, "        rx-ring 4")), "samples/x.nicdsl").Diagnostics.First(d => d.Id == "NB0002");

        Assert.Equal("samples/x.nicdsl(5,9): error NB0002: 'rx-ring' is not a property of nic 'n0' (did you mean 'rx-rings'?)", diagnostic.ToString());
    }
}
