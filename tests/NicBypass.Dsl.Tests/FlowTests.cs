using NicBypass.Dsl.Model;

namespace NicBypass.Dsl.Tests;

/// <summary>The <c>flow</c> block (flowadm's add-flow): what it binds to, and when two flows overlap.</summary>
public class FlowTests
{
    private static string Host(string flows) => TestSources.Host(
        "    container web on n0 { mac 02:00:00:00:00:01; ip 10.0.0.1; protocols tcp udp; ports 80 53 }\n" + flows, model: "simnic-100g");

    [Fact]
    public void A_flow_binds_its_selectors_bandwidth_and_priority_and_bandwidth_zero_blocks_it()
    {
        var compilation = TestSources.Compile(Host("""
                flow http on web { transport tcp; local-port 80; remote-ip 10.0.0.0/8; remote-port 40000; bandwidth 100M; priority high }
                flow dns on web { transport udp; local-port 53; bandwidth 0 }
                flow rest on web { transport tcp; local-port 443; remote-ip fd00::/16 }

            """));

        Assert.Empty(compilation.Errors());
        var flows = compilation.Hosts[0].Definition.Flows;
        Assert.Equal(new[] { "http", "dns", "rest" }, flows.Select(f => f.Name));
        var http = flows[0];
        Assert.Equal(("web", TransportProtocols.Tcp, 80, "10.0.0.0/8", 40000, 100_000_000UL, FlowPriority.High),
            (http.Vnic, http.Transport, http.LocalPort, http.RemoteIp.ToString(), http.RemotePort, http.Bandwidth!.Value.BitsPerSecond, http.Priority));
        Assert.True(flows[1].Blocked);
        Assert.False(http.Blocked);
        Assert.Equal(FlowPriority.Medium, flows[2].Priority);
        Assert.Null(flows[2].Bandwidth);
    }

    [Theory]
    [InlineData("0M")]
    [InlineData("0.0Gbps")]
    [InlineData("0k")]
    public void A_zero_with_a_unit_blocks_the_flow_too(string zero)
    {
        // "0M" was refused as "a rate must be positive" (found by a drive of the docs).
        var compilation = TestSources.Compile(Host($"    flow dns on web {{ transport udp; local-port 53; bandwidth {zero} }}\n"));
        Assert.Empty(compilation.Errors());
        Assert.True(compilation.Hosts[0].Definition.Flows[0].Blocked);
    }

    [Theory]
    [InlineData(".")]
    [InlineData(".M")]
    [InlineData("0.")]
    public void What_only_looks_like_a_zero_is_no_bandwidth(string text)
    {
        // It blocked the flow, silently (found by review).
        var compilation = TestSources.Compile(Host($"    flow dns on web {{ transport udp; local-port 53; bandwidth {text} }}\n"));
        Assert.Contains(compilation.Errors(), d => d.Id == "NB0014");
    }

    [Theory]
    [InlineData("transport tcp; local-port 80", "transport tcp; local-port 81", false)]
    [InlineData("transport tcp; local-port 80", "transport udp; local-port 80", false)]
    [InlineData("transport tcp; local-port 80", "transport tcp", true)]
    [InlineData("remote-ip 10.0.0.0/8", "remote-ip 10.1.0.0/16", true)]
    [InlineData("remote-ip 10.0.0.0/16", "remote-ip 10.1.0.0/16", false)]
    [InlineData("remote-ip 10.0.0.0/8", "remote-ip fd00::/8", false)]
    [InlineData("remote-ip fd00::/16", "remote-ip fd00:1::/32", true)]
    [InlineData("transport udp; remote-port 53", "transport udp; local-port 53", true)]
    public void Two_flows_on_one_vnic_overlap_when_one_frame_could_match_both(string first, string second, bool overlap)
    {
        var compilation = TestSources.Compile(Host($"    flow f on web {{ {first} }}\n    flow g on web {{ {second} }}\n"));

        Assert.Equal(overlap, compilation.Diagnostics.Any(d => d.Id == "NB0034"));
    }

    [Theory]
    [InlineData("transport tcp; local-port 8080", "'local-port 8080' is neither a port it declares (ports 80 53) nor an ephemeral one (49152–65535)")]
    [InlineData("transport tcp; local-port 50000", null)] // its own connections' replies
    [InlineData("transport udp; local-port 53", null)]
    [InlineData("transport tcp", null)]
    [InlineData("remote-ip 10.0.0.0/8", null)]
    public void A_flow_the_port_check_starves_is_a_located_warning(string fields, string? reason)
    {
        // A flow on an undeclared port counted nothing and limited nothing, unsaid: the
        // classifier drops its frames before flows sort them (found by a new user's drive).
        var compilation = TestSources.Compile(Host($"    flow f on web {{ {fields} }}\n"));

        var warning = compilation.Diagnostics.SingleOrDefault(d => d.Id == "NB0040");
        Assert.Equal(reason is not null, warning is not null);
        if (warning is null) return;
        Assert.Equal(Diagnostics.DiagnosticSeverity.Warning, warning.Severity);
        Assert.Equal($"flow 'f' on container 'web' can never see a frame: {reason}; the classifier drops every such frame as no-match before flows sort them", warning.Message);
        Assert.Single(warning.RelatedLocations); // the VNIC's `ports`
    }

    [Theory]
    [InlineData("container", "protocols tcp; ports 80", "transport udp", "'transport udp' is not a transport it serves (protocols tcp)")]
    [InlineData("container", "protocols tcp", "transport udp; local-port 9", null)] // no ports: no port check
    [InlineData("vm", "ip 10.0.0.2", "transport udp; local-port 9", null)]          // a VM has no port check
    public void Only_a_vnic_that_declares_ports_starves_a_flow(string kind, string properties, string fields, string? reason)
    {
        var compilation = TestSources.Compile(TestSources.Host($"    {kind} a on n0 {{ mac 02:00:00:00:00:01; {properties} }}\n    flow f on a {{ {fields} }}\n", model: "simnic-100g"));

        var warning = compilation.Diagnostics.SingleOrDefault(d => d.Id == "NB0040");
        Assert.Equal(reason, warning is null ? null : warning.Message.Split(": ", 2)[1].Split("; the classifier")[0]);
    }

    [Theory]
    [InlineData("transport icmp")]                 // NB0029
    [InlineData("transport tcp; remote-ip 10.0.0.1/33")] // NB0008
    [InlineData("transport tcp; local-port 70000")]   // NB0021
    public void A_flow_with_a_field_in_error_is_left_out_and_blamed_for_no_overlap(string fields)
    {
        var compilation = TestSources.Compile(Host($"    flow x on web {{ {fields} }}\n    flow y on web {{ transport udp; local-port 53 }}\n    flow z on web {{ transport tcp; local-port 80 }}\n"));

        var error = Assert.Single(compilation.Errors()); // the field's own, no NB0034 for y or z
        Assert.NotEqual("NB0034", error.Id);
    }

    [Fact]
    public void A_flow_with_a_field_in_error_is_still_checked_for_its_vnic()
    {
        var errors = TestSources.Compile(Host("    flow f on wbe { transport tcp; local-port 99999 }\n")).Errors();

        Assert.Equal(["NB0021", "NB0033"], errors.Select(e => e.Id).Order());
    }

    [Theory]
    [InlineData("wbe", " (did you mean 'web'?)")] // a typo
    [InlineData("aa", " (did you mean 'a'?)")]    // a letter doubled
    [InlineData("zz", "")]                         // nothing kept of 'a' (within two edits of it, but no typo of it): no suggestion
    [InlineData("b", " (did you mean 'a'?)")]      // one letter: a neighbouring key may be meant
    public void A_flow_on_an_unknown_vnic_suggests_only_a_name_it_could_be_a_typo_of(string target, string hint)
    {
        var text = TestSources.Host(
            "    container web on n0 { mac 02:00:00:00:00:01; ip 10.0.0.1; protocols tcp; ports 80 }\n" +
            "    vm a on n0 { mac 02:00:00:00:00:02 }\n" +
            $"    flow f on {target} {{ transport tcp }}\n", model: "simnic-100g");
        var error = Assert.Single(TestSources.Compile(text).Errors(), e => e.Id == "NB0033");

        Assert.EndsWith($"does not declare as a vm, container or service{hint}", error.Message);
    }

    [Fact]
    public void A_flow_header_names_its_vnic()
    {
        var diagnostics = TestSources.Compile(Host("    flow f { transport tcp }\n")).Errors();

        Assert.Contains(diagnostics, d => d.Id == "NB0001" && d.Message.Contains("'on <vnic>'"));
    }
}

/// <summary>NB0037: a host's flows are bounded, and the build stays linear past the bound.</summary>
public class FlowBoundTests
{
    [Fact]
    public void Flows_past_1024_are_one_located_error_and_left_out()
    {
        // 1,100 flows on one container, each on its own port: no two overlap.
        var flows = string.Concat(Enumerable.Range(1, 1100).Select(i => $"    flow f{i} on web {{ transport udp; local-port {i} }}\n"));
        var text = "host h {\n    nic e0 { model simnic-10g; rx-rings 2 }\n    container web on e0 { mac 02:00:00:00:00:01; ip 10.0.0.1; protocols udp; ports 53 }\n" + flows + "}\n";

        var compilation = TestSources.Compile(text);

        var error = Assert.Single(compilation.Errors());
        Assert.Equal("NB0037", error.Id);
        Assert.Equal(4 + 1024, error.Location.Span.Line); // the 1,025th flow
        Assert.Contains("host 'h' declares more than 1024 flows", error.Message);
        Assert.Equal(1024, Assert.Single(compilation.Hosts).Definition.Flows.Count);
    }

    [Fact]
    public void What_is_declared_on_nics_and_vnics_left_out_past_their_bounds_is_not_also_unknown()
    {
        // 257 NICs, and a VM on the 257th (left out): the VM is not on an unknown NIC as well.
        var nics = string.Concat(Enumerable.Range(1, 257).Select(i => $"    nic n{i} {{ model simnic-1g; rx-rings 1 }}\n"));
        var text = "host h {\n" + nics + "    vm late on n257 { mac 02:00:00:00:00:01 }\n    vm v on n1 { mac 02:00:00:00:00:02 }\n}\n";

        var compilation = TestSources.Compile(text);

        var error = Assert.Single(compilation.Errors());
        Assert.Equal("NB0037", error.Id); // no NB0010 "no such NIC 'n257' (did you mean 'n25'?)"
    }
}

/// <summary>NB0037 on a VNIC's lists: each kind past its bound is one located error, the rest left out.</summary>
public class VnicValueBoundTests
{
    [Fact]
    public void A_vnic_listing_more_than_256_macs_or_1024_ports_gets_one_error_for_each()
    {
        var macs = string.Join(" ", Enumerable.Range(1, 300).Select(i => $"02:00:00:00:{i >> 8:x2}:{i & 255:x2}"));
        var ports = string.Join(" ", Enumerable.Range(1, 2000));
        var text = $"host h {{\n    nic e0 {{ model simnic-10g; rx-rings 2 }}\n    container web on e0 {{\n        mac {macs}\n        protocols udp\n        ports {ports}\n    }}\n}}\n";

        var compilation = TestSources.Compile(text);

        var errors = compilation.Errors().Where(e => e.Id == "NB0037").ToList();
        Assert.Equal(2, errors.Count);
        Assert.Contains("container 'web' declares more than 256 MACs", errors[0].Message);
        Assert.Equal((4, 13 + 256 * 18), (errors[0].Location.Span.Line, errors[0].Location.Span.Column)); // the 257th MAC
        Assert.Contains("container 'web' declares more than 1024 ports", errors[1].Message);
    }

    [Fact]
    public void Three_hundred_thousand_bad_values_make_a_bounded_number_of_diagnostics()
    {
        var bad = string.Join(" ", Enumerable.Repeat("zz", 300_000));
        var text = $"host h {{\n    nic e0 {{ model simnic-10g; rx-rings 2 }}\n    container web on e0 {{\n        mac {bad}\n        protocols udp\n        ports {string.Join(" ", Enumerable.Repeat("80", 300_000))}\n    }}\n}}\n";

        var compilation = TestSources.Compile(text);

        // 256 bad MACs and 1,024 ports (one of them valid, the rest listed twice) are reported; the rest are left out with one NB0037 each.
        Assert.InRange(compilation.Diagnostics.Count, 2, 256 + 1024 + 10);
        Assert.Equal(2, compilation.Diagnostics.Count(d => d.Id == "NB0037"));
    }
}
