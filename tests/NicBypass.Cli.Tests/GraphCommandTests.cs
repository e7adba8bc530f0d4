using System.Text.RegularExpressions;

namespace NicBypass.Cli.Tests;

public class GraphCommandTests
{
    private const string Topology = """
        host g {
            cpus 2
            nic e0 { model simnic-1g; rx-rings 2; soft-ring-width 2 }
            vm a on e0 { mac 02:00:00:00:00:01; ring hardware; transform reverse-bits }
            vm b on e0 { mac 02:00:00:00:00:02 }
            container c on e0 { mac 02:00:00:00:00:03; protocols udp; ports 53 }
            service d on e0 { mac 02:00:00:00:00:04; protocols tcp; ports 80; bandwidth 10M }
        }
        """;

    [Fact]
    public void The_graph_leads_from_the_nic_through_its_rings_to_every_vnic_and_what_is_behind_it()
    {
        var (exit, output, _) = CliRunner.Run("graph", CliRunner.TempFile(Topology));

        Assert.Equal(0, exit);
        Assert.StartsWith("digraph nicbypass {", output);
        Assert.Equal(output.Count(c => c == '{'), output.Count(c => c == '}'));
        var edges = Regex.Matches(output, "\"([^\"]+)\" -> \"([^\"]+)\"").Select(m => (From: m.Groups[1].Value, To: m.Groups[2].Value)).ToList();
        // a has hrr0 to itself; b, c and d share hrr1 through software rings (width 2: nested).
        Assert.Contains(("g/nic/e0", "g/nic/e0/hrr0"), edges);
        Assert.Contains(("g/nic/e0/hrr0", "g/vnic/a"), edges);
        Assert.Contains(("g/nic/e0/hrr1", "g/nic/e0/sr0"), edges);
        Assert.Contains(("g/vnic/a", "g/vm/a"), edges);
        Assert.Contains(("g/vnic/c", "g/container/c"), edges);
        Assert.Contains(("g/vnic/d", "g/service/d"), edges);
        foreach (var (vnic, behind) in new[] { ("a", "g/vm/a"), ("b", "g/vm/b"), ("c", "g/container/c"), ("d", "g/service/d") })
        {
            Assert.True(Reachable(edges, "g/nic/e0", behind), $"no path from the NIC to {behind}");
        }
        Assert.Contains("interface: reverse-bits", output);
        Assert.Contains("VNS: udp, ports 53\\nVSQs concurrent", output);
        Assert.Contains("VNS: tcp, ports 80\\nVSQs mutually exclusive", output);
    }

    [Fact]
    public void Nodes_named_alike_stay_apart_a_nic_named_vnic_and_vms_named_after_its_rings()
    {
        var (exit, output, _) = CliRunner.Run("graph", CliRunner.TempFile("""
            host h {
                nic vnic { model simnic-10g; rx-rings 2 }
                vm hrr0 on vnic { mac 02:00:00:00:00:01 }
                vm hrr1 on vnic { mac 02:00:00:00:00:02 }
            }
            """));

        Assert.Equal(0, exit);
        var edges = Regex.Matches(output, "\"([^\"]+)\" -> \"([^\"]+)\"").Select(m => (From: m.Groups[1].Value, To: m.Groups[2].Value)).ToList();
        Assert.DoesNotContain(edges, e => e.From == e.To);
        Assert.Contains(("h/nic/vnic/hrr0", "h/vnic/hrr0"), edges);
        Assert.True(Reachable(edges, "h/nic/vnic", "h/vm/hrr1"));
    }

    [Fact]
    public void Dot_goes_to_a_file_and_svg_is_rendered_where_graphviz_is_installed()
    {
        var input = CliRunner.TempFile(Topology);
        var dotPath = Path.ChangeExtension(input, ".dot");
        Assert.Equal(0, CliRunner.Run("graph", input, "--out", dotPath).ExitCode);
        Assert.StartsWith("digraph nicbypass {", File.ReadAllText(dotPath));

        var svgPath = Path.ChangeExtension(input, ".svg");
        var (exit, _, error) = CliRunner.Run("graph", input, "--out", svgPath);
        var graphviz = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Any(d => File.Exists(Path.Combine(d, "dot")));
        if (graphviz)
        {
            Assert.Equal(0, exit);
            Assert.Contains("<svg", File.ReadAllText(svgPath));
        }
        else
        {
            Assert.Equal(1, exit);
            Assert.Contains("Graphviz 'dot' is not installed", error);
        }
    }

    [Fact]
    public void Png_and_pdf_are_rendered_by_graphviz_and_an_unknown_extension_is_refused_not_filled_with_dot()
    {
        var input = CliRunner.TempFile(Topology);
        var graphviz = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Any(d => File.Exists(Path.Combine(d, "dot")));
        foreach (var (extension, magic) in new[] { (".png", new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }), (".pdf", "%PDF"u8.ToArray()) })
        {
            var path = Path.ChangeExtension(input, extension);
            var (exit, _, error) = CliRunner.Run("graph", input, "--out", path);
            if (graphviz)
            {
                Assert.Equal(0, exit);
                Assert.Equal(magic, File.ReadAllBytes(path).Take(magic.Length));
            }
            else
            {
                Assert.Equal(1, exit);
                Assert.Contains($"Graphviz 'dot' is not installed (or not on PATH), so no {extension.TrimStart('.').ToUpperInvariant()}", error);
            }
        }

        var wrong = Path.ChangeExtension(input, ".docx");
        var (code, _, message) = CliRunner.Run("graph", input, "--out", wrong);
        Assert.Equal(1, code);
        Assert.Contains("unknown extension '.docx'", message);
        Assert.Contains(".dot or .gv for DOT text", message);
        Assert.False(File.Exists(wrong));
    }

    [Fact]
    public void Out_naming_a_directory_says_so_not_that_it_lacks_an_extension()
    {
        var directory = Path.GetDirectoryName(CliRunner.TempFile(""))!;

        var (exit, _, error) = CliRunner.Run("graph", CliRunner.TempFile(Topology), "--out", directory);

        Assert.Equal(1, exit);
        Assert.EndsWith($"{directory}: error: is a directory; --out names the file to write (its extension picks the format)", error.Trim());
        Assert.DoesNotContain("extension to pick", error);
    }

    [Fact]
    public void A_broken_file_gives_its_diagnostics_and_no_graph()
    {
        var (exit, output, error) = CliRunner.Run("graph", CliRunner.TempFile("host x { nic e0 { model simnic-9g } }"));

        Assert.Equal(1, exit);
        Assert.Empty(output);
        Assert.Contains("error NB", error);
    }

    private static bool Reachable(List<(string From, string To)> edges, string from, string to)
    {
        var seen = new HashSet<string> { from };
        var queue = new Queue<string>(new[] { from });
        while (queue.Count > 0)
        {
            var node = queue.Dequeue();
            if (node == to) return true;
            foreach (var edge in edges.Where(e => e.From == node && seen.Add(e.To))) queue.Enqueue(edge.To);
        }
        return false;
    }
}
