using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using NicBypass.Cli.Output;
using NicBypass.Hosting;
using NicBypass.Runtime.Devices;
using NicBypass.Runtime.Virtualization;

namespace NicBypass.Cli.Commands;

/// <summary>
/// <c>nicbypass run TOPOLOGY --tap NIC=IFNAME [--tap …] [--host H] [--seconds S] [--capture DIR]
/// [--format text|json] [--delay NIC=TIME] [--jitter NIC=TIME] [--loss NIC=SHARE] [--reorder NIC=SHARE]</c>
/// (README.md § Real peers): the host on real time, one thread per processor, each
/// named NIC's wire a Linux TAP device, optionally impaired between Linux and the NIC. VMs answer ARP, neighbour discovery, ping and echo UDP;
/// every container and service echoes on each declared TCP and UDP port. A one-line status on a
/// terminal; the report when it stops (SIGINT, SIGTERM, or after S seconds).
/// </summary>
internal static class RunCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var topology = new Argument<string>("topology") { Description = "the .nicdsl file" };
        var taps = new Option<string[]>("--tap") { Description = "NIC=IFNAME: NIC's wire is Linux TAP device IFNAME, opened or created (repeatable; at least one)", Required = true };
        var seconds = new Option<double?>("--seconds") { Description = "stop after this many seconds (default: at SIGINT or SIGTERM)", CustomParser = InvariantNumber.Nullable };
        var capture = new Option<string?>("--capture") { Description = "a folder for per-VNIC pcap files of what each VNIC delivered" };
        var delay = new Option<string[]>("--delay") { Description = "NIC=TIME: hold every frame on the NIC's TAP wire this long, each way, in order (e.g. e0=20ms; netem's delay)" };
        var jitter = new Option<string[]>("--jitter") { Description = "NIC=TIME: vary each frame's delay by up to this much either way, in order (e.g. e0=5ms)" };
        var loss = new Option<string[]>("--loss") { Description = "NIC=SHARE: lose this share of frames each way, counted (e.g. e0=1%)" };
        var reorder = new Option<string[]>("--reorder") { Description = "NIC=SHARE: deliver this share of frames after the next one, each way, counted (e.g. e0=2%)" };
        var format = FormatOption.Create();
        var hostOption = HostOption.Create();
        var command = new Command("run", "Run the host on real time with NICs on Linux TAP devices; echo servers on every declared port.")
        {
            topology, taps, seconds, capture, format, hostOption, delay, jitter, loss, reorder,
        };
        command.SetAction(parse =>
        {
            var wires = new List<(string Nic, string Interface)>();
            foreach (var item in parse.GetValue(taps) ?? Array.Empty<string>())
            {
                var equals = item.IndexOf('=');
                if (equals <= 0 || equals == item.Length - 1)
                {
                    error.WriteLine($"error: --tap '{item}': write NIC=IFNAME, e.g. --tap e0=nb0");
                    return NicBypassCli.ErrorExitCode;
                }
                wires.Add((item.Substring(0, equals), item.Substring(equals + 1)));
            }
            foreach (var twice in wires.GroupBy(w => w.Nic).Where(g => g.Count() > 1))
            {
                error.WriteLine($"error: --tap: NIC '{twice.Key}' is given {twice.Count()} TAP devices; a NIC has one wire");
                return NicBypassCli.ErrorExitCode;
            }
            foreach (var shared in wires.GroupBy(w => w.Interface).Where(g => g.Count() > 1))
            {
                // (Opened twice, the second said "another process has the device open": this one.)
                error.WriteLine($"error: --tap: TAP device '{shared.Key}' is given to {shared.Count()} NICs ({string.Join(", ", shared.Select(w => w.Nic))}); a device is one NIC's wire");
                return NicBypassCli.ErrorExitCode;
            }
            var limit = parse.GetValue(seconds);
            if (limit is { } s && !(s > 0 && s <= 30 * 24 * 3600))
            {
                error.WriteLine($"error: --seconds must be a number in (0, 2592000], not {s.ToString(CultureInfo.InvariantCulture)}");
                return NicBypassCli.ErrorExitCode;
            }
            var impairments = new List<Impairment>();
            foreach (var (option, kind) in new[] { (delay, "delay"), (jitter, "jitter"), (loss, "loss"), (reorder, "reorder") })
            {
                foreach (var item in parse.GetValue(option) ?? Array.Empty<string>())
                {
                    if (Impairment.Parse(kind, item, wires.Select(w => w.Nic), out var message) is { } impairment) impairments.Add(impairment);
                    else
                    {
                        error.WriteLine($"error: --{kind} '{item}': {message}");
                        return NicBypassCli.ErrorExitCode;
                    }
                }
            }
            foreach (var twice in impairments.GroupBy(i => (i.Kind, i.Nic)).Where(g => g.Count() > 1))
            {
                // As --tap: one value a NIC (the last one used to win, silently).
                error.WriteLine($"error: --{twice.Key.Kind}: NIC '{twice.Key.Nic}' is given {twice.Count()} values; give one");
                return NicBypassCli.ErrorExitCode;
            }
            foreach (var jittered in impairments.Where(i => i.Kind == "jitter" && i.Time > TimeSpan.Zero))
            {
                if (!impairments.Any(i => i.Kind == "delay" && i.Nic == jittered.Nic && i.Time > TimeSpan.Zero))
                {
                    // As netem's: jitter varies a delay, and without one there is nothing to vary.
                    error.WriteLine($"error: --jitter {jittered.Nic}: jitter varies a delay; give --delay {jittered.Nic}=TIME too");
                    return NicBypassCli.ErrorExitCode;
                }
            }
            foreach (var reordered in impairments.Where(i => i.Kind == "reorder" && i.Share > 0))
            {
                if (!impairments.Any(i => i.Kind == "delay" && i.Nic == reordered.Nic && i.Time > TimeSpan.Zero))
                {
                    // As netem's: a reordered frame is one sent ahead of delayed ones. Without a delay
                    // the held frame waited for the next, or for the reader's timeout, uncounted
                    // (50–170 ms on a ping; found by a new user's drive).
                    error.WriteLine($"error: --reorder {reordered.Nic}: reordering sends some frames ahead of delayed ones; give --delay {reordered.Nic}=TIME too");
                    return NicBypassCli.ErrorExitCode;
                }
            }
            return Run(parse.GetValue(topology)!, wires, impairments, limit, parse.GetValue(capture), parse.GetValue(format) == "json", parse.GetValue(hostOption), output, error);
        });
        return command;
    }

    private static int Run(string topologyPath, List<(string Nic, string Interface)> wires, List<Impairment> impairments, double? seconds, string? captureDirectory, bool json,
        string? hostName, TextWriter output, TextWriter error)
    {
        var host = TopologyLoader.Load(topologyPath, error, TimeProvider.System, hostName);
        if (host is null) return NicBypassCli.ErrorExitCode;
        foreach (var (nic, _) in wires)
        {
            if (host.Nics.All(n => n.Name != nic))
            {
                error.WriteLine($"error: --tap: host '{host.Name}' has no NIC '{nic}'; its NICs are {string.Join(", ", host.Nics.Select(n => n.Name))}");
                return NicBypassCli.ErrorExitCode;
            }
        }

        var attached = new List<TapWire>();
        var captures = new List<VnicCapture>();
        EchoServices? echo = null;
        using var stop = new CancellationTokenSource();
        var signals = new List<PosixSignalRegistration>();
        try
        {
            foreach (var (nic, name) in wires)
            {
                try
                {
                    var wire = host.AttachTap(nic, name);
                    attached.Add(wire);
                    foreach (var impairment in impairments.Where(i => i.Nic == nic)) impairment.Apply(wire);
                }
                catch (TapDeviceException e)
                {
                    error.WriteLine($"error: --tap {nic}={name}: {e.Message}");
                    return NicBypassCli.ErrorExitCode;
                }
            }
            if (captureDirectory is not null)
            {
                if (File.Exists(captureDirectory))
                {
                    error.WriteLine($"error: --capture {captureDirectory}: is a file; --capture names the folder the per-VNIC captures go in");
                    return NicBypassCli.ErrorExitCode;
                }
                try
                {
                    Directory.CreateDirectory(captureDirectory);
                    foreach (var vnic in host.Vnics) captures.Add(host.Capture(vnic.Name, Path.Combine(captureDirectory, vnic.Name + ".pcap")));
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    error.WriteLine($"error: --capture {captureDirectory}: cannot make the folder or a capture in it ({e.Message})");
                    return NicBypassCli.ErrorExitCode;
                }
            }
            foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM })
            {
                signals.Add(PosixSignalRegistration.Create(signal, context =>
                {
                    context.Cancel = true; // stop cleanly: the report still prints
                    stop.Cancel();
                }));
            }

            host.StartThreads();
            echo = EchoServices.Start(host);
            // A device the run made has no address on the Linux side (a mistyped name makes one too).
            error.WriteLine($"running host '{host.Name}': {string.Join(", ", attached.Select(w => $"{w} (tap{(w.Device.Created ? ", created: no address on the Linux side yet" : "")})"))}; " +
                            (echo.Endpoints.Count > 0 ? $"echo on {string.Join(", ", echo.Endpoints)}" : "no container or service ports to echo on") +
                            (seconds is { } s ? $"; for {s.ToString(CultureInfo.InvariantCulture)} s" : "; stop with Ctrl-C"));
            var clock = Stopwatch.StartNew();
            var live = Output.SafeTextWriter.IsTerminal(error);
            while (!stop.IsCancellationRequested && (seconds is not { } limit || clock.Elapsed.TotalSeconds < limit))
            {
                var wait = seconds is { } l ? Math.Min(1.0, l - clock.Elapsed.TotalSeconds) : 1.0;
                // Under a millisecond the wait returns at once: the loop spun, redrawing the status
                // line dozens of times at the end of a --seconds run (found by a user's drive);
                // the last round waits out what is left and ends after the checks below.
                var last = wait < 0.001;
                stop.Token.WaitHandle.WaitOne(TimeSpan.FromSeconds(Math.Max(wait, 0.001)));
                if (live) Status(error, "\r" + Status(host, attached, echo, clock.Elapsed) + "\u001b[K");
                if (attached.FirstOrDefault(w => w.ReadError is not null) is { } failed)
                {
                    if (live) error.WriteLine();
                    error.WriteLine($"error: {failed}: {failed.ReadError!.Message}; stopping");
                    break;
                }
                if (last) break;
            }
            if (live) error.WriteLine();
            var elapsed = clock.Elapsed.TotalSeconds;

            // In order: the echo servers end their connections while the processors still run;
            // StopThreads stops the TAP readers, then drains; the report then sees a quiet host.
            echo.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(10));
            echo = null;
            // `ip dhcp`: what each learned from Linux's DHCP server (dnsmasq, …), and the lease
            // given back (a DHCPRELEASE) while the threads still carry it to the TAP.
            var learners = host.VirtualMachines.Where(v => v.Vnic.Settings.Dhcp).Select(v => (v.Name, v.Stack))
                .Concat(host.NetworkStacks.Where(s => s.Vnic.Settings.Dhcp).Select(s => (s.Name, s.Stack))).ToList();
            var leases = new List<Learned>();
            foreach (var (name, stack) in learners)
            {
                var lease = stack.DhcpLease;
                var router = stack.DhcpRouter;
                var released = stack.ReleaseDhcpLease();
                // And IPv6 (SLAAC, from routers' advertisements), when a router advertised a prefix.
                var (autoconfigured, router6) = stack.Autoconfigured;
                leases.Add(new Learned(name, lease?.Address.ToString(), lease?.PrefixLength ?? 0, router?.ToString(), released,
                    autoconfigured.Select(a => a.ToString()).ToList(), router6?.ToString()));
            }
            AggregateException? faults = null;
            try
            {
                host.StopThreads(TimeSpan.FromSeconds(5));
            }
            catch (AggregateException e)
            {
                faults = e; // the host is stopped all the same: the report first, then what was thrown
            }
            var report = host.Report(elapsed);
            if (json) TrafficReportWriter.WriteJson(report, output, writer => WriteJson(writer, attached, wires, impairments, leases));
            else
            {
                TrafficReportWriter.WriteText(report, "ran", output);
                output.WriteLine();
                for (var w = 0; w < attached.Count; w++)
                {
                    var wire = attached[w];
                    output.Write(string.Format(CultureInfo.InvariantCulture, "tap {0}: {1:N0} {2} in, {3:N0} out, {4:N0} Linux refused", wire, wire.FramesIn, wire.FramesIn == 1 ? "frame" : "frames", wire.FramesOut, wire.WriteFailures));
                    if (impairments.Any(i => i.Nic == wires[w].Nic))
                    {
                        output.Write(string.Format(CultureInfo.InvariantCulture, "; impaired: {0:N0} lost, {1:N0} reordered, {2:N0} delayed ({3:N0} lost to a full delay line)",
                            wire.Lost, wire.Reordered + wire.ReorderedOut, wire.Delayed, wire.DelayOverflows));
                    }
                    if (wire.Device.Offloads)
                    {
                        output.Write(string.Format(CultureInfo.InvariantCulture, "; offload: {0:N0} super-frames from Linux, {1:N0} to Linux",
                            wire.Device.SuperFramesRead, wire.SuperFramesOut));
                    }
                    output.WriteLine();
                }
                foreach (var learned in leases)
                {
                    output.WriteLine(learned.Address is null ? $"dhcp {learned.Vnic}: no lease"
                        : $"dhcp {learned.Vnic}: {learned.Address}/{learned.PrefixLength}{(learned.Router is { } r ? $", router {r}" : "")}{(learned.GivenBack ? ", given back at exit" : "")}");
                    if (learned.Slaac.Count > 0) output.WriteLine($"slaac {learned.Vnic}: {string.Join(", ", learned.Slaac)}{(learned.Router6 is { } r6 ? $", router {r6}" : "")}");
                }
            }
            var failedCaptures = captures.Where(c => c.Error is not null).ToList();
            foreach (var capture in failedCaptures) error.WriteLine($"error: capture {capture.Path}: {capture.Error!.Message}");
            if (faults is not null)
            {
                error.WriteLine($"error: {host.ThreadFaults} exception(s) thrown by code the datapath called on the host's threads (their frames are counted as handler-fault){(host.ThreadFaults > faults.InnerExceptions.Count ? $"; the first {faults.InnerExceptions.Count}" : "")}:");
                foreach (var fault in faults.InnerExceptions) error.WriteLine($"  {fault.GetType().Name}: {fault.Message}");
            }
            return attached.Any(w => w.ReadError is not null) || failedCaptures.Count > 0 || faults is not null ? NicBypassCli.ErrorExitCode : 0;
        }
        finally
        {
            foreach (var signal in signals) signal.Dispose();
            if (echo is not null) echo.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(10));
            try
            {
                host.StopThreads(TimeSpan.FromSeconds(5)); // (stopped already unless something above threw)
            }
            catch (AggregateException)
            {
                // What user code threw: the exception already on its way matters more.
            }
            foreach (var wire in attached) wire.Dispose();
            foreach (var capture in captures) capture.Dispose();
        }
    }

    // What an `ip dhcp` tenant learned: its DHCP lease (null address: none) and SLAAC's addresses.
    private sealed record Learned(string Vnic, string? Address, int PrefixLength, string? Router, bool GivenBack, IReadOnlyList<string> Slaac, string? Router6);

    // The JSON report's run-only fields (README.md § Real peers): each TAP wire's counts, and what
    // each `ip dhcp` tenant learned from Linux's side.
    private static void WriteJson(System.Text.Json.Utf8JsonWriter json, List<TapWire> attached, List<(string Nic, string Interface)> wires, List<Impairment> impairments, List<Learned> leases)
    {
        json.WriteStartArray("taps");
        for (var w = 0; w < attached.Count; w++)
        {
            var wire = attached[w];
            json.WriteStartObject();
            json.WriteString("nic", wires[w].Nic);
            json.WriteString("device", wire.Device.Name);
            json.WriteNumber("framesIn", wire.FramesIn);
            json.WriteNumber("framesOut", wire.FramesOut);
            json.WriteNumber("linuxRefused", wire.WriteFailures);
            if (impairments.Any(i => i.Nic == wires[w].Nic))
            {
                json.WriteStartObject("impaired");
                json.WriteNumber("lost", wire.Lost);
                json.WriteNumber("reordered", wire.Reordered + wire.ReorderedOut);
                json.WriteNumber("delayed", wire.Delayed);
                json.WriteNumber("delayLineFull", wire.DelayOverflows);
                json.WriteEndObject();
            }
            if (wire.Device.Offloads)
            {
                json.WriteStartObject("offload");
                json.WriteNumber("superFramesIn", wire.Device.SuperFramesRead);
                json.WriteNumber("superFramesOut", wire.SuperFramesOut);
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteStartArray("leases");
        foreach (var learned in leases)
        {
            json.WriteStartObject();
            json.WriteString("vnic", learned.Vnic);
            if (learned.Address is null) json.WriteNull("dhcp");
            else
            {
                json.WriteStartObject("dhcp");
                json.WriteString("address", learned.Address);
                json.WriteNumber("prefixLength", learned.PrefixLength);
                if (learned.Router is { } router) json.WriteString("router", router);
                else json.WriteNull("router"); // the documented shape holds its keys: null, not missing
                json.WriteBoolean("givenBack", learned.GivenBack);
                json.WriteEndObject();
            }
            json.WriteStartObject("slaac");
            json.WriteStartArray("addresses");
            foreach (var address in learned.Slaac) json.WriteStringValue(address);
            json.WriteEndArray();
            if (learned.Router6 is { } router6) json.WriteString("router", router6);
            else json.WriteNull("router"); // no router advertised (found by a new user's drive: the key was missing)
            json.WriteEndObject();
            json.WriteEndObject();
        }
        json.WriteEndArray();
    }

    // One line: time, per TAP frames in and out, what the VNICs delivered and dropped, what the echo servers did.
    // The live status line carries its own terminal control (erase to the end of the line).
    private static void Status(TextWriter error, string line)
    {
        if (error is Output.SafeTextWriter safe) safe.WriteTrusted(line);
        else error.Write(line);
    }

    internal static string Status(NetworkHost host, List<TapWire> wires, EchoServices echo, TimeSpan elapsed)
    {
        var culture = CultureInfo.InvariantCulture;
        var taps = string.Join(" · ", wires.Select(w => string.Format(culture, "{0}: {1:N0} in / {2:N0} out", w.Device.Name, w.FramesIn, w.FramesOut)));
        return string.Format(culture, "{0:0}s · {1} · delivered {2:N0} · dropped {3:N0} · tcp {4:N0} conn, {5:N0} B echoed · udp {6:N0} echoed",
            elapsed.TotalSeconds, taps, host.Vnics.Sum(v => v.Counters.Delivered),
            // Every drop the report will count: the VNICs', and the NICs' own (no-match, …) and their software rings'.
            host.Vnics.Sum(v => v.Counters.DroppedTotal) + host.Nics.Sum(n => n.Device.Counters.DroppedTotal + n.SoftwareRings.Sum(r => r.Counters.DroppedTotal)),
            echo.Connections, echo.BytesEchoed, echo.DatagramsEchoed);
    }
}
