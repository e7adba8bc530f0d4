using NicBypass.Runtime;
using NicBypass.Runtime.Packets;
using System.CommandLine;
using NicBypass.Cli.Captures;
using NicBypass.Cli.Output;
using NicBypass.Runtime.Virtualization;

namespace NicBypass.Cli.Commands;

/// <summary>
/// <c>nicbypass replay TOPOLOGY CAPTURE [--nic NAME] [--out DIR] [--pace] [--format text|json]</c>:
/// every Ethernet frame of a pcap or pcapng capture enters the NIC's wire in order, at its capture
/// time on the host's virtual clock (from the first frame's; where the capture's clock steps back
/// by more than a second, the frames after the step keep their spacing and time does not go back;
/// a gap longer than an hour is cut to an hour): the link carries it at its speed and
/// everything due in between runs at its own time, so a burst faster than the link or the
/// processors drops frames, each counted with its reason. With <c>--pace</c> each frame instead
/// enters when the host has taken the one before (virtual time moves only as far as that needs: a
/// busy processor, a bandwidth allocation's credit), so no ring ever overflows, whatever the
/// capture's times. With <c>--out</c>, each VNIC's received frames (VLAN tag removed) go to
/// DIR/VNIC.pcap, stamped with the time they were delivered (the first frame's capture time plus
/// the virtual time elapsed).
/// </summary>
internal static class ReplayCommand
{
    // Virtual time run after the last frame so that what it and the frames before it started finishes.
    private const long DrainNanoseconds = 10_000_000;

    // Paced: the most virtual time one frame may wait to be taken before the next enters anyway
    // (a VNIC allocated 1 kbit/s takes 12 s a full frame).
    private const long PaceLimitNanoseconds = 60_000_000_000;

    // The longest gap between two frames on the virtual clock (tcpreplay's --maxsleep): an hour. A
    // merged corpus's jumps (1970 to 2038 and back, again and again) would otherwise add up to
    // millennia, past what the clock holds, and years of the stacks' timers in between.
    private const long MaxGapNanoseconds = 3_600_000_000_000;

    // A step back of the capture's clock by more than this starts a new stretch (another capture
    // merged in): the frames after it keep their spacing. A smaller one (frames from two
    // interfaces slightly out of order) does not move time, back or forward.
    private const long StepBackNanoseconds = 1_000_000_000;

    public static Command Create(TextWriter output, TextWriter error)
    {
        var topology = new Argument<string>("topology") { Description = "the .nicdsl file" };
        var capture = new Argument<string>("capture") { Description = "a pcap or pcapng capture of Ethernet frames" };
        var nicOption = new Option<string?>("--nic") { Description = "the NIC whose wire the frames enter (default: the first)" };
        var outOption = new Option<string?>("--out") { Description = "a folder for per-VNIC pcap files of what each VNIC received" };
        var paceOption = new Option<bool>("--pace") { Description = "each frame enters when the host has taken the one before and the link has carried it, not at the capture's times (virtual time moves only as far as that needs; no ring overflows)" };
        var format = FormatOption.Create();
        var hostOption = HostOption.Create();
        var command = new Command("replay", "Replay a capture into a NIC and report what each VNIC received.") { topology, capture, nicOption, outOption, paceOption, format, hostOption };
        command.SetAction(parse => Run(parse.GetValue(topology)!, parse.GetValue(capture)!, parse.GetValue(nicOption), parse.GetValue(outOption), parse.GetValue(paceOption), parse.GetValue(format) == "json", output, error, parse.GetValue(hostOption)));
        return command;
    }

    private static int Run(string topologyPath, string capturePath, string? nicName, string? outDirectory, bool pace, bool json, TextWriter output, TextWriter error, string? hostName)
    {
        // On virtual time either way: paced, the clock moves only as far as taking each frame
        // needs (it ran on the machine's clock, so an allocation's credit came with wall time and
        // no two runs agreed).
        var clock = new VirtualClock();
        var host = TopologyLoader.Load(topologyPath, error, clock, hostName);
        if (host is null) return NicBypassCli.ErrorExitCode;
        // Processors that take time, as in simulate: a burst faster than they go fills rings, and
        // the report says how busy each was (a replay without them ran every frame at once).
        host.Costs = Runtime.Virtualization.CostTable.Default;
        var nic = nicName is null ? host.Nics.FirstOrDefault() : host.Nics.FirstOrDefault(n => n.Name == nicName);
        if (nic is null)
        {
            error.WriteLine($"{topologyPath}: error: host '{host.Name}' has no NIC{(nicName is null ? "" : $" named '{nicName}'; it has {string.Join(", ", host.Nics.Select(n => n.Name))}")}");
            return NicBypassCli.ErrorExitCode;
        }

        // The capture first: one that cannot be opened is a capture's error (exit 2), named as such.
        FileStream stream;
        try
        {
            if (Directory.Exists(capturePath)) throw new IOException("is a directory, not a capture file");
            stream = File.OpenRead(capturePath);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            error.WriteLine($"{capturePath}: error: cannot read the capture: {ex.Message}");
            return NicBypassCli.BadCaptureExitCode;
        }
        using var captureStream = stream;

        // Each VNIC's capture is written beside its final name and takes it only when the replay
        // succeeds: a replay that fails part way (a damaged capture) leaves the captures of an
        // earlier run as they were (it overwrote them with partial ones).
        var writers = new List<(PcapWriter Writer, string Partial, string Final)>();
        long now = 0, first = long.MaxValue;
        long linkFreePicoseconds = 0; // paced: when the NIC's link has carried the last frame in
        try
        {
            if (outDirectory is not null)
            {
                if (File.Exists(outDirectory))
                {
                    error.WriteLine($"{outDirectory}: error: is a file; --out names the folder the per-VNIC captures go in");
                    return NicBypassCli.ErrorExitCode;
                }
                try
                {
                    Directory.CreateDirectory(outDirectory);
                    foreach (var vnic in host.Vnics.Where(v => v.Nic == nic))
                    {
                        var final = Path.Combine(outDirectory, vnic.Name + ".pcap");
                        var writer = new PcapWriter(File.Create(final + ".partial"));
                        writers.Add((writer, final + ".partial", final));
                        vnic.Tap = (_, frame) => writer.Write(first + clock.Nanoseconds, frame);
                    }
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
                {
                    error.WriteLine($"{outDirectory}: error: cannot write the per-VNIC captures there: {ex.Message}");
                    return NicBypassCli.ErrorExitCode;
                }
            }

            long skipped = 0;
            var skippedType = 0;
            // Frames the capture's snaplen cut short: replayed as captured; those longer on the
            // wire than the NIC carries are offered at one byte past its largest, so it drops
            // them as it would have (oversize) — they were delivered as short frames (found by a
            // new user checking replay against tshark).
            long truncated = 0, truncatedOversize = 0;
            var largest = nic.Device.MaxFrameLength;
            var tooLong = new byte[largest + 1];
            // Where the last frame went on the virtual clock, and its capture time: each frame
            // goes the capture's gap after the one before it. A capture whose clock steps back
            // (captures merged from different days) does not move time back, and the frames after
            // the step keep their own spacing — rather than all piling onto one instant until the
            // capture's clock catches up, a burst the link would drop.
            long at = 0, latest = long.MinValue;
            // A capture spanning years has years of timers to run (an `ip dhcp` VNIC asks every
            // 64 s): on a terminal a progress bar, by how much of the file has been read, says so.
            // (Not paced, and not from a pipe, which has no length to measure by.)
            ProgressBar.Run(error, !pace && captureStream.CanSeek, $"replaying {Path.GetFileName(capturePath)} into host '{host.Name}'", Feed);

            void Feed(Action<double>? progress)
            {
                var frames = 0;
                foreach (var frame in CaptureReader.Read(captureStream))
                {
                    if ((++frames & 1023) == 0) progress?.Invoke(captureStream.Length > 0 ? (double)captureStream.Position / captureStream.Length : 1);
                    if (frame.LinkType != CaptureReader.LinkTypeEthernet)
                    {
                        skipped++;
                        skippedType = frame.LinkType;
                        continue;
                    }
                    var data = frame.Data;
                    if (frame.OriginalLength > data.Length)
                    {
                        truncated++;
                        if (frame.OriginalLength > largest)
                        {
                            truncatedOversize++;
                            var kept = Math.Min(data.Length, tooLong.Length);
                            data.AsSpan(0, kept).CopyTo(tooLong);
                            tooLong.AsSpan(kept).Clear();
                            data = tooLong;
                        }
                    }
                    now = frame.TimestampNanoseconds;
                    if (first == long.MaxValue)
                    {
                        first = now;
                        latest = now;
                        host.RunTo(0); // the whole host looks once; then only what each frame brings runs
                    }
                    if (now < latest - StepBackNanoseconds) latest = now; // another capture merged in: a new stretch from here
                    at += Math.Min(Math.Max(0, now - latest), MaxGapNanoseconds);
                    latest = Math.Max(latest, now);
                    if (pace)
                    {
                        // No sooner than its link has carried the one before (the frame and 24
                        // bytes of FCS, preamble and gap at its speed): paced, a capture of
                        // full-size frames entered a 1G NIC at 9.6 Gbit/s (found by a new user's drive).
                        var linkFree = (linkFreePicoseconds + 999) / 1000;
                        if (clock.Nanoseconds < linkFree) host.RunEventsTo(linkFree);
                        linkFreePicoseconds = clock.Nanoseconds * 1000 + nic.Device.WirePicoseconds(data.Length);
                        nic.Device.Receive(data);
                        host.RunUntilTaken(clock.Nanoseconds + PaceLimitNanoseconds);
                        continue;
                    }
                    host.RunEventsTo(Math.Max(at, clock.Nanoseconds));
                    nic.Device.Offer(data);
                }
                progress?.Invoke(captureStream.Length > 0 ? (double)captureStream.Position / captureStream.Length : 1);
            }
            if (!pace && first != long.MaxValue)
            {
                // What is on the wire lands, and what waits in the rings and queues is taken, for a
                // while after the last frame (a stack's timers may run longer: they are not waited for).
                host.RunAwakeTo(clock.Nanoseconds + DrainNanoseconds);
                host.LandWhatTheWiresCarry();
            }
            if (skipped > 0 && first == long.MaxValue)
            {
                // Nothing to replay at all: an error (as trace says), not a report of nothing.
                error.WriteLine($"{capturePath}: error: no Ethernet frames to replay: {(skipped == 1 ? "its one frame is" : $"its {skipped} frames are")} of link type {skippedType} (replay feeds a NIC Ethernet frames, link type 1)");
                return NicBypassCli.BadCaptureExitCode;
            }
            if (skipped > 0) error.WriteLine($"{capturePath}: warning: skipped {(skipped == 1 ? "1 frame whose link type is" : $"{skipped} frames whose link type is")} not Ethernet");
            if (truncated > 0)
            {
                error.WriteLine($"{capturePath}: note: {truncated:N0} frame{(truncated == 1 ? " was" : "s were")} cut short by the capture's snaplen and replayed as captured (shorter than on the wire)"
                    + (truncatedOversize > 0 ? $"; {truncatedOversize:N0} of them longer on the wire than NIC '{nic.Name}' carries ({largest:N0} bytes), counted as it would count them: oversize" : ""));
            }

            // The span the frames covered: from the first to the last on the virtual clock (paced,
            // the time the host took to take them all).
            var span = pace ? clock.Nanoseconds : at;
            var report = host.Report(span / 1e9, clock.Nanoseconds); // busy shares over all the host ran, the drain included
            var written = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (writer, partial, final) in writers)
            {
                writer.Dispose();
                File.Move(partial, final, overwrite: true);
                written.Add(Path.GetFileName(final));
            }
            writers.Clear();
            if (outDirectory is not null)
            {
                // Captures this replay did not write (another topology's VNICs, an earlier run):
                // left as they are, but named, so none passes for this run's (found by a new user's drive).
                var stale = Directory.GetFiles(outDirectory, "*.pcap").Select(Path.GetFileName).Where(name => !written.Contains(name!)).Order(StringComparer.Ordinal).ToList();
                if (stale.Count > 0) error.WriteLine($"{outDirectory}: note: {string.Join(", ", stale)} {(stale.Count == 1 ? "is" : "are")} not from this replay (it wrote only {string.Join(", ", written.Order(StringComparer.Ordinal))}), left as {(stale.Count == 1 ? "it was" : "they were")}");
            }
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
            // Reading the capture, or writing a per-VNIC capture, failed part way.
            error.WriteLine(outDirectory is null
                ? $"{capturePath}: error: {ex.Message}"
                : $"{capturePath}: error: reading it, or writing the per-VNIC captures to {outDirectory}: {ex.Message}");
            return NicBypassCli.ErrorExitCode;
        }
        finally
        {
            foreach (var (writer, partial, _) in writers)
            {
                writer.Dispose();
                try
                {
                    File.Delete(partial);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    // Left behind, named as partial: nothing to tell beyond the error already told.
                }
            }
        }
    }
}
