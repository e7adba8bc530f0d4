using System.CommandLine;
using NicBypass.Cli.Output;
using NicBypass.Dsl.Values;
using NicBypass.Hosting;
using NicBypass.Runtime;

namespace NicBypass.Cli.Commands;

/// <summary>
/// <c>nicbypass simulate TOPOLOGY [--seconds S] [--rate RATE] [--offer VNIC=RATE]… [--frame-size B]
/// [--mix all|unicast] [--seed S] [--interrupts-only] [--interrupt-moderation DELAY|adaptive] [--format text|json]</c>: synthetic traffic
/// on virtual time through each NIC's link, on processors with the default cost table
/// (README.md § A short tour; docs/runtime.md), with a progress bar when standard error is a terminal.
/// </summary>
internal static class SimulateCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var topology = new Argument<string>("topology") { Description = "the .nicdsl file" };
        var seconds = new Option<double>("--seconds") { Description = "virtual seconds to simulate", DefaultValueFactory = _ => 1, CustomParser = InvariantNumber.Double };
        var rate = new Option<string?>("--rate") { Description = "rate offered to every VNIC, e.g. 500M (default: twice its allocation, else an even share of what the link carries)" };
        var frameSize = new Option<int>("--frame-size") { Description = "bytes per frame, 60..9018 (a NIC's frames are cut to what it carries untagged, its MTU + 14, with a note)", DefaultValueFactory = _ => 1000, CustomParser = InvariantNumber.Int32 };
        var mix = new Option<string>("--mix") { Description = "all (adds unknown MACs, broadcast and malformed frames) or unicast", DefaultValueFactory = _ => "all" };
        mix.AcceptOnlyFromAmong("all", "unicast");
        var seed = new Option<int>("--seed") { Description = "seed for the run's random draws: where in its stream's spacing each frame is offered (the rates are exact whatever the seed: a stream's count may differ by the one frame of its last, partial interval; at a full link who gets the free places may shift a little), and the unknown MACs of the mix (which noise frames are unknown, broadcast or malformed follows their order)", DefaultValueFactory = _ => 1, CustomParser = InvariantNumber.Int32 };
        var interruptsOnly = new Option<bool>("--interrupts-only") { Description = "dynamic polling off: every ring stays in interrupt mode (for comparison)" };
        var moderation = new Option<string?>("--interrupt-moderation") { Description = "how long a hardware ring's first frame waits for its interrupt, so frames behind it share it (ethtool's rx-usecs): microseconds (8 or 8us) or milliseconds (1ms), or 'adaptive': each NIC picks it from its load (default: each NIC's interrupt-moderation in the file, else 0: at once)" };
        var offer = new Option<string[]>("--offer") { Description = "VNIC=RATE: the rate offered to that VNIC (repeatable; overrides --rate)", AllowMultipleArgumentsPerToken = false };
        var format = FormatOption.Create();
        var hostOption = HostOption.Create();
        var command = new Command("simulate", "Offer synthetic traffic to every VNIC on virtual time and report what was delivered.")
        {
            topology, seconds, rate, frameSize, mix, seed, offer, interruptsOnly, moderation, format, hostOption,
        };
        command.SetAction(parse =>
        {
            long? bitsPerSecond = null;
            if (parse.GetValue(rate) is { } rateText)
            {
                if (!BitRate.TryParse(rateText, out var parsed, out var problem))
                {
                    error.WriteLine($"error: --rate '{rateText}': {problem}");
                    return NicBypassCli.ErrorExitCode;
                }
                bitsPerSecond = (long)parsed.BitsPerSecond;
            }
            var offers = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var item in parse.GetValue(offer) ?? Array.Empty<string>())
            {
                var equals = item.IndexOf('=');
                if (equals <= 0 || !BitRate.TryParse(item.Substring(equals + 1), out var offered, out var why))
                {
                    error.WriteLine($"error: --offer '{item}': write VNIC=RATE, e.g. --offer web=2G{(equals > 0 ? "; " + BitRateProblem(item.Substring(equals + 1)) : "")}");
                    return NicBypassCli.ErrorExitCode;
                }
                if (!offers.TryAdd(item.Substring(0, equals), (long)offered.BitsPerSecond))
                {
                    error.WriteLine($"error: --offer '{item}': VNIC '{item.Substring(0, equals)}' is offered a rate twice; give it one --offer");
                    return NicBypassCli.ErrorExitCode;
                }
            }
            var moderationText = parse.GetValue(moderation)?.Trim();
            var adaptive = string.Equals(moderationText, "adaptive", StringComparison.OrdinalIgnoreCase);
            double? moderationMicroseconds = null;
            if (moderationText is not null && !adaptive)
            {
                // As the file writes it (8us, 1ms) or a bare number of microseconds.
                var (digits, scale) = moderationText.EndsWith("us", StringComparison.OrdinalIgnoreCase) ? (moderationText[..^2], 1.0)
                    : moderationText.EndsWith("ms", StringComparison.OrdinalIgnoreCase) ? (moderationText[..^2], 1000.0)
                    : (moderationText, 1.0);
                if (!InvariantNumber.TryParse(digits, out var value) || !(value * scale >= 0 && value * scale <= 1_000_000)) // NaN too
                {
                    error.WriteLine($"error: --interrupt-moderation must be a delay up to 1000ms — microseconds (8 or 8us) or milliseconds (1ms) — or 'adaptive', not {moderationText}" + InvariantNumber.CommaHint(moderationText));
                    return NicBypassCli.ErrorExitCode;
                }
                moderationMicroseconds = value * scale;
            }
            var options = new SimulationOptions(parse.GetValue(seconds), bitsPerSecond, parse.GetValue(frameSize), parse.GetValue(mix) == "all", parse.GetValue(seed),
                offers.Count == 0 ? null : offers, parse.GetValue(interruptsOnly), moderationMicroseconds is { } given ? TimeSpan.FromMicroseconds(given) : null, adaptive);
            if (!(options.Seconds > 0 && options.Seconds <= 3600)) // NaN too
            {
                error.WriteLine($"error: --seconds must be a number in (0, 3600], not {parse.GetValue(seconds).ToString(System.Globalization.CultureInfo.InvariantCulture)}");
                return NicBypassCli.ErrorExitCode;
            }
            if (options.FrameSize is < 60 or > 9018)
            {
                error.WriteLine($"error: --frame-size must be 60..9018 bytes (the largest frame any NIC takes: MTU 9000 + 18 with a VLAN tag), not {options.FrameSize}");
                return NicBypassCli.ErrorExitCode;
            }
            return Run(parse.GetValue(topology)!, options, parse.GetValue(format) == "json", output, error, parse.GetValue(hostOption));
        });
        return command;
    }

    // A span in the unit that shows it (2 µs, not "0 s"; 0.000001 s, not "1E-06 s").
    private static string Span(double seconds) => string.Format(System.Globalization.CultureInfo.InvariantCulture,
        seconds >= 1 ? "{0:0.###} s" : seconds >= 1e-3 ? "{1:0.###} ms" : "{2:0.###} µs", seconds, seconds * 1e3, seconds * 1e6);

    private static string BitRateProblem(string text) => BitRate.TryParse(text, out _, out var problem) ? "" : problem;

    // Notes naming VNICs offered less than a frame in the run, at most: past it the rest share one line.
    private const int MaxSparseNotes = 8;

    private static int Run(string topologyPath, SimulationOptions options, bool json, TextWriter output, TextWriter error, string? hostName)
    {
        var clock = new VirtualClock();
        var host = TopologyLoader.Load(topologyPath, error, clock, hostName);
        if (host is null) return NicBypassCli.ErrorExitCode;
        host.Costs = Runtime.Virtualization.CostTable.Default; // processors that take time: the report says how busy each was
        foreach (var name in options.Offers?.Keys ?? Enumerable.Empty<string>())
        {
            if (!host.Vnics.Any(v => v.Name == name))
            {
                error.WriteLine($"error: --offer: host '{host.Name}' has no VNIC '{name}'; its VNICs are {string.Join(", ", host.Vnics.Select(v => v.Name))}");
                return NicBypassCli.ErrorExitCode;
            }
        }

        foreach (var nic in host.Nics.Where(n => options.FrameSize > n.Device.MaxFrameLength - 4))
        {
            // The simulation cuts the frames to what the NIC's MTU lets through: said, not silent.
            error.WriteLine($"note: NIC '{nic.Name}' carries frames of at most {nic.Device.MaxFrameLength - 4} bytes (MTU {nic.Device.MaxFrameLength - 18}): its frames are that long, not {options.FrameSize}");
        }
        var undeliverable = host.Vnics.Select(v => (Vnic: v, Why: TrafficSimulation.WhyNotDatagrams(host, v, options))).Where(v => v.Why is not null).ToList();
        foreach (var (vnic, why) in undeliverable.Take(MaxSparseNotes))
        {
            // Frames its stack drops, every one: said, not left to the report's unsupported count.
            error.WriteLine($"note: VNIC '{vnic.Name}' is offered frames of an EtherType its stack does not serve, not datagrams, because {why}: its stack drops them as unsupported");
        }
        if (undeliverable.Count > MaxSparseNotes) error.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"note: and {undeliverable.Count - MaxSparseNotes:N0} more VNICs are offered such frames for the same reasons"));
        var sparse = TrafficSimulation.OfferedFrames(host, options).Where(o => o.Frames < 1).ToList();
        foreach (var (vnic, offered, spacing) in sparse.Count > MaxSparseNotes ? sparse.Take(MaxSparseNotes - 1) : sparse)
        {
            // Offered less than a frame in the run: say so, rather than report nothing for it.
            error.WriteLine(string.Format(System.Globalization.CultureInfo.InvariantCulture,
                "note: VNIC '{0}' is offered one frame every {1}, in a run of {2}: perhaps none at all; raise --rate, --offer or --seconds", vnic.Name, Span(spacing), Span(options.Seconds)));
        }
        if (sparse.Count > MaxSparseNotes)
        {
            // A short run of a large host: one line for the rest, not a thousand (found by a drive of a 1,000-VNIC host).
            var rest = sparse.Skip(MaxSparseNotes - 1).ToList();
            error.WriteLine(string.Format(System.Globalization.CultureInfo.InvariantCulture,
                "note: and {0:N0} more VNICs are offered less than one frame in the run of {1} (one every {2} to {3}): perhaps none at all; raise --rate, --offer or --seconds",
                rest.Count, Span(options.Seconds), Span(rest.Min(o => o.Spacing)), Span(rest.Max(o => o.Spacing))));
        }
        var frames = TrafficSimulation.EstimateFrames(host, options);
        if (frames > TrafficSimulation.MaxFrames)
        {
            error.WriteLine(string.Format(System.Globalization.CultureInfo.InvariantCulture,
                "error: this run would offer about {0:N0} frames ({1} s at these rates with {2}-byte frames); at most {3:N0} are simulated in one run: lower --seconds, --rate or --offer, or raise --frame-size",
                frames, options.Seconds, options.FrameSize, TrafficSimulation.MaxFrames));
            return NicBypassCli.ErrorExitCode;
        }

        Runtime.Virtualization.TrafficReport report = null!;
        ProgressBar.Run(error, true, $"simulating {options.Seconds} s of host '{host.Name}'", progress => report = TrafficSimulation.Run(host, clock, options, progress));

        if (json) TrafficReportWriter.WriteJson(report, output);
        else TrafficReportWriter.WriteText(report, "simulated", output);
        return 0;
    }
}
