using NicBypass.Dsl;
using NicBypass.Dsl.Model;
using NicBypass.Dsl.Planning;

namespace NicBypass.Cli.Output;

/// <summary>
/// <c>plan --format text</c>, in the manner of illumos <c>dladm show-phys -H</c>: one line per
/// ring with the link, the ring type, the ring and its client. Software rings and their SRRs
/// are indented under the hardware ring that carries them.
/// </summary>
public static class PlanTextWriter
{
    public static void Write(DslCompilation compilation, TextWriter output)
    {
        if (compilation.Hosts.Count == 0)
        {
            output.WriteLine("no hosts declared");
            return;
        }
        for (var h = 0; h < compilation.Hosts.Count; h++)
        {
            var (host, plan) = compilation.Hosts[h];
            if (h > 0) output.WriteLine();
            output.WriteLine($"HOST {host.Name}: {host.Cpus} cpus, {host.Nics.Count} nics, {host.Vnics.Count} vnics");

            var rows = new List<string[]> { new[] { "LINK", "MODEL", "RINGTYPE", "RINGS", "MSI", "CLIENTS" } };
            foreach (var nic in plan.Nics)
            {
                foreach (var ring in nic.HardwareRings)
                {
                    rows.Add(new[] { nic.Name, nic.Model.Name, "RX", "hrr" + ring.Index, nic.MsiVectorOf(ring.Index).ToString(),
                        Client(host, nic, ring) + (nic.DefaultRing == ring.Index ? " <default ring: classifies in software what the hardware does not hold>" : "") });
                    if (ring.SoftwareRing is { } software) AddSoftwareRows(rows, host, nic, software, 1);
                }
                var tx = nic.TransmitRings == 1 ? "trr0" : $"trr0-{nic.TransmitRings - 1}";
                rows.Add(new[] { nic.Name, nic.Model.Name, "TX", tx, "-", "<shared by all VNICs>" });
            }
            WriteTable(rows, output);
            foreach (var flow in host.Flows)
            {
                var nic = plan.Nics.First(n => host.Vnics.Any(v => v.Name == flow.Vnic && v.Nic == n.Name));
                var inHardware = flow.Blocked && flow.DestinationOnly && (nic.Model.ClassifierFields & Dsl.Hardware.ClassifierFields.Port) != 0;
                output.WriteLine($"FLOW {flow.Name} on {flow.Vnic}: {flow.Selector}; {(flow.Blocked ? inHardware ? "blocked in hardware" : "blocked in software" : flow.Bandwidth is { } b ? "bandwidth " + b : "no limit")}; priority {flow.Priority.ToString().ToLowerInvariant()}");
            }
        }
    }

    private static void AddSoftwareRows(List<string[]> rows, HostDefinition host, NicPlan nic, SoftwareRingPlan software, int depth)
    {
        var indent = new string(' ', 2 * depth);
        foreach (var ring in software.Rings)
        {
            rows.Add(new[] { nic.Name, nic.Model.Name, "SRX", indent + software.Id + "/srr" + ring.Index, "-", Client(host, nic, ring) });
            if (ring.SoftwareRing is { } nested) AddSoftwareRows(rows, host, nic, nested, depth + 1);
        }
    }

    private static string Client(HostDefinition host, NicPlan nic, RingBinding ring)
    {
        if (ring.Vnic is { } name)
        {
            var vnic = host.Vnics.First(v => v.Name == name);
            // NB0018's fallback: the hardware classifier holds no entry for it.
            return $"{name} ({vnic.KindKeyword}{(nic.SoftwareClassified.Contains(name) ? ", classified in software" : "")})";
        }
        if (ring.SoftwareRing is { } software)
        {
            return $"<software ring {software.Id}: {software.Rings.Count} SRRs>";
        }
        return "<idle>";
    }

    private static void WriteTable(List<string[]> rows, TextWriter output)
    {
        var widths = new int[rows[0].Length];
        foreach (var row in rows)
        {
            for (var i = 0; i < row.Length; i++) widths[i] = Math.Max(widths[i], row[i].Length);
        }
        foreach (var row in rows)
        {
            var cells = row.Select((cell, i) => i == row.Length - 1 ? cell : cell.PadRight(widths[i]));
            output.WriteLine(string.Join("  ", cells).TrimEnd());
        }
    }
}
