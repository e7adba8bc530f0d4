using System.Text.Json;

namespace NicBypass.Cli.Tests;

public class PlanCommandTests
{
    // 17 MACs on simnic-1g (16 entries): v3 is classified in software on the default ring.
    private const string Fallback = """
        host h {
            nic e0 { model simnic-1g; rx-rings 2 }
            vm v1 on e0 { mac 02:00:00:00:00:01; mac 02:00:00:00:00:11 02:00:00:00:00:12 02:00:00:00:00:13 02:00:00:00:00:14 02:00:00:00:00:15 02:00:00:00:00:16 02:00:00:00:00:17 }
            vm v2 on e0 { mac 02:00:00:00:00:02; mac 02:00:00:00:00:21 02:00:00:00:00:22 02:00:00:00:00:23 02:00:00:00:00:24 02:00:00:00:00:25 02:00:00:00:00:26 02:00:00:00:00:27 }
            vm v3 on e0 { mac 02:00:00:00:00:03; ip 10.0.0.3 }
        }
        """;

    [Fact]
    public void A_plan_shows_the_default_ring_and_the_vnics_classified_in_software()
    {
        var file = CliRunner.TempFile(Fallback);

        var (exit, text, _) = CliRunner.Run("plan", file);
        Assert.Equal(0, exit);
        Assert.Contains("<default ring: classifies in software what the hardware does not hold>", text);
        Assert.Contains("v3 (vm, classified in software)", text);
        Assert.DoesNotContain("v2 (vm, classified", text);

        var (_, json, _) = CliRunner.Run("plan", file, "--format", "json");
        using var document = System.Text.Json.JsonDocument.Parse(json);
        var nic = document.RootElement.GetProperty("hosts")[0].GetProperty("nics")[0];
        Assert.Equal(1, nic.GetProperty("defaultRing").GetInt32());
        Assert.Equal("v3", Assert.Single(nic.GetProperty("softwareClassified").EnumerateArray()).GetString());

        var (_, dot, _) = CliRunner.Run("graph", file);
        Assert.Contains("1 VNICs classified in software on hrr1", dot);
    }

    [Fact]
    public void Text_plan_lists_each_ring_like_dladm_show_phys()
    {
        var (exit, output, error) = CliRunner.Run("plan", CliRunner.Sample("QuickStart/web01.nicdsl"));

        Assert.Equal(0, exit);
        Assert.Equal("", error);
        Assert.Equal("""
            HOST web01: 8 cpus, 1 nics, 3 vnics
            LINK  MODEL       RINGTYPE  RINGS   MSI  CLIENTS
            nge0  simnic-10g  RX        hrr0    0    guest1 (vm)
            nge0  simnic-10g  RX        hrr1    1    web (container)
            nge0  simnic-10g  RX        hrr2    2    guest2 (vm)
            nge0  simnic-10g  RX        hrr3    3    <idle>
            nge0  simnic-10g  TX        trr0-1  -    <shared by all VNICs>

            """.Replace("\r\n", "\n"), output);
    }

    [Fact]
    public void Text_plan_indents_nested_software_rings_under_their_ring()
    {
        var (exit, output, error) = CliRunner.Run("plan", CliRunner.Sample("Oversubscribed/edge.nicdsl"));

        Assert.Equal(0, exit);
        Assert.Contains("info NB0027", error);
        Assert.Contains("e1000g0  simnic-1g  RX        hrr1          1    <software ring sr0: 4 SRRs>\n", output);
        Assert.Contains("e1000g0  simnic-1g  SRX         sr0/srr3    -    <software ring sr1: 3 SRRs>\n", output);
        Assert.Contains("e1000g0  simnic-1g  SRX           sr1/srr2  -    scratch (vm)\n", output);
    }

    [Fact]
    public void Json_plan_follows_the_contract_shape()
    {
        var (exit, output, _) = CliRunner.Run("plan", CliRunner.Sample("Oversubscribed/edge.nicdsl"), "--format", "json");

        Assert.Equal(0, exit);
        using var json = JsonDocument.Parse(output);
        var host = json.RootElement.GetProperty("hosts")[0];
        Assert.Equal("edge", host.GetProperty("name").GetString());
        var nic = host.GetProperty("nics")[0];
        Assert.Equal("e1000g0", nic.GetProperty("name").GetString());
        Assert.Equal("simnic-1g", nic.GetProperty("model").GetString());
        var rings = nic.GetProperty("hardwareRings");
        Assert.Equal(0, rings[0].GetProperty("index").GetInt32());
        Assert.Equal("db", rings[0].GetProperty("vnic").GetString());
        Assert.Equal(1, rings[1].GetProperty("index").GetInt32());
        var sr0 = rings[1].GetProperty("softwareRing").GetProperty("rings");
        Assert.Equal(new[] { "web", "api", "dns" }, Enumerable.Range(0, 3).Select(i => sr0[i].GetProperty("vnic").GetString()));
        Assert.Equal(3, sr0[3].GetProperty("index").GetInt32());
        var sr1 = sr0[3].GetProperty("softwareRing").GetProperty("rings");
        Assert.Equal(new[] { "build", "ci", "scratch" }, Enumerable.Range(0, 3).Select(i => sr1[i].GetProperty("vnic").GetString()));
    }

    [Fact]
    public void Json_plan_marks_idle_rings()
    {
        var (_, output, _) = CliRunner.Run("plan", CliRunner.Sample("QuickStart/web01.nicdsl"), "--format", "json");

        using var json = JsonDocument.Parse(output);
        var ring = json.RootElement.GetProperty("hosts")[0].GetProperty("nics")[0].GetProperty("hardwareRings")[3];
        Assert.Equal(3, ring.GetProperty("index").GetInt32());
        Assert.True(ring.GetProperty("idle").GetBoolean());
        Assert.False(ring.TryGetProperty("vnic", out _));
    }

    [Fact]
    public void A_file_with_errors_prints_no_plan_and_exits_one()
    {
        var path = CliRunner.TempFile("host h { nic n0 { model simnic-1g } }\n");

        var (exit, output, error) = CliRunner.Run("plan", path, "--format", "json");

        Assert.Equal(1, exit);
        Assert.Equal("", output);
        Assert.Contains("error NB0011", error);
    }

    [Fact]
    public void An_unknown_format_is_a_usage_error()
    {
        var (exit, output, error) = CliRunner.Run("plan", CliRunner.Sample("QuickStart/web01.nicdsl"), "--format", "xml");

        Assert.NotEqual(0, exit);
        Assert.DoesNotContain("HOST", output);
        Assert.Contains("xml", error);
    }

    [Fact]
    public void A_file_without_hosts_says_so()
    {
        var (exit, output, _) = CliRunner.Run("plan", CliRunner.TempFile("# nothing yet\n"));

        Assert.Equal(0, exit);
        Assert.Equal("no hosts declared\n", output);
    }

    private static string DeepHost(int vnics, int width) =>
        "host big {\n    nic e0 { model simnic-100g; rx-rings 1; soft-ring-width " + width + " }\n"
        + string.Concat(Enumerable.Range(0, vnics).Select(i => $"    vm v{i} on e0 {{ mac 02:00:00:{i >> 8 & 255:x2}:{i & 255:x2}:01 }}\n")) + "}\n";

    [Fact]
    public void Thirty_thousand_vnics_in_software_rings_two_wide_are_a_located_error_not_a_stack_overflow()
    {
        var (exit, output, _) = CliRunner.Run("check", CliRunner.TempFile(DeepHost(30_000, 2)));

        Assert.Equal(1, exit);
        // Past 16,384 VNICs the rest are left out (NB0037); those kept still nest too deep (NB0031).
        Assert.Contains("error NB0037: host 'big' declares more than 16384 VMs, containers and services", output);
        Assert.Contains("error NB0031", output);
        Assert.Contains("16384 VNICs share its last hardware ring", output);
    }

    [Fact]
    public void A_plan_nested_as_deep_as_allowed_writes_its_json()
    {
        // 101 VNICs behind one hardware ring, two SRRs a level: 100 levels, the most allowed.
        var (exit, output, error) = CliRunner.Run("plan", CliRunner.TempFile(DeepHost(101, 2)), "--format", "json");

        Assert.True(exit == 0, error);
        using var json = System.Text.Json.JsonDocument.Parse(output, new System.Text.Json.JsonDocumentOptions { MaxDepth = 2048 });
        Assert.Equal("big", json.RootElement.GetProperty("hosts")[0].GetProperty("name").GetString());
    }

    [Fact]
    public void A_hundred_thousand_vnics_on_one_nic_are_a_located_error_not_out_of_memory()
    {
        // 4.6 MB of VNICs with default settings: the planner once nested a classifier program over
        // every VNIC below each of 1,587 levels (gigabytes); now the depth bound stops it first.
        var text = "host big {\n    nic e0 { model simnic-100g; rx-rings 64 }\n"
                   + string.Concat(Enumerable.Range(0, 100_000).Select(i => $"    vm v{i} on e0 {{ mac 02:00:{i >> 16 & 255:x2}:{i >> 8 & 255:x2}:{i & 255:x2}:01 }}\n")) + "}\n";

        var (exit, output, _) = CliRunner.Run("check", CliRunner.TempFile(text));

        Assert.Equal(1, exit);
        Assert.Contains("error NB0031", output);
    }
}
