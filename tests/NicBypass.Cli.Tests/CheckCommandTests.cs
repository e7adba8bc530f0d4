namespace NicBypass.Cli.Tests;

public class CheckCommandTests
{
    [Fact]
    public void A_valid_file_prints_nothing_and_exits_zero()
    {
        var (exit, output, error) = CliRunner.Run("check", CliRunner.Sample("QuickStart/web01.nicdsl"));

        Assert.Equal(0, exit);
        Assert.Equal("", output);
        Assert.Equal("", error);
    }

    [Fact]
    public void Errors_print_like_the_build_and_exit_one()
    {
        var path = CliRunner.TempFile("host h {\n  nic n0 {\n    model simnic-1g\n    rx-rings 3\n  }\n  vm a on n0 { mac 01:00:00:00:00:01 }\n}\n");

        var (exit, output, _) = CliRunner.Run("check", path);

        Assert.Equal(1, exit);
        var lines = output.TrimEnd('\n').Split('\n');
        Assert.Equal(new[]
        {
            $"{path}(4,14): error NB0012: rx-rings 3 is outside 1..2, the most model simnic-1g has; use a value in that range",
            $"{path}(6,20): error NB0006: MAC 01:00:00:00:00:01 cannot be a VNIC's address: its group (multicast) bit is set (lowest bit of the first byte); use a unicast address such as 02:xx:xx:xx:xx:xx (locally administered)",
        }, lines);
    }

    [Fact]
    public void Warnings_alone_exit_zero()
    {
        var path = CliRunner.TempFile("host h { nic n0 { model simnic-1g; rx-rings 1 } }\n");

        var (exit, output, _) = CliRunner.Run("check", path);

        Assert.Equal(0, exit);
        Assert.Equal($"{path}(1,14): warning NB0023: NIC 'n0' has no VNICs on it; put a vm, container or service 'on n0', or remove the NIC\n", output);
    }

    [Fact]
    public void A_file_with_no_host_is_a_warning_at_its_start_not_silence()
    {
        var path = CliRunner.TempFile("# to be written\n");

        var (exit, output, _) = CliRunner.Run("check", path);

        Assert.Equal(0, exit);
        Assert.Equal($"{path}(1,1): warning NB0039: the file declares no host ('host NAME {{ … }}'): nothing is built from it\n", output);
    }

    [Fact]
    public void Several_files_are_checked_together_in_path_order()
    {
        var a = CliRunner.TempFile("host same { }\n", "a.nicdsl");
        var b = CliRunner.TempFile("host same { }\n", "b.nicdsl");

        var (exit, output, _) = CliRunner.Run("check", a, b);

        Assert.Equal(1, exit);
        Assert.StartsWith($"{b}(1,6): error NB0003: host 'same' is already declared in this project (in {a}); give each declaration its own name", output); // names the first's file (found by a new user's drive)
    }

    [Fact]
    public void The_same_file_named_twice_is_read_once_not_a_duplicate_of_itself()
    {
        var path = CliRunner.TempFile("host h { nic n0 { model simnic-1g; rx-rings 1 } vm a on n0 { mac 02:00:00:00:00:01 } }\n", "same.nicdsl");
        var again = Path.Combine(Path.GetDirectoryName(path)!, ".", "same.nicdsl");

        var (exit, output, error) = CliRunner.Run("check", path, again);

        Assert.Equal(0, exit);
        Assert.Equal("", output);
        Assert.Equal($"{again}: note: the same file as {path}; read once\n", error);

        var link = Path.Combine(Path.GetDirectoryName(path)!, "link.nicdsl");
        File.CreateSymbolicLink(link, path); // a link to it, named beside it: the same file too
        (exit, output, error) = CliRunner.Run("check", path, link);
        Assert.Equal((0, ""), (exit, output));
        Assert.Equal($"{link}: note: the same file as {path}; read once\n", error);
    }

    [Fact]
    public void A_missing_file_is_a_clear_error_not_a_crash()
    {
        var (exit, output, error) = CliRunner.Run("check", "/nonexistent/x.nicdsl");

        Assert.Equal(1, exit);
        Assert.Equal("", output);
        Assert.StartsWith("/nonexistent/x.nicdsl: error: cannot read the file:", error);
    }

    [Theory]
    [InlineData("check")]
    [InlineData("plan")]
    [InlineData("graph")]
    public void An_unknown_option_is_named_as_one_not_read_as_a_file(string command)
    {
        var file = CliRunner.TempFile("host h { nic e0 { model simnic-1g; rx-rings 1 } }");
        var (exit, _, error) = CliRunner.Run(command, "--bogus", file);

        Assert.Equal(1, exit);
        Assert.Equal("error: unknown option '--bogus' (see --help for this command's options)", error.Trim());
    }

    [Theory]
    [InlineData("check")]
    [InlineData("simulate")]
    public void A_directory_is_named_as_one_not_an_access_error(string command)
    {
        var directory = Path.GetTempPath().TrimEnd('/');
        var (exit, _, error) = CliRunner.Run(command, directory);

        Assert.Equal(1, exit);
        Assert.Equal($"{directory}: error: is a directory; name the .nicdsl files in it", error.Trim());
    }

    [Fact]
    public void A_file_that_is_not_utf8_is_refused_with_where_its_first_bad_byte_is()
    {
        // A 0xFF byte was read as U+FFFD and shown as '\uFFFD' inside an unrelated error (found by a new user's drive).
        var path = Path.Combine(Path.GetTempPath(), $"latin1-{Guid.NewGuid():N}.nicdsl");
        File.WriteAllBytes(path, [.. "host h {\n  nic e0 { model simnic-10g; rx-rings 2 }\n  vm a on e0 { mac 02:00:00:00:00:01; ip 1"u8, 0xFF, .. ".0.0.1 }\n}\n"u8]);
        try
        {
            var (exit, _, error) = CliRunner.Run("check", path);

            Assert.NotEqual(0, exit);
            Assert.Equal($"{path}: error: not UTF-8 text: byte 0xFF at line 3, column 43 is not valid UTF-8; save a .nicdsl file as UTF-8", error.Trim());

            // With a byte order mark (the reader swapped in a lenient decoder), and with lone CRs for line ends (review).
            File.WriteAllBytes(path, [0xEF, 0xBB, 0xBF, .. "host a {\r  cpus 8\r  bad "u8, 0xFF, .. "\r}\r"u8]);
            (exit, _, error) = CliRunner.Run("check", path);
            Assert.NotEqual(0, exit);
            Assert.Equal($"{path}: error: not UTF-8 text: byte 0xFF at line 3, column 7 is not valid UTF-8; save a .nicdsl file as UTF-8", error.Trim());

            // UTF-16 with its mark is read; a lone surrogate in it is refused.
            File.WriteAllBytes(path, [.. System.Text.Encoding.Unicode.GetPreamble(), .. System.Text.Encoding.Unicode.GetBytes("host a {\n  nic e0 { model simnic-10g; rx-rings 2 }\n  vm v on e0 { mac 02:00:00:00:00:01 }\n}\n")]);
            (exit, _, error) = CliRunner.Run("check", path);
            Assert.Equal(0, exit);
            File.WriteAllBytes(path, [0xFF, 0xFE, .. "h"u8, 0, 0x00, 0xD8, .. "x"u8, 0]);
            (exit, _, error) = CliRunner.Run("check", path);
            Assert.NotEqual(0, exit);
            Assert.Contains("not valid UTF-16 or UTF-32 text (its byte order mark says it is)", error);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_binary_file_is_refused_as_not_text_not_echoed_into_a_syntax_error()
    {
        var path = CliRunner.TempFile("", "capture.pcap");
        File.WriteAllBytes(path, new byte[] { 0xD4, 0xC3, 0xB2, 0xA1, 2, 0, 4, 0, 0, 0, 0, 0, 0x1B, 0x5D });

        var (exit, output, error) = CliRunner.Run("check", path);

        Assert.Equal(1, exit);
        Assert.Equal("", output);
        Assert.Equal($"{path}: error: not a text file (it holds NUL bytes); a .nicdsl file is text", error.Trim());
    }

    [Fact]
    public void A_huge_or_endless_file_is_refused_with_a_located_error_not_read_whole()
    {
        // A 1 GB file, or /dev/zero, was read whole: out of memory, with a stack trace (found by
        // a new user's drive).
        var zeros = CliRunner.TempFile("", "zeros.nicdsl");
        using (var stream = File.OpenWrite(zeros)) stream.SetLength(1L << 30); // sparse: nothing written
        var (exit, output, error) = CliRunner.Run("check", zeros);
        Assert.Equal(1, exit);
        Assert.Equal("", output);
        Assert.Equal($"{zeros}: error: not a text file (it holds NUL bytes); a .nicdsl file is text", error.Trim());

        (exit, _, error) = CliRunner.Run("plan", "/dev/zero");
        Assert.Equal(1, exit);
        Assert.Equal("/dev/zero: error: not a text file (it holds NUL bytes); a .nicdsl file is text", error.Trim());

        var text = CliRunner.TempFile("", "huge.nicdsl");
        File.WriteAllText(text, new string('#', 65 * 1024 * 1024));
        (exit, _, error) = CliRunner.Run("check", text);
        Assert.Equal(1, exit);
        Assert.Equal($"{text}: error: too large for a .nicdsl file (more than 64 MiB of text)", error.Trim());
        File.Delete(zeros);
        File.Delete(text);
    }

    [Fact]
    public void Check_without_files_is_a_usage_error()
    {
        var (exit, _, error) = CliRunner.Run("check");

        Assert.NotEqual(0, exit);
        Assert.Contains("files", error);
    }

    [Fact]
    public void Syntax_errors_keep_crlf_files_on_the_right_line()
    {
        var path = CliRunner.TempFile("host h {\r\n  nic n0 {\r\n    model simnic-1g {\r\n  }\r\n}\r\n");

        var (exit, output, _) = CliRunner.Run("check", path);

        Assert.Equal(1, exit);
        Assert.StartsWith($"{path}(3,21): error NB0001: unexpected '{{'", output);
    }
}
