using System.Text.Json;

namespace NicBypass.Cli.Tests;

public class PlanDiffTests
{
    // Two hardware rings, three VNICs: a gets hrr0, b and c share hrr1 through software ring sr0.
    private const string Before = """
        host h {
            nic e0 { model simnic-10g; rx-rings 2 }
            vm a on e0 { mac 02:00:00:00:00:01; bandwidth 500M }
            vm b on e0 { mac 02:00:00:00:00:02 }
            vm c on e0 { mac 02:00:00:00:00:03 }
        }
        """;

    // b now asks for more bandwidth than a, so it takes hrr0; d joins the software ring.
    private const string After = """
        host h {
            nic e0 { model simnic-10g; rx-rings 2 }
            vm a on e0 { mac 02:00:00:00:00:01; bandwidth 500M }
            vm b on e0 { mac 02:00:00:00:00:02; bandwidth 900M }
            vm c on e0 { mac 02:00:00:00:00:03 }
            vm d on e0 { mac 02:00:00:00:00:04 }
        }
        """;

    [Fact]
    public void Diff_says_which_vnic_lost_its_hardware_ring_and_which_software_ring_grew()
    {
        var (exit, text, error) = CliRunner.Run("plan", "--diff", CliRunner.TempFile(Before), CliRunner.TempFile(After));

        Assert.Equal(0, exit);
        Assert.DoesNotContain(": error ", error);
        Assert.Equal("""
            HOST h
              e0: b gained a hardware ring: sr0/srr0 on hrr1 -> hrr0
              e0: a lost its hardware ring: hrr0 -> sr0/srr0 on hrr1
              e0: d added at sr0/srr2 on hrr1
              e0: software ring sr0 grew: 2 -> 3 SRRs
            4 placement changes

            """.Replace("\r\n", "\n"), text);
    }

    [Fact]
    public void Diff_of_a_file_with_itself_has_no_changes()
    {
        var file = CliRunner.TempFile(Before);

        var (exit, text, _) = CliRunner.Run("plan", "--diff", file, file);

        Assert.Equal(0, exit);
        Assert.Equal("no placement changes\n", text);
    }

    [Fact]
    public void A_saved_json_plan_is_a_baseline_and_the_json_diff_names_each_change()
    {
        var (_, saved, _) = CliRunner.Run("plan", CliRunner.TempFile(Before), "--format", "json");
        var baseline = CliRunner.TempFile(saved, "baseline.json");

        var (exit, json, error) = CliRunner.Run("plan", CliRunner.TempFile(After), "--baseline", baseline, "--format", "json");

        Assert.Equal(0, exit);
        Assert.DoesNotContain(": error ", error);
        using var document = JsonDocument.Parse(json);
        var changes = document.RootElement.GetProperty("changes").EnumerateArray().ToList();
        Assert.Equal(["gained-hardware-ring", "lost-hardware-ring", "vnic-added", "software-ring-grew"], changes.Select(c => c.GetProperty("kind").GetString()));
        var lost = changes[1];
        Assert.Equal("h", lost.GetProperty("host").GetString());
        Assert.Equal("e0", lost.GetProperty("nic").GetString());
        Assert.Equal("a", lost.GetProperty("subject").GetString());
        Assert.Equal("hrr0", lost.GetProperty("from").GetString());
        Assert.Equal("sr0/srr0 on hrr1", lost.GetProperty("to").GetString());
        Assert.False(changes[2].TryGetProperty("from", out _));
    }

    [Fact]
    public void Removed_vnics_nics_and_software_classification_are_listed()
    {
        // 17 MACs on a simnic-1g (16 classifier entries): v3 falls back to software classification.
        const string full = """
            host h {
                nic e0 { model simnic-1g; rx-rings 2 }
                nic e1 { model simnic-1g; rx-rings 1 }
                vm v1 on e0 { mac 02:00:00:00:00:01; mac 02:00:00:00:00:11 02:00:00:00:00:12 02:00:00:00:00:13 02:00:00:00:00:14 02:00:00:00:00:15 02:00:00:00:00:16 02:00:00:00:00:17 }
                vm v2 on e0 { mac 02:00:00:00:00:02; mac 02:00:00:00:00:21 02:00:00:00:00:22 02:00:00:00:00:23 02:00:00:00:00:24 02:00:00:00:00:25 02:00:00:00:00:26 02:00:00:00:00:27 }
                vm v3 on e0 { mac 02:00:00:00:00:03 }
                vm v4 on e1 { mac 02:00:00:00:00:04 }
            }
            """;
        const string smaller = """
            host h {
                nic e0 { model simnic-1g; rx-rings 2 }
                vm v1 on e0 { mac 02:00:00:00:00:01 }
                vm v2 on e0 { mac 02:00:00:00:00:02 }
                vm v3 on e0 { mac 02:00:00:00:00:03 }
            }
            """;

        var (exit, text, _) = CliRunner.Run("plan", "--diff", CliRunner.TempFile(full), CliRunner.TempFile(smaller));

        Assert.Equal(0, exit);
        Assert.Contains("e1: NIC removed (was simnic-1g)", text);
        Assert.Contains("e1: v4 removed (was at hrr0)", text);
        Assert.Contains("e0: v3 is classified in hardware again", text);
        Assert.Contains("e0: default ring hrr1 -> none", text);
    }

    [Theory]
    [InlineData("not json", "not JSON at line 1, column 2: a baseline is the output of 'nicbypass plan --format json'")]
    [InlineData("{\n  \"hosts\": [ oops ]\n}", "not JSON at line 2, column 14")]
    [InlineData("""{ "hosts": [ { "name": "h", "nics": [ { "name": "e0" } ] } ] }""", "$.hosts[0].nics[0] has no array 'hardwareRings'")]
    [InlineData("""{ "changes": [] }""", "$ has no array 'hosts'")]
    [InlineData("""{ "hosts": [ { "name": "h", "nics": [] }, { "name": "h", "nics": [] } ] }""", "$.hosts[1] repeats host 'h'")]
    [InlineData("""{ "hosts": [ { "name": "evil\u001b]0;PWNED\u0007", "nics": [] } ] }""", "$.hosts[0].name is not a name")]
    [InlineData("""{ "hosts": [ { "name": "h", "nics": [ { "name": "e0", "model": "m", "hardwareRings": [] }, { "name": "e0", "model": "m", "hardwareRings": [] } ] } ] }""", "repeats NIC 'e0'")]
    [InlineData("""{ "hosts": [ { "name": "h", "nics": [ { "name": "e0", "model": "m", "hardwareRings": [ { "index": 0, "vnic": "a" }, { "index": 1, "vnic": "a" } ] } ] } ] }""", "places VNIC 'a' twice")]
    // Found by a new user's drive: each printed a diff from nonsense ("hrr-5"), exit 0.
    [InlineData("""{ "hosts": [ { "name": "h", "nics": [ { "name": "e0", "model": "m", "hardwareRings": [ { "index": -5, "vnic": "a" }, { "index": 99, "idle": true } ] } ] } ] }""", "$.hosts[0].nics[0].hardwareRings[0].index is -5, not a ring of this NIC (0..1)")]
    [InlineData("""{ "hosts": [ { "name": "h", "nics": [ { "name": "e0", "model": "m", "hardwareRings": [ { "index": 0, "vnic": "a" }, { "index": 0, "idle": true } ] } ] } ] }""", "$.hosts[0].nics[0].hardwareRings[1] repeats ring index 0")]
    [InlineData("""{ "hosts": [ { "name": "h", "nics": [ { "name": "e0", "model": "m", "hardwareRings": [ { "index": 0 } ] } ] } ] }""", "$.hosts[0].nics[0].hardwareRings[0] holds none of 'vnic', 'softwareRing' and 'idle'")]
    [InlineData("""{ "hosts": [ { "name": "h", "nics": [ { "name": "e0", "model": "m", "hardwareRings": [ { "index": 0, "vnic": "a", "softwareRing": { "id": "sr0", "rings": [] } } ] } ] } ] }""", "holds more than one of 'vnic', 'softwareRing' and 'idle'")]
    [InlineData("""{ "hosts": [ { "name": "h", "nics": [ { "name": "e0", "model": "m", "hardwareRings": [ { "index": 0, "idle": false } ] } ] } ] }""", "$.hosts[0].nics[0].hardwareRings[0].idle is not true")]
    public void A_baseline_that_is_not_a_saved_plan_is_a_clear_error(string baseline, string message)
    {
        var path = CliRunner.TempFile(baseline, "baseline.json");

        var (exit, text, error) = CliRunner.Run("plan", CliRunner.TempFile(After), "--baseline", path);

        Assert.Equal(1, exit);
        Assert.Equal("", text);
        Assert.Contains(path, error);
        Assert.Contains(message, error);
    }

    [Fact]
    public void A_baselines_name_limit_is_the_languages_and_says_so()
    {
        // "at most 256" while 256 characters were refused (the language's limit is 255: found by a new user's drive).
        var name = "a" + new string('b', 255);
        var path = CliRunner.TempFile($$"""{ "hosts": [ { "name": "h", "nics": [ { "name": "e0", "model": "m", "hardwareRings": [ { "index": 0, "vnic": "{{name}}" } ] } ] } ] }""", "baseline.json");

        var (exit, _, error) = CliRunner.Run("plan", CliRunner.TempFile(After), "--baseline", path);

        Assert.Equal(1, exit);
        Assert.Contains("hardwareRings[0].vnic is not a name (a letter, then letters, digits and '-', at most 255)", error);
    }

    [Fact]
    public void A_baseline_that_is_a_directory_or_endless_is_named_as_such()
    {
        // A directory was "access denied", and /dev/zero ran out of memory (found by a new user's drive).
        var directory = Path.GetDirectoryName(CliRunner.TempFile(""))!;
        var (exit, _, error) = CliRunner.Run("plan", CliRunner.TempFile(After), "--baseline", directory);
        Assert.Equal(1, exit);
        Assert.Equal($"{directory}: error: is a directory; --baseline takes the file `plan --format json` wrote", error.Trim());

        (exit, _, error) = CliRunner.Run("plan", CliRunner.TempFile(After), "--baseline", "/dev/zero");
        Assert.Equal(1, exit);
        Assert.Equal("/dev/zero: error: not a text file (it holds NUL bytes); a plan's JSON is text", error.Trim());

        (exit, _, error) = CliRunner.Run("plan", CliRunner.TempFile(After), "--baseline", ""); // a stack trace (found by review)
        Assert.Equal(1, exit);
        Assert.Equal("error: --baseline needs the file `plan --format json` wrote; got an empty name", error.Trim());
    }

    [Fact]
    public void A_baseline_nested_too_deep_is_said_to_be_so_not_called_not_json()
    {
        var path = CliRunner.TempFile("{ \"hosts\": " + new string('[', 2000) + new string(']', 2000) + " }", "baseline.json");

        var (exit, _, error) = CliRunner.Run("plan", CliRunner.TempFile(After), "--baseline", path);

        Assert.Equal(1, exit);
        Assert.Contains("JSON nested deeper than 1,024 levels at line 1", error);
    }

    [Fact]
    public void Diff_needs_exactly_two_files_and_reports_errors_in_either()
    {
        var (exit, _, error) = CliRunner.Run("plan", "--diff", CliRunner.TempFile(Before));
        Assert.Equal(1, exit);
        Assert.Contains("--diff compares two files, OLD.nicdsl NEW.nicdsl; got 1", error);

        var broken = CliRunner.TempFile("host h { nic e0 { model nope } }", "old.nicdsl");
        (exit, _, error) = CliRunner.Run("plan", "--diff", broken, CliRunner.TempFile(After));
        Assert.Equal(1, exit);
        Assert.Contains("old.nicdsl(1,", error);
        Assert.Contains("NB0025", error);
    }
}
