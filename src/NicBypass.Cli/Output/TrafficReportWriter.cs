using System.Globalization;
using System.Text;
using System.Text.Json;
using NicBypass.Runtime.Virtualization;

namespace NicBypass.Cli.Output;

/// <summary>
/// The report of <c>replay</c> and <c>simulate</c>: text for people, JSON with the contract's
/// field names (README.md § A short tour): frames, cpus[…], nics[name, wire{offered, carried, dropped}, received, dropped, vnics[name, ring, received,
/// delivered, deliveredBytes, dropped, queued, latencyMicroseconds{…}, for containers and services vsq{inboundHighWater,
/// backlogs, pollingSwitches, …} and stack{received, delivered, answered, sent, dropped}, for VMs under the cost model
/// guest{busy, virtualInterrupts, guestRingHighWater, blocked}, for VMs guestStack{received, delivered, answered, sent, dropped}]], seconds.
/// </summary>
public static class TrafficReportWriter
{
    /// <summary>The report as JSON; <paramref name="more"/> writes a command's own fields (run's taps and leases) before <c>seconds</c>.</summary>
    public static void WriteJson(TrafficReport report, TextWriter output, Action<System.Text.Json.Utf8JsonWriter>? more = null)
    {
        JsonText.Write(output, json =>
        {
            json.WriteStartObject();
            json.WriteNumber("frames", report.Frames);
            if (report.Cpus is { } cpus)
            {
                json.WriteStartArray("cpus");
                foreach (var cpu in cpus)
                {
                    json.WriteStartObject();
                    json.WriteNumber("id", cpu.Id);
                    json.WriteNumber("busy", Math.Round(cpu.Busy, 6));
                    json.WriteNumber("hardwareInterrupts", cpu.HardwareInterrupts);
                    json.WriteNumber("softwareInterrupts", cpu.SoftwareInterrupts);
                    json.WriteNumber("polls", cpu.Polls);
                    json.WriteEndObject();
                }
                json.WriteEndArray();
            }
            json.WriteStartArray("nics");
            foreach (var nic in report.Nics)
            {
                json.WriteStartObject();
                json.WriteString("name", nic.Name);
                if (nic.Wire is { } wire)
                {
                    json.WriteStartObject("wire");
                    json.WriteNumber("offered", wire.Offered);
                    json.WriteNumber("carried", wire.Carried);
                    json.WriteNumber("dropped", wire.Dropped);
                    json.WriteEndObject();
                }
                json.WriteNumber("received", nic.Received);
                WriteDrops(json, nic.Dropped);
                json.WriteNumber("replicated", nic.Replicated);
                if (nic.Queued > 0) json.WriteNumber("queued", nic.Queued); // extension: frames on a default ring, not yet any VNIC's
                json.WriteStartArray("vnics");
                foreach (var vnic in nic.Vnics)
                {
                    json.WriteStartObject();
                    json.WriteString("name", vnic.Name);
                    json.WriteString("ring", vnic.Ring);
                    json.WriteNumber("received", vnic.Received);
                    json.WriteNumber("delivered", vnic.Delivered);
                    json.WriteNumber("deliveredBytes", vnic.DeliveredBytes);
                    WriteDrops(json, vnic.Dropped);
                    json.WriteNumber("queued", vnic.Queued);
                    if (vnic.Latency is { } latency)
                    {
                        json.WriteStartObject("latencyMicroseconds");
                        json.WriteNumber("p50", Math.Round(latency.P50, 3));
                        json.WriteNumber("p99", Math.Round(latency.P99, 3));
                        json.WriteNumber("max", Math.Round(latency.Max, 3));
                        json.WriteEndObject();
                    }
                    if (vnic.Vsq is { } vsq)
                    {
                        json.WriteStartObject("vsq");
                        json.WriteNumber("inboundHighWater", vsq.InboundHighWater);
                        json.WriteNumber("backlogs", vsq.Backlogs);
                        json.WriteNumber("pollingSwitches", vsq.PollingSwitches);
                        json.WriteNumber("inboundQueued", vsq.InboundQueued);
                        json.WriteNumber("outboundHighWater", vsq.OutboundHighWater);
                        json.WriteNumber("outboundQueued", vsq.OutboundQueued);
                        json.WriteNumber("blockedSends", vsq.BlockedSends);
                        json.WriteEndObject();
                    }
                    if (vnic.Guest is { } guest)
                    {
                        json.WriteStartObject("guest");
                        json.WriteNumber("busy", Math.Round(guest.Busy, 6));
                        json.WriteNumber("virtualInterrupts", guest.VirtualInterrupts);
                        json.WriteNumber("guestRingHighWater", guest.GuestRingHighWater);
                        json.WriteNumber("blocked", guest.Blocked);
                        json.WriteEndObject();
                    }
                    if (vnic.Flows is { } flows)
                    {
                        json.WriteStartArray("flows");
                        foreach (var flow in flows)
                        {
                            json.WriteStartObject();
                            json.WriteString("name", flow.Name);
                            json.WriteNumber("received", flow.Received);
                            json.WriteNumber("delivered", flow.Delivered);
                            json.WriteNumber("deliveredBytes", flow.DeliveredBytes);
                            WriteDrops(json, flow.Dropped);
                            if (flow.Queued > 0) json.WriteNumber("queued", flow.Queued); // an extension: frames still in its own queue
                            json.WriteEndObject();
                        }
                        json.WriteEndArray();
                    }
                    if (vnic.Stack is { } stack) WriteStack(json, "stack", stack);
                    if (vnic.GuestStack is { } guestStack) WriteStack(json, "guestStack", guestStack);
                    json.WriteEndObject();
                }
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndArray();
            more?.Invoke(json);
            json.WriteNumber("seconds", report.Seconds);
            json.WriteEndObject();
        });
    }

    private static void WriteStack(Utf8JsonWriter json, string name, StackTrafficReport stack)
    {
        json.WriteStartObject(name);
        json.WriteNumber("received", stack.Received);
        json.WriteNumber("delivered", stack.Delivered);
        json.WriteNumber("answered", stack.Answered);
        json.WriteNumber("sent", stack.Sent);
        WriteDrops(json, stack.Dropped);
        if (stack.SynQueueOverflows > 0) json.WriteNumber("synQueueOverflows", stack.SynQueueOverflows);
        if (stack.FragmentsJoined > 0) json.WriteNumber("fragmentsJoined", stack.FragmentsJoined);
        if (stack.FragmentsHeld > 0) json.WriteNumber("fragmentsHeld", stack.FragmentsHeld);
        if (stack.SynCookiesSent > 0) json.WriteNumber("synCookiesSent", stack.SynCookiesSent);
        if (stack.SynCookiesAccepted > 0) json.WriteNumber("synCookiesAccepted", stack.SynCookiesAccepted);
        if (stack.Waiting > 0) json.WriteNumber("waiting", stack.Waiting);
        if (stack.ParameterProblemsSent > 0) json.WriteNumber("parameterProblemsSent", stack.ParameterProblemsSent);
        if (stack.ConnectionsTimedOut > 0) json.WriteNumber("connectionsTimedOut", stack.ConnectionsTimedOut);
        if (stack.SendDropped is { Count: > 0 } sendDropped)
        {
            // What it was asked to send and dropped (an extension: written only when not empty).
            json.WriteStartObject("sendDropped");
            foreach (var (reason, count) in sendDropped) json.WriteNumber(reason, count);
            json.WriteEndObject();
        }
        json.WriteEndObject();
    }

    public static void WriteText(TrafficReport report, string verb, TextWriter output)
    {
        var culture = CultureInfo.InvariantCulture;
        // Under a microsecond in nanoseconds: "over 0 s" beside JSON's 1e-07 said nothing ran,
        // and "1E-10 s" read as a formatting slip (found by a new user's drive).
        var seconds = report.Seconds is > 0 and < 0.000_001 ? (report.Seconds * 1e9).ToString("0.###", culture) + " ns" : report.Seconds.ToString("0.######", culture) + " s";
        // The frames the NICs received; where their links could not carry all that was offered
        // (a capture's frames, a simulation's streams), the headline says of how many.
        var offered = report.Nics.Sum(n => n.Wire?.Offered ?? 0);
        var ofOffered = offered > report.Frames ? string.Format(culture, " (of {0:N0} offered: the links carried what fits their rate)", offered) : "";
        output.WriteLine(string.Format(culture, "{0} {1:N0} {2} over {3}{4}", verb, report.Frames, report.Frames == 1 ? "frame" : "frames", seconds, ofOffered));
        foreach (var cpu in report.Cpus ?? Array.Empty<ProcessorTrafficReport>())
        {
            output.WriteLine(string.Format(culture, "cpu{0}: busy {1:P1}, {2:N0} hardware and {3:N0} software interrupts, {4:N0} polls",
                cpu.Id, cpu.Busy, cpu.HardwareInterrupts, cpu.SoftwareInterrupts, cpu.Polls));
        }
        foreach (var nic in report.Nics)
        {
            output.WriteLine();
            output.WriteLine(string.Format(culture, "NIC {0}: received {1:N0}, dropped {2}{3}", nic.Name, nic.Received, Drops(nic.Dropped),
                nic.Replicated > 0 ? string.Format(culture, ", replicated {0:N0} (extra copies of group frames)", nic.Replicated) : ""));
            if (nic.Wire is { Dropped: > 0 } wire)
            {
                output.WriteLine(string.Format(culture, "  wire: offered {0:N0}, carried {1:N0}, dropped {2:N0} (beyond the link rate)", wire.Offered, wire.Carried, wire.Dropped));
            }
            // QUEUED (still in the ring at the end) only when something is.
            var queued = nic.Vnics.Any(v => v.Queued > 0);
            var rows = new List<string[]> { queued ? new[] { "VNIC", "RING", "RECEIVED", "DELIVERED", "BYTES", "QUEUED", "DROPPED" } : new[] { "VNIC", "RING", "RECEIVED", "DELIVERED", "BYTES", "DROPPED" } };
            rows.AddRange(nic.Vnics.Select(v => queued
                ? new[] { v.Name, v.Ring, v.Received.ToString("N0", culture), v.Delivered.ToString("N0", culture), v.DeliveredBytes.ToString("N0", culture), v.Queued.ToString("N0", culture), Drops(v.Dropped) }
                : new[] { v.Name, v.Ring, v.Received.ToString("N0", culture), v.Delivered.ToString("N0", culture), v.DeliveredBytes.ToString("N0", culture), Drops(v.Dropped) }));
            var widths = Enumerable.Range(0, rows[0].Length).Select(i => rows.Max(r => r[i].Length)).ToArray();
            foreach (var row in rows)
            {
                output.WriteLine(string.Join("  ", row.Select((cell, i) => i == row.Length - 1 ? cell : i >= 2 && row != rows[0] ? cell.PadLeft(widths[i]) : cell.PadRight(widths[i]))).TrimEnd());
            }
            foreach (var vnic in nic.Vnics.Where(v => v.Latency is not null))
            {
                output.WriteLine(string.Format(culture, "  latency {0}: p50 {1:0.###} µs, p99 {2:0.###} µs, max {3:0.###} µs (last bit on the wire → delivery)",
                    vnic.Name, vnic.Latency!.P50, vnic.Latency.P99, vnic.Latency.Max));
            }
            foreach (var vnic in nic.Vnics.Where(v => v.Stack is not null))
            {
                var stack = vnic.Stack!;
                output.WriteLine(string.Format(culture, "  VNS {0}: received {1:N0}, to sockets {2:N0}, answered {3:N0}, sent {4:N0}, dropped {5}",
                    vnic.Name, stack.Received, stack.Delivered, stack.Answered, stack.Sent, Drops(stack.Dropped))
                    + (stack.FragmentsJoined + stack.FragmentsHeld > 0 ? string.Format(culture, "; IP fragments joined {0:N0} (all but each datagram's last), waiting for the rest {1:N0}", stack.FragmentsJoined, stack.FragmentsHeld) : "")
                    + (stack.SynQueueOverflows > 0 ? string.Format(culture, "; {0:N0} half-open connections pushed out of a full SYN queue", stack.SynQueueOverflows) : "")
                    + (stack.SynCookiesSent > 0 ? string.Format(culture, "; SYN cookies sent {0:N0}, {1:N0} came back as connections", stack.SynCookiesSent, stack.SynCookiesAccepted) : "")
                    + (stack.Waiting > 0 ? string.Format(culture, "; {0:N0} still waiting in its inbound VSQ", stack.Waiting) : "")
                    + (stack.ParameterProblemsSent > 0 ? string.Format(culture, "; parameter problems sent {0:N0} (about packets dropped)", stack.ParameterProblemsSent) : "")
                    + (stack.ConnectionsTimedOut > 0 ? string.Format(culture, "; TCP connections given up on a timeout {0:N0} (handshakes included)", stack.ConnectionsTimedOut) : "")
                    + (stack.SendDropped is { Count: > 0 } sendDropped ? "; not sent " + Drops(sendDropped) : ""));
                if (vnic.Vsq is { } vsq && (vsq.InboundQueued > 0 || vsq.PollingSwitches > 0 || vsq.OutboundQueued > 0))
                {
                    output.WriteLine(string.Format(culture, "    VSQ: inbound high water {0:N0}, {1:N0} waited, {2:N0} backlogs, {3:N0} switches to polling; outbound high water {4:N0}, {5:N0} waited, {6:N0} senders blocked",
                        vsq.InboundHighWater, vsq.InboundQueued, vsq.Backlogs, vsq.PollingSwitches, vsq.OutboundHighWater, vsq.OutboundQueued, vsq.BlockedSends));
                }
            }
            foreach (var vnic in nic.Vnics.Where(v => v.Flows is not null))
            {
                foreach (var flow in vnic.Flows!)
                {
                    output.WriteLine(string.Format(culture, "  flow {0} on {1}: received {2:N0}, delivered {3:N0} ({4:N0} bytes), dropped {5}{6}",
                        flow.Name, vnic.Name, flow.Received, flow.Delivered, flow.DeliveredBytes, Drops(flow.Dropped),
                        flow.Queued > 0 ? string.Format(culture, "; {0:N0} still queued", flow.Queued) : ""));
                }
            }
            foreach (var vnic in nic.Vnics.Where(v => v.Guest is not null || v.GuestStack is { Received: > 0 } or { Sent: > 0 } or { Dropped.Count: > 0 }))
            {
                var guest = vnic.Guest;
                var stack = vnic.GuestStack;
                output.WriteLine("  VM " + vnic.Name + ": " + string.Join("; ", new[]
                {
                    guest is null ? null : string.Format(culture, "vCPU busy {0:P1}, {1:N0} virtual interrupts, guest ring high water {2:N0}, {3:N0} sends held back",
                        guest.Busy, guest.VirtualInterrupts, guest.GuestRingHighWater, guest.Blocked),
                    stack is null ? null : string.Format(culture, "guest stack received {0:N0}, to sockets {1:N0}, answered {2:N0}, sent {3:N0}, dropped {4}",
                        stack.Received, stack.Delivered, stack.Answered, stack.Sent, Drops(stack.Dropped))
                        + (stack.FragmentsJoined + stack.FragmentsHeld > 0 ? string.Format(culture, ", IP fragments joined {0:N0} (all but each datagram's last), waiting for the rest {1:N0}", stack.FragmentsJoined, stack.FragmentsHeld) : "")
                        + (stack.Waiting > 0 ? string.Format(culture, ", {0:N0} still in its guest ring", stack.Waiting) : "")
                        + (stack.ParameterProblemsSent > 0 ? string.Format(culture, ", parameter problems sent {0:N0} (about packets dropped)", stack.ParameterProblemsSent) : "")
                        + (stack.ConnectionsTimedOut > 0 ? string.Format(culture, ", TCP connections given up on a timeout {0:N0} (handshakes included)", stack.ConnectionsTimedOut) : "")
                        + (stack.SendDropped is { Count: > 0 } sendDropped ? ", not sent " + Drops(sendDropped) : ""),
                }.Where(part => part is not null)));
            }
        }
    }

    private static string Drops(IReadOnlyList<KeyValuePair<string, long>> drops) =>
        drops.Count == 0 ? "-" : string.Join(", ", drops.Select(d => $"{d.Key} {d.Value.ToString("N0", CultureInfo.InvariantCulture)}"));

    private static void WriteDrops(Utf8JsonWriter json, IReadOnlyList<KeyValuePair<string, long>> drops)
    {
        json.WriteStartObject("dropped");
        foreach (var (reason, count) in drops) json.WriteNumber(reason, count);
        json.WriteEndObject();
    }
}
