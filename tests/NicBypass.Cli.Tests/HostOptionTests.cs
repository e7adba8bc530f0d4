namespace NicBypass.Cli.Tests;

/// <summary>Every command that takes a TOPOLOGY runs the host named by --host (default: the first, said on stderr).</summary>
public class HostOptionTests
{
    private const string TwoHosts = """
        host first {
            nic a0 { model simnic-1g; rx-rings 1 }
            vm one on a0 { mac 02:00:00:00:00:01; ip 10.0.0.1 }
        }
        host second {
            nic b0 { model simnic-1g; rx-rings 1 }
            vm two on b0 { mac 02:00:00:00:00:02; ip 10.0.0.2 }
        }
        """;

    // An ICMP echo request 10.0.0.9 → 10.0.0.2, to two's MAC.
    private const string PingTwo = "020000000002 02aa00000009 0800 4500002400010000400166ce0a0000090a000002 0800ebe7000700010001020304050607";

    [Fact]
    public void Simulate_runs_the_named_host_and_says_which_runs_by_default()
    {
        var file = CliRunner.TempFile(TwoHosts);

        var (exit, output, error) = CliRunner.Run("simulate", file, "--host", "second", "--seconds", "0.001");
        Assert.True(exit == 0, error);
        Assert.Contains("b0", output);
        Assert.DoesNotContain("a0", output);
        Assert.DoesNotContain("note:", error);

        (exit, output, error) = CliRunner.Run("simulate", file, "--seconds", "0.001");
        Assert.Equal(0, exit);
        Assert.Contains("a0", output);
        Assert.Contains("the file declares 2 hosts (first, second); running 'first' (choose with --host)", error);
    }

    [Fact]
    public void A_named_host_runs_beside_another_hosts_errors_but_not_with_its_own()
    {
        // It refused with only the other host's errors, where the build still generates it
        // (found by a new user's drive).
        var file = CliRunner.TempFile(TwoHosts.Replace("nic b0 { model simnic-1g; rx-rings 1 }", "nic b0 { model simnic-1g; rx-rings 99 }"));

        var (exit, output, error) = CliRunner.Run("simulate", file, "--host", "first", "--seconds", "0.001");
        Assert.True(exit == 0, error);
        Assert.Contains("a0", output);
        Assert.Contains("error NB0012", error); // the other host's error is still said
        Assert.Contains("note: running 'first', which has no errors of its own; 'second' has errors and does not build", error);

        (exit, output, _) = CliRunner.Run("simulate", file, "--host", "second", "--seconds", "0.001");
        Assert.Equal(1, exit);
        Assert.Equal("", output);
        (exit, output, _) = CliRunner.Run("simulate", file, "--seconds", "0.001"); // none named: the file must build
        Assert.Equal(1, exit);
        Assert.Equal("", output);

        // A mistyped --host beside another host's errors is said too (only the errors were: found by a new user's drive).
        (exit, output, error) = CliRunner.Run("simulate", file, "--host", "nope", "--seconds", "0.001");
        Assert.Equal(1, exit);
        Assert.Contains("error NB0012", error);
        Assert.Contains("error: no host named 'nope'; the file declares first, second", error);
    }

    [Fact]
    public void Trace_and_replay_run_the_named_host()
    {
        var file = CliRunner.TempFile(TwoHosts);

        var (exit, output, error) = CliRunner.Run("trace", file, "--host", "second", "--frame", PingTwo);
        Assert.True(exit == 0, error);
        Assert.Contains("trace of one frame into b0 of host second", output);
        Assert.Contains("VM two guest stack: answered with an echo reply", output);

        var capture = Path.Combine(Path.GetDirectoryName(file)!, "one.pcap");
        using (var writer = new NicBypass.Runtime.Packets.PcapWriter(File.Create(capture))) writer.Write(0, Convert.FromHexString(PingTwo.Replace(" ", "")));
        (exit, output, error) = CliRunner.Run("replay", file, capture, "--host", "second", "--format", "json");
        Assert.True(exit == 0, error);
        Assert.Contains("\"b0\"", output);
        Assert.DoesNotContain("\"a0\"", output);
    }

    [Theory]
    [InlineData("simulate")]
    [InlineData("trace")]
    public void An_unknown_host_is_an_error_listing_the_hosts(string command)
    {
        var file = CliRunner.TempFile(TwoHosts);
        var args = command == "trace" ? new[] { command, file, "--host", "third", "--frame", PingTwo } : new[] { command, file, "--host", "third" };

        var (exit, _, error) = CliRunner.Run(args);

        Assert.Equal(1, exit);
        Assert.Contains("no host named 'third'; the file declares first, second", error);
    }
}

/// <summary>Messages echo what the user typed, but never a terminal control sequence or a megabyte of it.</summary>
public class EchoedInputTests
{
    [Fact]
    public void An_option_value_with_escape_sequences_is_echoed_escaped()
    {
        var file = CliRunner.TempFile("host h { nic e0 { model simnic-1g; rx-rings 1 }\n vm v on e0 { mac 02:00:00:00:00:01 } }");

        var (exit, _, error) = CliRunner.Run("simulate", file, "--rate", "\u001b]0;owned\u0007\u001b[2J", "--host", "h");

        Assert.Equal(1, exit);
        Assert.DoesNotContain('\u001b', error);
        Assert.DoesNotContain('\u0007', error);
        Assert.Contains("--rate '\\u001b]0;owned\\u0007\\u001b[2J'", error);
    }

    [Fact]
    public void A_carriage_return_or_a_direction_override_in_a_value_cannot_rewrite_the_line()
    {
        var file = CliRunner.TempFile("host h { nic e0 { model simnic-1g; rx-rings 1 }\n vm v on e0 { mac 02:00:00:00:00:01 } }");

        var (exit, _, error) = CliRunner.Run("simulate", file, "--rate", "1G\rall good\u202Etxt.exe");

        Assert.Equal(1, exit);
        Assert.DoesNotContain('\r', error);
        Assert.DoesNotContain('\u202E', error);
        Assert.Contains("--rate '1G\\u000dall good\\u202etxt.exe'", error);
    }

    [Fact]
    public void A_huge_option_value_is_cut_in_the_message()
    {
        var file = CliRunner.TempFile("host h { nic e0 { model simnic-1g; rx-rings 1 }\n vm v on e0 { mac 02:00:00:00:00:01 } }");

        var (exit, _, error) = CliRunner.Run("simulate", file, "--offer", new string('x', 1_000_000));

        Assert.Equal(1, exit);
        Assert.Contains("error: --offer 'xxx", error);
        Assert.All(error.Split('\n'), line => Assert.True(line.Length <= NicBypass.Cli.Output.SafeTextWriter.MaxLineLength + 1, $"a line of {line.Length} characters"));
        Assert.Contains("…", error);
    }
}
