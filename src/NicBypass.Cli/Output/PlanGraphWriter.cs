using System.Globalization;
using NicBypass.Dsl;
using NicBypass.Dsl.Hardware;
using NicBypass.Dsl.Model;
using NicBypass.Dsl.Planning;

namespace NicBypass.Cli.Output;

/// <summary>
/// <c>graph</c>: the placement as a Graphviz digraph, left to right as a frame travels — per host
/// a cluster, per NIC a cluster with its hardware classifier, its receive rings and software rings
/// (with their SRRs), then each VNIC and what is behind it (a VM through its interface, or a
/// container's or service's VNS). Node IDs are host/nic/ring paths, so they are unique and stable.
/// </summary>
public static class PlanGraphWriter
{
    public static void Write(DslCompilation compilation, TextWriter output)
    {
        output.WriteLine("digraph nicbypass {");
        output.WriteLine("    rankdir=LR;");
        output.WriteLine("    node [fontname=\"Helvetica\", fontsize=10];");
        output.WriteLine("    edge [fontname=\"Helvetica\", fontsize=9];");
        foreach (var (host, plan) in compilation.Hosts)
        {
            output.WriteLine($"    subgraph {Id("cluster_" + host.Name)} {{");
            output.WriteLine($"        label={Quote($"host {host.Name} ({host.Cpus} cpus)")};");
            foreach (var nic in plan.Nics)
            {
                var definition = host.Nics.First(n => n.Name == nic.Name);
                // Each id says what it names ("nic", "vnic", "vm", …; names hold no '/'), so a NIC
                // named 'vnic' or a VM named 'hrr0' cannot take another node's id.
                var nicId = host.Name + "/nic/" + nic.Name;
                output.WriteLine($"        subgraph {Id("cluster_" + nicId)} {{");
                output.WriteLine($"            label={Quote($"{nic.Name}: {nic.Model.Name} ({nic.Model.Driver}), {definition.Speed}")};");
                output.WriteLine($"            {Id(nicId)} [shape=box3d, label={Quote($"{nic.Name}\nhardware classifier: {Fields(nic.Model.ClassifierFields)}\n{nic.HardwareClassifier.Entries.Count}/{nic.Model.ClassifierEntries} entries" +
                    (nic.DefaultRing is { } defaultRing ? $"\n{nic.SoftwareClassified.Count} VNICs classified in software on hrr{defaultRing}" : ""))}];");
                foreach (var vnic in host.Vnics.Where(v => v.Nic == nic.Name))
                {
                    output.WriteLine($"            {Id(host.Name + "/vnic/" + vnic.Name)} [shape=ellipse, label={Quote(VnicLabel(vnic))}];");
                }
                foreach (var ring in nic.HardwareRings)
                {
                    var ringId = $"{nicId}/hrr{ring.Index}";
                    output.WriteLine($"            {Id(ringId)} [shape=cds, label={Quote($"hrr{ring.Index}\nMSI {nic.MsiVectorOf(ring.Index)}")}{(ring.IsIdle ? ", style=dashed" : "")}];");
                    output.WriteLine($"            {Id(nicId)} -> {Id(ringId)};");
                    WriteClient(output, host, nicId, ringId, ring, "            ");
                }
                output.WriteLine("        }");
            }
            foreach (var vnic in host.Vnics)
            {
                var vnicId = host.Name + "/vnic/" + vnic.Name;
                var behind = host.Name + "/" + vnic.KindKeyword + "/" + vnic.Name;
                if (vnic.Kind == VnicKind.Vm)
                {
                    output.WriteLine($"        {Id(behind)} [shape=box, style=rounded, label={Quote($"VM {vnic.Name}\nguest stack")}];");
                    var transform = vnic.Transform == PacketTransform.ReverseBits ? "interface: reverse-bits" : "interface";
                    output.WriteLine($"        {Id(vnicId)} -> {Id(behind)} [label={Quote(transform)}];");
                }
                else
                {
                    output.WriteLine($"        {Id(behind)} [shape=component, label={Quote(StackLabel(vnic))}];");
                    output.WriteLine($"        {Id(vnicId)} -> {Id(behind)} [label={Quote(vnic.Mode == ProcessingMode.Polling ? "polling" : "interrupt")}];");
                }
            }
            output.WriteLine("    }");
        }
        output.WriteLine("}");
    }

    private static void WriteClient(TextWriter output, HostDefinition host, string nicId, string ringId, RingBinding ring, string indent)
    {
        if (ring.Vnic is { } vnic)
        {
            output.WriteLine($"{indent}{Id(ringId)} -> {Id(host.Name + "/vnic/" + vnic)};");
            return;
        }
        if (ring.SoftwareRing is not { } software) return;
        var softwareId = $"{nicId}/{software.Id}";
        output.WriteLine($"{indent}{Id(softwareId)} [shape=hexagon, label={Quote($"software ring {software.Id}\nsoftware classifier: {software.Classifier.Entries.Count} entries")}];");
        output.WriteLine($"{indent}{Id(ringId)} -> {Id(softwareId)};");
        foreach (var srr in software.Rings)
        {
            var srrId = $"{softwareId}/srr{srr.Index}";
            output.WriteLine($"{indent}{Id(srrId)} [shape=cds, label={Quote($"{software.Id}/srr{srr.Index}")}];");
            output.WriteLine($"{indent}{Id(softwareId)} -> {Id(srrId)};");
            WriteClient(output, host, nicId, srrId, srr, indent);
        }
    }

    private static string VnicLabel(VnicDefinition vnic)
    {
        var lines = new List<string> { $"VNIC {vnic.Name}" };
        lines.AddRange(vnic.Macs.Select(m => m.ToString()));
        lines.AddRange(vnic.Ips.Select(ip => ip.ToString()));
        if (vnic.Dhcp) lines.Add("ip dhcp");
        if (vnic.Vlan != 0) lines.Add("vlan " + vnic.Vlan.ToString(CultureInfo.InvariantCulture));
        if (vnic.Bandwidth is { } bandwidth) lines.Add("bandwidth " + bandwidth);
        if (vnic.OutboundBandwidth is { } outbound) lines.Add("outbound " + outbound);
        return string.Join("\n", lines);
    }

    private static string StackLabel(VnicDefinition vnic)
    {
        var protocols = vnic.Protocols == TransportProtocols.None ? "no transport" : vnic.Protocols.ToString().ToLowerInvariant().Replace(", ", " ");
        var policy = (vnic.Protocols & TransportProtocols.Tcp) != 0 ? "VSQs mutually exclusive" : "VSQs concurrent";
        var ports = vnic.Ports.Count == 0 ? "no ports" : "ports " + string.Join(" ", vnic.Ports);
        return $"{vnic.KindKeyword} {vnic.Name}\nVNS: {protocols}, {ports}\n{policy}";
    }

    private static string Fields(ClassifierFields fields)
    {
        var names = new List<string>();
        if ((fields & ClassifierFields.DestinationMac) != 0) names.Add("MAC");
        if ((fields & ClassifierFields.DestinationIp) != 0) names.Add("IP");
        if ((fields & ClassifierFields.Vlan) != 0) names.Add("VLAN");
        if ((fields & ClassifierFields.Port) != 0) names.Add("port");
        return string.Join(" + ", names);
    }

    private static string Id(string id) => Quote(id);

    private static string Quote(string text) => "\"" + text.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n") + "\"";
}
