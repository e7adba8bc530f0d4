using NicBypass.Runtime.Packets;
using System.CommandLine;
using NicBypass.Cli.Captures;
using NicBypass.Cli.Output;
using NicBypass.Runtime.Virtualization;

namespace NicBypass.Cli.Commands;

/// <summary>
/// <c>nicbypass replay TOPOLOGY CAPTURE [--nic NAME] [--out DIR] [--format text|json]</c>: every
/// Ethernet frame of a pcap or pcapng capture enters the NIC's wire in order; the host is run to
/// idle after each frame, so no ring ever overflows. With <c>--out</c>, each VNIC's received
/// frames (VLAN tag removed) go to DIR/VNIC.pcap, stamped with their capture time.
/// </summary>
internal static class ReplayCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var topology = new Argument<string>("topology") { Description = "the .nicdsl file" };
        var capture = new Argument<string>("capture") { Description = "a pcap or pcapng capture of Ethernet frames" };
        var nicOption = new Option<string?>("--nic") { Description = "the NIC whose wire the frames enter (default: the first)" };
        var outOption = new Option<string?>("--out") { Description = "a folder for per-VNIC pcap files of what each VNIC received" };
        var format = FormatOption.Create();
        var hostOption = HostOption.Create();
        var command = new Command("replay", "Replay a capture into a NIC and report what each VNIC received.") { topology, capture, nicOption, outOption, format, hostOption };
        command.SetAction(parse => Run(parse.GetValue(topology)!, parse.GetValue(capture)!, parse.GetValue(nicOption), parse.GetValue(outOption), parse.GetValue(format) == "json", output, error, parse.GetValue(hostOption)));
        return command;
    }

    private static int Run(string topologyPath, string capturePath, string? nicName, string? outDirectory, bool json, TextWriter output, TextWriter error, string? hostName)
    {
        var host = TopologyLoader.Load(topologyPath, error, hostName: hostName);
        if (host is null) return NicBypassCli.ErrorExitCode;
        var nic = nicName is null ? host.Nics.FirstOrDefault() : host.Nics.FirstOrDefault(n => n.Name == nicName);
        if (nic is null)
        {
            error.WriteLine($"{topologyPath}: error: host '{host.Name}' has no NIC{(nicName is null ? "" : $" named '{nicName}'; it has {string.Join(", ", host.Nics.Select(n => n.Name))}")}");
            return NicBypassCli.ErrorExitCode;
        }

        var writers = new Dictionary<Vnic, PcapWriter>();
        long now = 0;
        try
        {
            if (outDirectory is not null)
            {
                Directory.CreateDirectory(outDirectory);
                foreach (var vnic in host.Vnics.Where(v => v.Nic == nic))
                {
                    var writer = new PcapWriter(File.Create(Path.Combine(outDirectory, vnic.Name + ".pcap")));
                    writers[vnic] = writer;
                    vnic.Tap = (_, frame) => writer.Write(now, frame);
                }
            }

            long first = long.MaxValue, last = long.MinValue, skipped = 0;
            using var stream = File.OpenRead(capturePath);
            foreach (var frame in CaptureReader.Read(stream))
            {
                if (frame.LinkType != CaptureReader.LinkTypeEthernet)
                {
                    skipped++;
                    continue;
                }
                now = frame.TimestampNanoseconds;
                first = Math.Min(first, now);
                last = Math.Max(last, now);
                nic.Device.Receive(frame.Data);
                host.Pump();
            }
            if (skipped > 0) error.WriteLine($"{capturePath}: warning: skipped {skipped} frames whose link type is not Ethernet");

            var report = host.Report(first <= last ? (last - first) / 1e9 : 0);
            if (json) TrafficReportWriter.WriteJson(report, output);
            else TrafficReportWriter.WriteText(report, "replayed", output);
            return 0;
        }
        catch (CaptureFormatException ex)
        {
            error.WriteLine($"{capturePath}: error: {ex.Message}");
            return NicBypassCli.BadCaptureExitCode;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"{capturePath}: error: {ex.Message}");
            return NicBypassCli.ErrorExitCode;
        }
        finally
        {
            foreach (var writer in writers.Values) writer.Dispose();
        }
    }
}
