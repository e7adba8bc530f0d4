using System.Globalization;
using System.Text;
using System.Text.Json;
using NicBypass.Runtime.Virtualization;

namespace NicBypass.Cli.Output;

/// <summary>
/// The report of <c>replay</c> and <c>simulate</c>: text for people, JSON with the contract's
/// field names (DESIGN.md §5): frames, nics[name, wire{offered, carried, dropped}, received, dropped, vnics[name, ring, received,
/// delivered, deliveredBytes, dropped, and for containers and services stack{received, delivered,
/// answered, sent, dropped}]], seconds.
/// </summary>
public static class TrafficReportWriter
{
    public static void WriteJson(TrafficReport report, TextWriter output)
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
                    if (vnic.Latency is { } latency)
                    {
                        json.WriteStartObject("latencyMicroseconds");
                        json.WriteNumber("p50", Math.Round(latency.P50, 3));
                        json.WriteNumber("p99", Math.Round(latency.P99, 3));
                        json.WriteNumber("max", Math.Round(latency.Max, 3));
                        json.WriteEndObject();
                    }
                    if (vnic.Stack is { } stack)
                    {
                        json.WriteStartObject("stack");
                        json.WriteNumber("received", stack.Received);
                        json.WriteNumber("delivered", stack.Delivered);
                        json.WriteNumber("answered", stack.Answered);
                        json.WriteNumber("sent", stack.Sent);
                        WriteDrops(json, stack.Dropped);
                        json.WriteEndObject();
                    }
                    json.WriteEndObject();
                }
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteNumber("seconds", report.Seconds);
            json.WriteEndObject();
        });
    }

    public static void WriteText(TrafficReport report, string verb, TextWriter output)
    {
        var culture = CultureInfo.InvariantCulture;
        output.WriteLine(string.Format(culture, "{0} {1:N0} frames over {2:0.######} s", verb, report.Frames, report.Seconds));
        foreach (var cpu in report.Cpus ?? Array.Empty<ProcessorTrafficReport>())
        {
            output.WriteLine(string.Format(culture, "cpu{0}: busy {1:P1}, {2:N0} hardware and {3:N0} software interrupts, {4:N0} polls",
                cpu.Id, cpu.Busy, cpu.HardwareInterrupts, cpu.SoftwareInterrupts, cpu.Polls));
        }
        foreach (var nic in report.Nics)
        {
            output.WriteLine();
            output.WriteLine(string.Format(culture, "NIC {0}: received {1:N0}, dropped {2}", nic.Name, nic.Received, Drops(nic.Dropped)));
            if (nic.Wire is { Dropped: > 0 } wire)
            {
                output.WriteLine(string.Format(culture, "  wire: offered {0:N0}, carried {1:N0}, dropped {2:N0} (beyond the link rate)", wire.Offered, wire.Carried, wire.Dropped));
            }
            var rows = new List<string[]> { new[] { "VNIC", "RING", "RECEIVED", "DELIVERED", "BYTES", "DROPPED" } };
            rows.AddRange(nic.Vnics.Select(v => new[]
            {
                v.Name, v.Ring, v.Received.ToString("N0", culture), v.Delivered.ToString("N0", culture), v.DeliveredBytes.ToString("N0", culture), Drops(v.Dropped),
            }));
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
                    vnic.Name, stack.Received, stack.Delivered, stack.Answered, stack.Sent, Drops(stack.Dropped)));
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
