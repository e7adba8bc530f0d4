using Microsoft.CodeAnalysis;

namespace NicBypass.Generators.Tests;

public class GeneratorTests
{
    public static TheoryData<string> Samples => new()
    {
        "QuickStart/web01.nicdsl",
        "Oversubscribed/edge.nicdsl",
        "MultiNic/lab.nicdsl",
        "Bandwidth/limits.nicdsl",
        "Stacks/services.nicdsl",
    };

    [Theory]
    [MemberData(nameof(Samples))]
    public void Generated_code_compiles_without_warnings(string sample)
    {
        var (_, output, diagnostics) = GeneratorHarness.Run((Path.GetFileName(sample), GeneratorHarness.Sample(sample)));

        Assert.DoesNotContain(diagnostics, d => d.Severity >= DiagnosticSeverity.Warning);
        var problems = output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
        Assert.True(problems.Count == 0, string.Join("\n", problems));
        Assert.Single(output.SyntaxTrees, t => t.FilePath.EndsWith(".g.cs", StringComparison.Ordinal));
    }

    [Fact]
    public void A_vnic_named_like_a_generated_classifier_does_not_collide_with_it()
    {
        // The NIC's specialised lookups are nested classes of the host class; a VNIC's property is
        // its name in PascalCase. "n0-hardware-classifier" was N0HardwareClassifier, the hardware
        // lookup's name too (CS0102, found by a new user's drive); so for a software ring's.
        var (_, output, diagnostics) = GeneratorHarness.Run(("clash.nicdsl", """
            host h {
                nic n0 { model simnic-10g; rx-rings 1 }
                vm n0-hardware-classifier on n0 { mac 02:00:00:00:00:01 }
                vm n0-sr0-classifier on n0 { mac 02:00:00:00:00:02 }
                vm c on n0 { mac 02:00:00:00:00:03 }
            }
            """));
        Assert.DoesNotContain(diagnostics, d => d.Severity >= DiagnosticSeverity.Warning);
        var problems = output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
        Assert.True(problems.Count == 0, string.Join("\n", problems));
        Assert.Contains("Sr0", output.SyntaxTrees.Single(t => t.FilePath.EndsWith(".g.cs", StringComparison.Ordinal)).ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void Generated_code_matches_its_snapshot(string sample)
    {
        var (_, output, _) = GeneratorHarness.Run((Path.GetFileName(sample), GeneratorHarness.Sample(sample)));
        var generated = output.SyntaxTrees.Single(t => t.FilePath.EndsWith(".g.cs", StringComparison.Ordinal)).ToString();
        var snapshot = Path.Combine(SnapshotDirectory(), sample.Replace('/', '.').Replace(".nicdsl", ".g.cs"));

        if (!File.Exists(snapshot) || Environment.GetEnvironmentVariable("UPDATE_SNAPSHOTS") == "1")
        {
            File.WriteAllText(snapshot, generated);
            Assert.Fail($"snapshot {snapshot} written; review and commit it, then run again");
        }
        Assert.Equal(File.ReadAllText(snapshot), generated);
    }

    [Fact]
    public void Identical_input_gives_identical_output()
    {
        var text = GeneratorHarness.Sample("Oversubscribed/edge.nicdsl");

        var first = GeneratorHarness.Run(("edge.nicdsl", text)).Output.SyntaxTrees.Last().ToString();
        var second = GeneratorHarness.Run(("edge.nicdsl", text)).Output.SyntaxTrees.Last().ToString();

        Assert.Equal(first, second);
    }

    [Fact]
    public void The_namespace_is_the_root_namespace_plus_the_files_folder()
    {
        var (_, output, _) = GeneratorHarness.Run(("hosts/lab-1/web01.nicdsl", GeneratorHarness.Sample("QuickStart/web01.nicdsl")));

        var generated = output.SyntaxTrees.Single(t => t.FilePath.EndsWith(".g.cs", StringComparison.Ordinal));
        Assert.Contains("namespace Consumer.hosts.lab_1", generated.ToString());
        Assert.EndsWith("hosts.lab-1.web01.Web01.g.cs", generated.FilePath);
    }

    [Fact]
    public void A_folder_named_after_a_keyword_is_escaped_in_the_namespace_and_the_code_compiles()
    {
        // 'class' and 'event' as folders: `namespace Consumer.@class.@event` — the bare keywords
        // made the namespace line a CS1001 in generated code (found by a new user's drive).
        var (_, output, diagnostics) = GeneratorHarness.Run(("class/event/web01.nicdsl", GeneratorHarness.Sample("QuickStart/web01.nicdsl")));

        var generated = output.SyntaxTrees.Single(t => t.FilePath.EndsWith(".g.cs", StringComparison.Ordinal));
        Assert.Contains("namespace Consumer.@class.@event", generated.ToString());
        Assert.DoesNotContain(diagnostics, d => d.Severity == DiagnosticSeverity.Error);
        var problems = output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void Errors_are_build_diagnostics_at_the_line_and_column_of_check()
    {
        const string text = "host h {\n    nic n0 {\n        model simnic-10g\n        rx-ring 4\n    }\n}\n";

        var (_, output, diagnostics) = GeneratorHarness.Run(("bad.nicdsl", text));

        var error = Assert.Single(diagnostics, d => d.Id == "NB0002");
        Assert.Equal(DiagnosticSeverity.Error, error.Severity);
        var span = error.Location.GetLineSpan();
        Assert.Equal(GeneratorHarness.ProjectDir + "bad.nicdsl", span.Path);
        Assert.Equal((3, 8), (span.StartLinePosition.Line, span.StartLinePosition.Character)); // 0-based: line 4, column 9
        Assert.Equal("'rx-ring' is not a property of nic 'n0' (did you mean 'rx-rings'?)", error.GetMessage());
        Assert.Equal("https://github.com/nicbypass/nicbypass/blob/main/docs/diagnostics.md#nb0002", error.Descriptor.HelpLinkUri);
        Assert.False(string.IsNullOrWhiteSpace(error.Descriptor.Description.ToString()));
        // The host is not generated: a stand-in keeps code that uses it compiling.
        Assert.Contains("a stand-in", Assert.Single(output.SyntaxTrees, t => t.FilePath.EndsWith(".g.cs", StringComparison.Ordinal)).ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void An_error_in_one_host_leaves_every_valid_host_generated()
    {
        var (_, output, diagnostics) = GeneratorHarness.Run(
            ("good.nicdsl", "host good { nic e0 { model simnic-1g; rx-rings 1 }\n vm v on e0 { mac 02:00:00:00:00:01 } }"),
            ("bad.nicdsl", "host bad { nic e0 { model simnic-1g; rx-ring 1 }\n vm v on e0 { mac 02:00:00:00:00:02 } }\n" +
                           "host fine { nic e0 { model simnic-1g; rx-rings 1 }\n vm v on e0 { mac 02:00:00:00:00:03 } }"));

        Assert.Contains(diagnostics, d => d.Id == "NB0002");
        var names = output.SyntaxTrees.Select(t => Path.GetFileName(t.FilePath)).Where(n => n.EndsWith(".g.cs", StringComparison.Ordinal)).OrderBy(n => n).ToList();
        Assert.Equal(new[] { "bad.Bad.g.cs", "bad.Fine.g.cs", "good.Good.g.cs" }, names); // the host with the error, and only it, is a stand-in
        Assert.Contains("a stand-in", output.SyntaxTrees.Single(t => t.FilePath.EndsWith("bad.Bad.g.cs", StringComparison.Ordinal)).ToString(), StringComparison.Ordinal);
        Assert.Empty(output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning)); // no follow-on C# errors
    }

    [Fact]
    public void Code_that_uses_a_host_with_errors_still_compiles_against_its_stand_in()
    {
        // Without the stand-in the host's class was missing, and every use of it was a CS0234 or
        // CS0246 beside the host's own NB error (found by a new user's drive).
        var driver = GeneratorHarness.Driver(new[] { (Microsoft.CodeAnalysis.AdditionalText)new GeneratorHarness.InMemoryText(GeneratorHarness.ProjectDir + "stand.nicdsl",
            "host stand-in {\n nic e0 { model simnic-1g; rx-rings 1 }\n vm guest on e0 { mac 02:00:00:00:00:01 }\n container web on e0 { mac 02:00:00:00:00:02; ip 10.0.0.2/99; protocols tcp; ports 80 }\n vm not-built on e0 { mac 02:00:00:00:00:03 }\n}\n") });
        driver.RunGeneratorsAndUpdateCompilation(GeneratorHarness.Compilation(
            "namespace Consumer { public static class Use { public static object M() { using var h = new StandIn(); return (h.E0.Device, h.Guest.Stack, h.Web.Stack, h.Host, StandIn.Placement.Length); } } }"),
            out var output, out var diagnostics);

        Assert.Equal("NB0008", Assert.Single(diagnostics, d => d.Severity == DiagnosticSeverity.Error).Id);
        var problems = output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void Code_that_uses_a_nic_whose_block_failed_to_bind_and_the_vnics_on_it_still_compiles_against_the_stand_in()
    {
        // A NIC of an unknown model, or with more rings than its model has, is left out of the
        // bound host, and the VNICs on it with it: the stand-in had no property for them, so every
        // use was a CS1061 beside the block's own NB error.
        var driver = GeneratorHarness.Driver(new[] { (Microsoft.CodeAnalysis.AdditionalText)new GeneratorHarness.InMemoryText(GeneratorHarness.ProjectDir + "stand.nicdsl",
            "host stand-in {\n nic e0 { model simnic-9g; rx-rings 1 }\n nic e1 { model simnic-1g; rx-rings 9 }\n vm guest on e0 { mac 02:00:00:00:00:01 }\n container web on e1 { mac 02:00:00:00:00:02; ip 10.0.0.2; protocols tcp; ports 80 }\n}\n") });
        driver.RunGeneratorsAndUpdateCompilation(GeneratorHarness.Compilation(
            "namespace Consumer { public static class Use { public static object M() { using var h = new StandIn(); return (h.E0.Device, h.E1.Device, h.Guest.Stack, h.Web.Stack); } } }"),
            out var output, out var diagnostics);

        Assert.Equal(new[] { "NB0012", "NB0025" }, diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.Id).OrderBy(id => id));
        var problems = output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void A_host_repeated_in_another_file_gets_no_stand_in_beside_the_first()
    {
        var (_, output, diagnostics) = GeneratorHarness.Run(
            ("a.nicdsl", "host twice { nic e0 { model simnic-1g; rx-rings 1 }\n vm v on e0 { mac 02:00:00:00:00:01 } }"),
            ("b.nicdsl", "host twice { nic e0 { model simnic-1g; rx-rings 1 }\n vm v on e0 { mac 02:00:00:00:00:02 } }"));

        Assert.Contains(diagnostics, d => d.Id == "NB0003");
        Assert.Single(output.SyntaxTrees, t => t.FilePath.EndsWith(".g.cs", StringComparison.Ordinal));
        Assert.Empty(output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning)); // no CS0101
    }

    [Fact]
    public void A_stand_in_never_takes_a_hint_name_a_valid_host_has()
    {
        // "a.b.nicdsl" and "a/b.nicdsl" give one hint name; a second AddSource of it failed the
        // generator (CS8785) and nothing was generated (found by review).
        var (_, output, diagnostics) = GeneratorHarness.Run(
            ("a.b.nicdsl", "host twice { nic e0 { model simnic-1g; rx-rings 1 }\n vm v on e0 { mac 02:00:00:00:00:01 } }"),
            ("a/b.nicdsl", "host twice { nic e0 { model simnic-1g; rx-rings 1 }\n vm v on e0 { mac 02:00:00:00:00:02 } }"));

        Assert.Contains(diagnostics, d => d.Id == "NB0003");
        Assert.DoesNotContain(diagnostics, d => d.Id == "CS8785");
        Assert.Single(output.SyntaxTrees, t => t.FilePath.EndsWith(".g.cs", StringComparison.Ordinal));
    }

    [Fact]
    public void A_syntax_error_in_one_host_leaves_the_same_files_valid_hosts_generated()
    {
        var (_, output, diagnostics) = GeneratorHarness.Run(
            ("mixed.nicdsl", "host broken {\n nic e0 { model simnic-1g; rx-rings 1 {\n}\n" +
                             "host fine {\n nic e0 { model simnic-1g; rx-rings 1 }\n vm v on e0 { mac 02:00:00:00:00:03 }\n}\n"));

        var error = Assert.Single(diagnostics, d => d.Severity == DiagnosticSeverity.Error);
        Assert.Equal("NB0001", error.Id);
        Assert.Equal(1, error.Location.GetLineSpan().StartLinePosition.Line);
        var names = output.SyntaxTrees.Select(t => Path.GetFileName(t.FilePath)).Where(n => n.EndsWith(".g.cs", StringComparison.Ordinal)).ToList();
        Assert.Equal(new[] { "mixed.Fine.g.cs" }, names);
        Assert.Empty(output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning));
    }

    [Theory]
    [InlineData("host broken {\n nic e0 { model simnic-1g; rx-rings 1 }\n\n")]                  // lost its closing brace
    [InlineData("Host broken {\n nic e0 { model simnic-1g; rx-rings 1 }\n}\n")]               // a misspelt keyword
    [InlineData("host good0 {\n nic e0 { model simnic-1g; rx-rings 1 }\n vm w on e0 { mac 02:00:00:00:00:04 }\n}\n}\n")] // a stray brace after a valid host
    public void A_broken_host_never_takes_a_valid_neighbour_in_the_same_file_with_it(string broken)
    {
        var (_, output, diagnostics) = GeneratorHarness.Run(
            ("mixed.nicdsl", broken + "host fine {\n nic e0 { model simnic-1g; rx-rings 1 }\n vm v on e0 { mac 02:00:00:00:00:03 }\n}\n"));

        Assert.Equal("NB0001", Assert.Single(diagnostics, d => d.Severity == DiagnosticSeverity.Error).Id);
        var names = output.SyntaxTrees.Select(t => Path.GetFileName(t.FilePath)).Where(n => n.EndsWith(".g.cs", StringComparison.Ordinal)).ToList();
        Assert.Contains("mixed.Fine.g.cs", names);
        if (broken.StartsWith("host good0", StringComparison.Ordinal)) Assert.Contains("mixed.Good0.g.cs", names);
        Assert.Empty(output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning));
    }

    [Fact]
    public void Interrupt_moderation_reaches_the_generated_nic_settings_and_compiles()
    {
        var (_, output, diagnostics) = GeneratorHarness.Run(
            ("m.nicdsl", "host m {\n nic e0 { model simnic-10g; rx-rings 1; interrupt-moderation 8us }\n vm v on e0 { mac 02:00:00:00:00:03 }\n}\n"));

        Assert.DoesNotContain(diagnostics, d => d.Severity == DiagnosticSeverity.Error);
        var generated = output.SyntaxTrees.Single(t => t.FilePath.EndsWith("m.M.g.cs", StringComparison.Ordinal)).ToString();
        Assert.Contains("LinkSpeedBitsPerSecond: 10_000_000_000L, InterruptModerationMicroseconds: 8));", generated);
        Assert.Empty(output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning));

        var (_, adaptive, _) = GeneratorHarness.Run(
            ("m.nicdsl", "host m {\n nic e0 { model simnic-10g; rx-rings 1; interrupt-moderation adaptive }\n vm v on e0 { mac 02:00:00:00:00:03 }\n}\n"));
        Assert.Contains("InterruptModerationMicroseconds: global::NicBypass.Runtime.Devices.SimNicSettings.AdaptiveModeration));",
            adaptive.SyntaxTrees.Single(t => t.FilePath.EndsWith("m.M.g.cs", StringComparison.Ordinal)).ToString());
        Assert.Empty(adaptive.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning));
    }

    [Fact]
    public void Related_locations_travel_with_the_diagnostic()
    {
        const string text = "host h {\n nic n0 { model simnic-1g; rx-rings 2 }\n vm a on n0 { mac 02:00:00:00:00:01 }\n vm b on n0 { mac 02:00:00:00:00:01 }\n}\n";

        var (_, _, diagnostics) = GeneratorHarness.Run(("dup.nicdsl", text));

        var duplicate = Assert.Single(diagnostics, d => d.Id == "NB0007");
        Assert.Equal(3, duplicate.Location.GetLineSpan().StartLinePosition.Line);
        Assert.Equal(2, Assert.Single(duplicate.AdditionalLocations).GetLineSpan().StartLinePosition.Line);
    }

    [Fact]
    public void Warnings_do_not_stop_generation()
    {
        const string text = "host h {\n nic n0 { model simnic-1g; rx-rings 2 }\n nic n1 { model simnic-1g; rx-rings 1 }\n vm a on n0 { mac 02:00:00:00:00:01 }\n}\n";

        var (_, output, diagnostics) = GeneratorHarness.Run(("warn.nicdsl", text));

        Assert.Contains(diagnostics, d => d.Id == "NB0023" && d.Severity == DiagnosticSeverity.Warning);
        Assert.Contains(output.SyntaxTrees, t => t.FilePath.EndsWith("warn.H.g.cs", StringComparison.Ordinal));
    }

    [Fact]
    public void Several_hosts_and_files_each_get_a_class()
    {
        var (_, output, diagnostics) = GeneratorHarness.Run(
            ("a.nicdsl", "host one { nic e0 { model simnic-1g; rx-rings 1 }\n vm v on e0 { mac 02:00:00:00:00:01 } }\nhost two { nic e0 { model simnic-1g; rx-rings 1 }\n vm v on e0 { mac 02:00:00:00:00:02 } }"),
            ("b/c.nicdsl", "host three { nic e0 { model simnic-1g; rx-rings 1 }\n vm v on e0 { mac 02:00:00:00:00:03 } }"));

        Assert.Empty(diagnostics);
        var names = output.SyntaxTrees.Select(t => Path.GetFileName(t.FilePath)).Where(n => n.EndsWith(".g.cs", StringComparison.Ordinal)).OrderBy(n => n).ToList();
        Assert.Equal(new[] { "a.One.g.cs", "a.Two.g.cs", "b.c.Three.g.cs" }, names);
        Assert.Empty(output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning));
    }

    [Fact]
    public void A_large_host_uses_a_baked_hash_table_and_still_compiles()
    {
        var body = string.Concat(Enumerable.Range(1, 40).Select(i => $" vm v{i} on e0 {{ mac 02:00:00:00:{i / 256:x2}:{i % 256:x2} }}\n"));
        var (_, output, diagnostics) = GeneratorHarness.Run(("big.nicdsl", "host big {\n nic e0 { model simnic-10g; rx-rings 4; soft-ring-width 8 }\n" + body + "}\n"));

        Assert.DoesNotContain(diagnostics, d => d.Severity == DiagnosticSeverity.Error);
        var generated = output.SyntaxTrees.Single(t => t.FilePath.EndsWith(".g.cs", StringComparison.Ordinal)).ToString();
        Assert.Contains("private static readonly (ulong Mac, int Slot)[] Placed", generated);
        Assert.Contains("Straight-line compares", generated); // small software rings
        Assert.Empty(output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning));
    }

    [Theory]
    [InlineData("R&D.nicdsl")]
    [InlineData("<t>.nicdsl")]
    [InlineData("two\nlines.nicdsl")]
    [InlineData("bad&<.nicdsl")]
    [InlineData("bad\nline.nicdsl")] // a stand-in's documentation names the file too
    public void A_file_name_any_file_system_allows_makes_well_formed_code_and_documentation(string name)
    {
        // An & or < went into the class's XML documentation as it was (CS1570 where a consumer
        // generates documentation and treats warnings as errors: found by a new user's drive); a
        // line break in the name would have ended the header comment.
        var host = name.StartsWith("bad", StringComparison.Ordinal) ? "host h { nic e0 { model simnic-5g } }\n" : "host h { nic e0 { model simnic-1g; rx-rings 1 }\n vm a on e0 { mac 02:00:00:00:00:01 } }\n";
        var (_, output, _) = GeneratorHarness.Run((name, host));

        var generated = Assert.Single(output.SyntaxTrees, t => t.FilePath.EndsWith(".g.cs", StringComparison.Ordinal));
        var reparsed = Microsoft.CodeAnalysis.CSharp.CSharpSyntaxTree.ParseText(generated.ToString(),
            new Microsoft.CodeAnalysis.CSharp.CSharpParseOptions(Microsoft.CodeAnalysis.CSharp.LanguageVersion.Latest, Microsoft.CodeAnalysis.DocumentationMode.Diagnose));
        Assert.Empty(reparsed.GetDiagnostics());
        Assert.Contains("public sealed partial class H", generated.ToString());
    }

    internal static string SnapshotDirectory([System.Runtime.CompilerServices.CallerFilePath] string path = "") =>
        Path.Combine(Path.GetDirectoryName(path)!, "Snapshots");
}

public class LargeFileTests
{
    [Fact]
    public void A_thousand_vnic_file_generates_code_that_compiles()
    {
        var text = new System.Text.StringBuilder("host big {\n cpus 64\n");
        for (var n = 0; n < 4; n++) text.Append($" nic e{n} {{ model simnic-100g; rx-rings 64; tx-rings 16; ring-size 4096 }}\n");
        for (var i = 0; i < 1000; i++)
        {
            var kind = (i % 3) switch { 0 => "vm", 1 => "container", _ => "service" };
            text.Append($" {kind} t{i} on e{i / 250} {{ mac 02:00:00:{i >> 8 & 0xff:x2}:{i & 0xff:x2}:01; ip 10.0.{i >> 8 & 0xff}.{i & 0xff}/8; cpu {i % 64}");
            if (i % 7 == 0) text.Append("; ring hardware");
            if (i % 2 == 0) text.Append($"; bandwidth {10 + i % 90}M");
            if (kind != "vm") text.Append("; protocols tcp udp; ports 80 443");
            text.Append(" }\n");
        }
        text.Append("}\n");

        var (_, output, diagnostics) = GeneratorHarness.Run(("big.nicdsl", text.ToString()));

        Assert.True(!diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error), string.Join("\n", diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Take(3)));
        Assert.Single(output.SyntaxTrees, t => t.FilePath.EndsWith(".g.cs", StringComparison.Ordinal));
        var errors = output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).Take(3).ToList();
        Assert.True(errors.Count == 0, string.Join("\n", errors));
    }

    [Fact]
    public void Containers_that_all_check_the_same_fields_get_their_options_baked_as_a_constant_probe_loop_included()
    {
        var text = new System.Text.StringBuilder("host shared {\n cpus 8\n nic e0 { model simnic-100g; rx-rings 64; ring-size 256 }\n");
        // Scattered MACs (sequential ones hash into their home slots): the table needs probes.
        var random = new Random(7);
        var macs = new HashSet<string>();
        while (macs.Count < 1000) macs.Add($"02:{random.Next(256):x2}:{random.Next(256):x2}:{random.Next(256):x2}:{random.Next(256):x2}:{random.Next(256):x2}");
        var i = 0;
        foreach (var mac in macs)
        {
            text.Append($" container c{i} on e0 {{ mac {mac}; ip 10.1.{i >> 8 & 0xff}.{i & 0xff}; protocols tcp udp; ports 80 443 }}\n");
            i++;
        }
        text.Append("}\n");

        var (_, output, diagnostics) = GeneratorHarness.Run(("shared.nicdsl", text.ToString()));

        Assert.True(!diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error), string.Join("\n", diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Take(3)));
        var generated = output.SyntaxTrees.Single(t => t.FilePath.EndsWith(".g.cs", StringComparison.Ordinal)).ToString();
        Assert.Contains("private const global::NicBypass.Runtime.Classification.FieldCheckOptions SharedOptions = Vlan | Ipv4 | Ports | Tcp | Udp;", generated);
        Assert.Contains("if (Checks[rule].Options != SharedOptions) throw", generated);
        // The hardware classifier's 1,000 MACs do not all fit their home slots: the probe loop passes the constant too.
        var probing = System.Text.RegularExpressions.Regex.Match(generated, @"gives [1-9][0-9]* extra probes");
        Assert.True(probing.Success, "a lookup with a probe loop was generated");
        var match = generated.IndexOf("FieldVerdict Match(", probing.Index, StringComparison.Ordinal);
        var body = generated.Substring(match, generated.IndexOf("\n            }\n", match, StringComparison.Ordinal) - match);
        Assert.Contains("while (true)", body);
        Assert.Contains("slot.Check.Check(frame, header, SharedOptions)", body);
        var errors = output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).Take(3).ToList();
        Assert.True(errors.Count == 0, string.Join("\n", errors));
    }
}

public class RoslynDescriptorTests
{
    [Fact]
    public void The_build_reports_every_language_diagnostic_with_its_id_and_severity()
    {
        var language = NicBypass.Dsl.Diagnostics.DiagnosticDescriptors.All;
        Assert.Equal(language.Select(d => d.Id), RoslynDescriptors.All.Select(d => d.Id));
        foreach (var (dsl, roslyn) in language.Zip(RoslynDescriptors.All))
        {
            var expected = dsl.Severity switch
            {
                NicBypass.Dsl.Diagnostics.DiagnosticSeverity.Error => DiagnosticSeverity.Error,
                NicBypass.Dsl.Diagnostics.DiagnosticSeverity.Warning => DiagnosticSeverity.Warning,
                _ => DiagnosticSeverity.Info,
            };
            Assert.Equal(expected, roslyn.DefaultSeverity);
            Assert.Equal(dsl.HelpLink, roslyn.HelpLinkUri);
        }
    }
}
