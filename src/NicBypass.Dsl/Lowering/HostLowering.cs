using NicBypass.Dsl.Binding;
using NicBypass.Dsl.Hardware;
using NicBypass.Dsl.Model;
using NicBypass.Dsl.Planning;
using NicBypass.Dsl.Values;

namespace NicBypass.Dsl.Lowering;

/// <summary>
/// Checked host + placement → the steps that build it (<see cref="HostBuild"/>). The one place
/// that walks a plan for building: the only software-ring recursion, and the only mapping from
/// the language's vocabulary (enums, addresses, rates) to the runtime's. The interpreted host
/// executes the result; the source generator prints it. Pure and deterministic.
/// </summary>
public static class HostLowering
{
    // What each VNIC declares, as the runtime derives a classifier entry from its settings
    // (HostBuilder.ProgramAsDeclared: a VM has no ports; protocols only with ports), and the
    // field checks already lowered for entries that hold just that: a VNIC is programmed into up
    // to three classifiers, and a large host has thousands.
    private sealed class Declared
    {
        public Dictionary<string, Own> Vnics { get; } = new(StringComparer.Ordinal);

        public Dictionary<(string Vnic, int Vlan, ClassifierFields Fields), LookupCheck> Checks { get; } = new();

        // True when `entry` holds just what its VNIC declares (its addresses, ports, and their protocols).
        public bool Holds(ClassifierEntry entry, out Own own) =>
            Vnics.TryGetValue(entry.Vnic, out own!) && entry.Ips.Equals(own.Addresses) && entry.Ports.Equals(own.Ports)
            && (entry.Ports.Count == 0 || entry.Protocols == own.Protocols);
    }

    private sealed record Own(EquatableArray<IpAddress> Addresses, EquatableArray<string> Ips, EquatableArray<int> Ports, TransportProtocols Protocols, EquatableArray<string> ProtocolNames);

    public static HostBuild Lower(HostDefinition host, HostPlan plan)
    {
        var steps = new List<HostBuildStep>();
        var placement = new List<PlacementRow>();
        var nicMembers = host.Nics.ToDictionary(n => n.Name, n => Identifiers.ToPascalCase(n.Name), StringComparer.Ordinal);

        foreach (var nic in host.Nics)
        {
            steps.Add(new AddNicStep(nic.Name, nicMembers[nic.Name], nic.Model.Name, nic.Model.Driver, nic.RxRings, nic.TxRings,
                nic.RingSize, nic.Mtu, nic.Msi, nic.Speed.BitsPerSecond, nic.InterruptModerationMicroseconds));
        }

        foreach (var vnic in host.Vnics)
        {
            var build = Vnic(vnic);
            steps.Add(vnic.Kind == VnicKind.Vm
                ? new AddVirtualMachineStep(build, TransformName(vnic.Transform))
                : new AddNetworkStackStep(build, vnic.Kind == VnicKind.Container ? "Container" : "Service", ProtocolNames(vnic.Protocols),
                    vnic.Ports, vnic.Mode == ProcessingMode.Polling));
        }

        foreach (var flow in host.Flows)
        {
            steps.Add(new AddFlowStep(flow.Vnic, flow.Name, flow.Transport switch { TransportProtocols.Tcp => "Tcp", TransportProtocols.Udp => "Udp", _ => "None" },
                flow.LocalPort, flow.RemoteIp?.Address.ToString(), flow.RemoteIp?.PrefixLength ?? 0, flow.RemotePort, flow.Bandwidth?.BitsPerSecond,
                flow.Priority.ToString().ToLowerInvariant()) { Selector = flow.Selector });
        }

        var declared = new Declared();
        foreach (var vnic in host.Vnics)
        {
            // `ip dhcp`: the MAC alone (HostBuilder.ProgramAsDeclared does the same).
            var ports = vnic.Kind == VnicKind.Vm || vnic.Dhcp ? EquatableArray<int>.Empty : vnic.Ports;
            var protocols = ports.Count > 0 ? vnic.Protocols : TransportProtocols.None;
            var ips = vnic.Dhcp ? EquatableArray<IpAddress>.Empty : vnic.Ips.Select(p => p.Address).ToEquatableArray();
            declared.Vnics[vnic.Name] = new Own(ips, ips.Select(ip => ip.ToString()).ToEquatableArray(), ports, protocols, ProtocolNames(protocols));
        }

        foreach (var nic in plan.Nics)
        {
            var member = nicMembers[nic.Name];
            steps.Add(new CheckHardwareStep(nic.Name, nic.HardwareRings.Count, nic.TransmitRings, nic.HardwareClassifier.Entries.Count,
                FieldNames(nic.HardwareClassifier.Fields)));
            foreach (var ring in nic.HardwareRings)
            {
                if (ring.Vnic is { } vnic)
                {
                    steps.Add(new BindHardwareRingStep(nic.Name, ring.Index, vnic));
                    placement.Add(new PlacementRow(nic.Name, "hrr" + ring.Index, vnic));
                }
                else if (ring.SoftwareRing is { } software)
                {
                    LowerSoftwareRing(steps, placement, declared, nic.Name, member, parent: null, ring.Index, software);
                }
            }
            Program(steps, declared, nic.Name, member, softwareRing: null, nic.HardwareClassifier);
            if (nic.DefaultRing is { } defaultRing) steps.Add(new ClassifyInSoftwareStep(nic.Name, defaultRing));
        }

        foreach (var vnic in host.Vnics)
        {
            if (vnic.Kind != VnicKind.Vm && vnic.Mode == ProcessingMode.Polling) steps.Add(new PollStep(vnic.Name));
        }
        steps.Add(new StartStep());
        return new HostBuild(host.Name, Identifiers.ToPascalCase(host.Name), host.Cpus, steps.ToEquatableArray(), placement.ToEquatableArray());
    }

    // A software ring, its SRRs (nested software rings depth first), then its classifier.
    private static void LowerSoftwareRing(List<HostBuildStep> steps, List<PlacementRow> placement, Declared declared, string nic, string nicMember,
        string? parent, int ring, SoftwareRingPlan software)
    {
        steps.Add(new BindSoftwareRingStep(nic, parent, ring, software.Id, software.Rings.Count));
        foreach (var srr in software.Rings)
        {
            if (srr.Vnic is { } vnic)
            {
                steps.Add(new BindSoftwareReceiveRingStep(nic, software.Id, srr.Index, vnic));
                placement.Add(new PlacementRow(nic, software.Id + "/srr" + srr.Index, vnic));
            }
            else if (srr.SoftwareRing is { } nested)
            {
                LowerSoftwareRing(steps, placement, declared, nic, nicMember, software.Id, srr.Index, nested);
            }
        }
        Program(steps, declared, nic, nicMember, software.Id, software.Classifier);
    }

    // The planned entries, exactly, then the lookup specialised to them (rule i ↔ entry i).
    private static void Program(List<HostBuildStep> steps, Declared declared, string nic, string nicMember, string? softwareRing, ClassifierProgram program)
    {
        foreach (var entry in program.Entries)
        {
            var asDeclared = declared.Holds(entry, out var own);
            var ips = asDeclared ? own!.Ips : entry.Ips.Select(ip => ip.ToString()).ToEquatableArray();
            var protocols = asDeclared ? own!.ProtocolNames : entry.Ports.Count > 0 ? ProtocolNames(entry.Protocols) : EquatableArray<string>.Empty;
            steps.Add(new ProgramClassifierStep(nic, softwareRing, entry.Mac.Value, entry.Mac.ToString(), entry.Vlan,
                ips, entry.Ports, entry.Ring, entry.Vnic, protocols, asDeclared));
        }
        // With an underscore, which no member made from a name has (names are letters, digits and
        // '-'): a VNIC named "n0-hardware-classifier" is the property N0HardwareClassifier.
        var name = nicMember + "_" + (softwareRing is null ? "Hardware" : Identifiers.ToPascalCase(softwareRing)) + "Classifier";
        steps.Add(new LoadLookupStep(nic, softwareRing, name, program.Entries.Select(e => e.Mac.Value).ToEquatableArray(),
            program.Entries.Select(e => Check(declared, e, program.Fields)).ToEquatableArray()));
    }

    // An entry's field check; the same for every entry that holds just what its VNIC declares.
    private static LookupCheck Check(Declared declared, ClassifierEntry entry, ClassifierFields fields)
    {
        if (!declared.Holds(entry, out _)) return LookupCheck.For(entry, fields);
        var key = (entry.Vnic, entry.Vlan, fields);
        if (!declared.Checks.TryGetValue(key, out var check)) declared.Checks[key] = check = LookupCheck.For(entry, fields);
        return check;
    }

    private static VnicBuild Vnic(VnicDefinition vnic) => new(
        vnic.Name,
        Identifiers.ToPascalCase(vnic.Name),
        vnic.KindKeyword,
        vnic.Nic,
        vnic.Macs.Select(m => m.Value).ToEquatableArray(),
        vnic.Ips.Select(p => p.Address.ToString()).ToEquatableArray(),
        vnic.Vlan,
        vnic.Cpu,
        vnic.Bandwidth?.BitsPerSecond,
        vnic.OutboundBandwidth?.BitsPerSecond,
        vnic.CpuCount,
        vnic.Multicast.Select(g => g.ToString()).ToEquatableArray(),
        vnic.Ips.Select(p => p.PrefixLength).ToEquatableArray(),
        vnic.Gateways.Select(g => g.ToString()).ToEquatableArray(),
        vnic.Dhcp);

    // The language → runtime vocabulary. The runtime's enums have these members; a test parses
    // every name this can produce into them.
    private static string TransformName(PacketTransform transform) => transform switch
    {
        PacketTransform.ReverseBits => "ReverseBits",
        _ => "None",
    };

    private static EquatableArray<string> ProtocolNames(TransportProtocols protocols)
    {
        var names = new List<string>();
        if ((protocols & TransportProtocols.Tcp) != 0) names.Add("Tcp");
        if ((protocols & TransportProtocols.Udp) != 0) names.Add("Udp");
        return names.ToEquatableArray();
    }

    private static EquatableArray<string> FieldNames(ClassifierFields fields)
    {
        var names = new List<string>();
        if ((fields & ClassifierFields.DestinationMac) != 0) names.Add("DestinationMac");
        if ((fields & ClassifierFields.DestinationIp) != 0) names.Add("DestinationIp");
        if ((fields & ClassifierFields.Vlan) != 0) names.Add("Vlan");
        if ((fields & ClassifierFields.Port) != 0) names.Add("Port");
        return names.ToEquatableArray();
    }
}
