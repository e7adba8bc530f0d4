using System.CommandLine;
using NicBypass.Cli.Captures;
using NicBypass.Hosting;
using NicBypass.Runtime;

namespace NicBypass.Cli.Commands;

/// <summary>
/// <c>nicbypass trace TOPOLOGY (--frame HEX | --capture FILE --frame-number N) [--nic NAME]</c>:
/// one frame's path through the host, with the decision taken at every stage (see
/// <see cref="FrameTrace"/>). The host runs as <c>nicbypass run</c> does: every container and
/// service echoes on its declared ports, so a frame to a declared port is traced to its socket.
/// </summary>
internal static class TraceCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var topology = new Argument<string>("topology") { Description = "the .nicdsl file" };
        var frameOption = new Option<string?>("--frame") { Description = "the Ethernet frame in hexadecimal (spaces and colons allowed)" };
        var captureOption = new Option<string?>("--capture") { Description = "take the frame from this pcap or pcapng capture (with --frame-number)" };
        var numberOption = new Option<int?>("--frame-number") { Description = "which frame of the capture, counting from 1 as tcpdump -# and Wireshark do", CustomParser = InvariantNumber.NullableInt32 };
        var nicOption = new Option<string?>("--nic") { Description = "the NIC whose wire the frame enters (default: the first)" };
        var hostOption = HostOption.Create();
        var command = new Command("trace", "Follow one frame through the host, with every decision on the way.") { topology, frameOption, captureOption, numberOption, nicOption, hostOption };
        command.SetAction(parse =>
        {
            var path = parse.GetValue(topology)!;
            var (frame, exit) = ReadFrame(parse.GetValue(frameOption), parse.GetValue(captureOption), parse.GetValue(numberOption), error);
            if (frame is null) return exit;
            var host = TopologyLoader.Load(path, error, new VirtualClock(), parse.GetValue(hostOption));
            if (host is null) return NicBypassCli.ErrorExitCode;
            var nicName = parse.GetValue(nicOption);
            var nic = nicName is null ? host.Nics.FirstOrDefault() : host.Nics.FirstOrDefault(n => n.Name == nicName);
            if (nic is null)
            {
                error.WriteLine($"{path}: error: host '{host.Name}' has no NIC{(nicName is null ? "" : $" named '{nicName}'; it has {string.Join(", ", host.Nics.Select(n => n.Name))}")}");
                return NicBypassCli.ErrorExitCode;
            }
            if (nicName is null && host.Nics.Count > 1)
            {
                // Said, as --host is (a frame for a VNIC on e1 was traced into e0 without a word: found by a new user's drive).
                error.WriteLine($"{path}: note: host '{host.Name}' has {host.Nics.Count} NICs ({string.Join(", ", host.Nics.Select(n => n.Name))}); the frame enters '{nic.Name}' (choose with --nic)");
            }
            var echo = EchoServices.Start(host);
            try
            {
                output.WriteLine($"trace of one frame into {nic.Name} of host {host.Name}");
                foreach (var step in FrameTrace.Run(host, nic.Name, frame)) output.WriteLine("  " + step);
            }
            finally
            {
                echo.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(10));
            }
            return 0;
        });
        return command;
    }

    private static (byte[]? Frame, int Exit) ReadFrame(string? hex, string? capture, int? number, TextWriter error)
    {
        if ((hex is null) == (capture is null))
        {
            error.WriteLine("error: give the frame with --frame HEX or --capture FILE --frame-number N (one of them)");
            return (null, NicBypassCli.ErrorExitCode);
        }
        if (hex is not null)
        {
            if (number is not null)
            {
                error.WriteLine("error: --frame-number picks a frame of --capture; with --frame it means nothing");
                return (null, NicBypassCli.ErrorExitCode);
            }
            if (FrameTrace.TryParseHex(hex, out var frame, out var problem)) return (frame, 0);
            error.WriteLine($"error: --frame: {problem}");
            return (null, NicBypassCli.ErrorExitCode);
        }
        if (number is not > 0)
        {
            error.WriteLine($"error: --capture needs --frame-number N, counting from 1{(number is null ? "" : $" (got {number})")}");
            return (null, NicBypassCli.ErrorExitCode);
        }
        try
        {
            using var stream = File.OpenRead(capture!);
            var n = 0;
            foreach (var frame in CaptureReader.Read(stream))
            {
                if (++n < number) continue;
                if (frame.LinkType == CaptureReader.LinkTypeEthernet) return (frame.Data, 0);
                error.WriteLine($"{capture}: error: frame {number} has link type {frame.LinkType}, not Ethernet (1)");
                return (null, NicBypassCli.ErrorExitCode);
            }
            error.WriteLine($"{capture}: error: no frame {number}: the capture holds {n}");
            return (null, NicBypassCli.ErrorExitCode);
        }
        catch (CaptureFormatException ex)
        {
            error.WriteLine($"{capture}: error: {ex.Message}");
            return (null, NicBypassCli.BadCaptureExitCode);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"{capture}: error: cannot read the capture: {ex.Message}");
            return (null, NicBypassCli.BadCaptureExitCode); // as replay says it (it said 1: found by a new user's drive)
        }
    }
}
