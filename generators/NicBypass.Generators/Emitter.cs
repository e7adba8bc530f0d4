using System.Globalization;
using System.Reflection;
using System.Text;
using NicBypass.Dsl.Binding;
using NicBypass.Dsl.Model;
using NicBypass.Dsl.Planning;
using NicBypass.Generators.Models;
using Scriban;

namespace NicBypass.Generators;

/// <summary>
/// Models → C#: computes what the host class says (members, construction statements, the
/// specialised classifier lookups) and renders it with the embedded Scriban template. The
/// construction goes through the same public runtime API as the interpreted host, in the same
/// order, so both behave identically. Pure and deterministic.
/// </summary>
internal static class Emitter
{
    private const string Runtime = "global::NicBypass.Runtime";
    // Measured (docs/benchmarks.md): past two MACs a baked table beats a chain of compares.
    private const int StraightLineLimit = 2;

    // Past this many members Roslyn's nullable analysis of the constructor bails out (CS8618 on
    // members that are assigned): seen at 4,096 VNICs, not at 1,024.
    private const int LargeHostMembers = 1024;
    private static readonly Template HostTemplate = LoadTemplate("Host.scriban");

    public static string Emit(HostEmitModel emit)
    {
        var host = emit.Host;
        var className = Identifiers.ToPascalCase(host.Name);
        var members = new List<object>();
        var constructor = new List<string>();
        var lookups = new List<object>();
        var placement = new List<object>();
        var vnicExpression = new Dictionary<string, string>(StringComparer.Ordinal);

        constructor.Add($"Host = new {Runtime}.Virtualization.NetworkHost({Literal(host.Name)}, {host.Cpus}, time);");
        foreach (var nic in host.Nics)
        {
            var name = Identifiers.ToPascalCase(nic.Name);
            members.Add(new { Type = $"{Runtime}.Virtualization.HostNic", Name = name, Summary = Xml($"NIC '{nic.Name}': {nic.Model.Name} (driver {nic.Model.Driver}), {nic.RxRings} receive and {nic.TxRings} transmit rings of {nic.RingSize}.") });
            constructor.Add($"{name} = Host.AddNic({Literal(nic.Name)}, {Runtime}.Devices.SimNicModels.Get({Literal(nic.Model.Name)}), new {Runtime}.Devices.SimNicSettings({nic.RxRings}, {nic.TxRings}, {nic.RingSize}, {nic.Mtu}, {nic.Msi}, {nic.Speed.BitsPerSecond}L));");
        }
        foreach (var vnic in host.Vnics)
        {
            var name = Identifiers.ToPascalCase(vnic.Name);
            var ips = vnic.Ips.Count == 0
                ? "global::System.Array.Empty<global::System.Net.IPAddress>()"
                : $"new global::System.Net.IPAddress[] {{ {string.Join(", ", vnic.Ips.Select(ip => $"global::System.Net.IPAddress.Parse({Literal(ip.Address.ToString())})"))} }}";
            var settings = $"new {Runtime}.Virtualization.VnicSettings({Literal(vnic.Name)}, {Literal(vnic.Nic)}, new ulong[] {{ {string.Join(", ", vnic.Macs.Select(m => Mac(m.Value)))} }}, {ips}, " +
                           $"{vnic.Vlan}, {Nullable(vnic.Cpu)}, {Nullable(vnic.Bandwidth?.BitsPerSecond)}, {Nullable(vnic.OutboundBandwidth?.BitsPerSecond)})";
            if (vnic.Kind == VnicKind.Vm)
            {
                members.Add(new { Type = $"{Runtime}.Virtualization.VirtualMachine", Name = name, Summary = Xml($"VM '{vnic.Name}' on NIC '{vnic.Nic}'.") });
                var transform = vnic.Transform == PacketTransform.ReverseBits ? "ReverseBits" : "None";
                constructor.Add($"{name} = Host.AddVirtualMachine({settings}, {Runtime}.Packets.PacketTransform.{transform});");
                vnicExpression[vnic.Name] = name + ".Vnic";
            }
            else
            {
                var role = vnic.Kind == VnicKind.Container ? "Container" : "Service";
                members.Add(new { Type = $"{Runtime}.Stacks.VirtualNetworkStack", Name = name, Summary = Xml($"{vnic.KindKeyword} '{vnic.Name}' on NIC '{vnic.Nic}': its virtual network stack (and, through it, its VNIC).") });
                var protocols = vnic.Protocols == TransportProtocols.None
                    ? $"{Runtime}.Stacks.StackProtocols.None"
                    : string.Join(" | ", new[] { (TransportProtocols.Tcp, "Tcp"), (TransportProtocols.Udp, "Udp") }.Where(p => (vnic.Protocols & p.Item1) != 0).Select(p => $"{Runtime}.Stacks.StackProtocols.{p.Item2}"));
                var ports = vnic.Ports.Count == 0 ? "global::System.Array.Empty<int>()" : $"new int[] {{ {string.Join(", ", vnic.Ports.Select(p => p.ToString(CultureInfo.InvariantCulture)))} }}";
                constructor.Add($"{name} = Host.AddNetworkStack({Runtime}.Virtualization.VnicRole.{role}, {settings}, new {Runtime}.Stacks.StackSettings(Protocols: {protocols}, Ports: {ports}));");
                vnicExpression[vnic.Name] = name + ".Vnic";
            }
        }

        foreach (var nic in emit.Plan.Nics)
        {
            var nicName = Identifiers.ToPascalCase(nic.Name);
            constructor.Add($"{nicName}.EnsureCanCarry({nic.HardwareRings.Count}, {nic.TransmitRings}, {nic.HardwareClassifier.Entries.Count}, {Fields(nic.HardwareClassifier.Fields)});");
            foreach (var ring in nic.HardwareRings)
            {
                if (ring.Vnic is { } vnic)
                {
                    constructor.Add($"{nicName}.BindHardwareRing({ring.Index}, {vnicExpression[vnic]});");
                    placement.Add(new { Nic = nic.Name, Ring = "hrr" + ring.Index, Vnic = vnic });
                }
                else if (ring.SoftwareRing is { } software)
                {
                    var local = Local(nicName, software.Id);
                    constructor.Add($"var {local} = {nicName}.BindSoftwareRing({ring.Index}, {Literal(software.Id)}, {software.Rings.Count});");
                    EmitSoftwareRing(constructor, placement, lookups, vnicExpression, nic.Name, nicName, local, software);
                }
            }
            foreach (var entry in nic.HardwareClassifier.Entries)
            {
                constructor.Add($"{nicName}.Program({Mac(entry.Mac.Value)}, {entry.Vlan}, {entry.Ring}, {vnicExpression[entry.Vnic]}); // {entry.Mac} → hrr{entry.Ring}");
            }
            var lookupName = nicName + "HardwareClassifier";
            constructor.Add($"{nicName}.Info.Classifier.Program.LoadLookup(new {lookupName}());");
            lookups.Add(Lookup(lookupName, $"NIC '{nic.Name}' hardware classifier: destination MAC → rule.", nic.HardwareClassifier));
        }
        foreach (var vnic in host.Vnics.Where(v => v.Kind != VnicKind.Vm && v.Mode == ProcessingMode.Polling))
        {
            constructor.Add($"Host.Poll({vnicExpression[vnic.Name]});");
        }
        constructor.Add("Host.Start();");

        var summary = $"{Count(host.Nics.Count, "NIC")}, {Count(host.Vnics.Count, "VNIC")}, {host.Cpus} processors";
        var model = new
        {
            emit.SourcePath,
            HostName = host.Name,
            emit.Namespace,
            ClassName = className,
            Summary = Xml(summary),
            Members = members,
            LargeHost = members.Count > LargeHostMembers,
            Constructor = constructor,
            Lookups = lookups,
            Placement = placement,
        };
        // No loop or string limits: a host may have thousands of VNICs and classifier rules.
        var context = new TemplateContext { LoopLimit = 0, LimitToString = 0, MemberRenamer = member => member.Name };
        var globals = new Scriban.Runtime.ScriptObject();
        Scriban.Runtime.ScriptObjectExtensions.Import(globals, model, null, member => member.Name);
        context.PushGlobal(globals);
        return HostTemplate.Render(context).Replace("\r\n", "\n");
    }

    private static void EmitSoftwareRing(List<string> constructor, List<object> placement, List<object> lookups, Dictionary<string, string> vnicExpression,
        string nic, string nicName, string local, SoftwareRingPlan software)
    {
        foreach (var ring in software.Rings)
        {
            if (ring.Vnic is { } vnic)
            {
                constructor.Add($"{local}.BindRing({ring.Index}, {vnicExpression[vnic]});");
                placement.Add(new { Nic = nic, Ring = software.Id + "/srr" + ring.Index, Vnic = vnic });
            }
            else if (ring.SoftwareRing is { } nested)
            {
                var nestedLocal = Local(nicName, nested.Id);
                constructor.Add($"var {nestedLocal} = {local}.BindSoftwareRing({ring.Index}, {Literal(nested.Id)}, {nested.Rings.Count});");
                EmitSoftwareRing(constructor, placement, lookups, vnicExpression, nic, nicName, nestedLocal, nested);
            }
        }
        foreach (var entry in software.Classifier.Entries)
        {
            constructor.Add($"{local}.Program({Mac(entry.Mac.Value)}, {entry.Vlan}, {entry.Ring}, {vnicExpression[entry.Vnic]}); // {entry.Mac} → {software.Id}/srr{entry.Ring}");
        }
        var lookupName = char.ToUpperInvariant(local[0]) + local.Substring(1) + "Classifier";
        constructor.Add($"{local}.Classifier.LoadLookup(new {lookupName}());");
        lookups.Add(Lookup(lookupName, $"NIC '{nic}' software ring {software.Id} classifier: destination MAC → rule.", software.Classifier));
    }

    // The specialised lookup: rule i of the program is returned for its MAC.
    private static object Lookup(string name, string summary, ClassifierProgram program)
    {
        var macs = program.Entries.Select(e => e.Mac.Value).ToArray();
        if (macs.Length <= StraightLineLimit)
        {
            return new
            {
                Name = name, Summary = Xml(summary), Hashed = false,
                Entries = macs.Select((m, i) => new { Mac = Mac(m), Index = i }).ToList(),
                Multiplier = "", Probes = 0, Count = macs.Length, Size = 0, Shift = 0, Mask = 0,
                KeyLines = new List<string>(), ValueLines = new List<string>(),
            };
        }
        var table = BakedMacTable.Build(macs);
        return new
        {
            Name = name, Summary = Xml(summary), Hashed = true,
            Entries = new List<object>(),
            Multiplier = Hex(table.Multiplier), table.Probes, Count = macs.Length, Size = table.Keys.Length, table.Shift, Mask = table.Keys.Length - 1,
            KeyLines = Chunk(table.Keys.Select(k => k == 0 ? "0UL" : Hex(k)), 4),
            ValueLines = Chunk(table.Values.Select(v => v.ToString(CultureInfo.InvariantCulture)), 16),
        };
    }

    private static List<string> Chunk(IEnumerable<string> items, int perLine)
    {
        var lines = new List<string>();
        var line = new List<string>();
        foreach (var item in items)
        {
            line.Add(item);
            if (line.Count == perLine)
            {
                lines.Add(string.Join(", ", line) + ",");
                line.Clear();
            }
        }
        if (line.Count > 0) lines.Add(string.Join(", ", line) + ",");
        return lines;
    }

    private static string Local(string nicName, string softwareRingId) =>
        char.ToLowerInvariant(nicName[0]) + nicName.Substring(1) + Identifiers.ToPascalCase(softwareRingId);

    private static string Count(int n, string noun) => n == 1 ? $"1 {noun}" : $"{n} {noun}s";

    // A MAC as a 12-digit constant, so it reads like the address it is.
    private static string Mac(ulong value) => "0x" + value.ToString("X12", CultureInfo.InvariantCulture) + "UL";

    private static string Fields(Dsl.Hardware.ClassifierFields fields)
    {
        var names = Enum.GetValues(typeof(Dsl.Hardware.ClassifierFields)).Cast<Dsl.Hardware.ClassifierFields>()
            .Where(f => f != 0 && (fields & f) == f)
            .Select(f => $"{Runtime}.Classification.ClassifierMatch.{f}");
        var list = string.Join(" | ", names);
        return list.Length == 0 ? $"{Runtime}.Classification.ClassifierMatch.None" : list;
    }

    private static string Hex(ulong value) => "0x" + value.ToString("X", CultureInfo.InvariantCulture) + "UL";

    private static string Nullable(int? value) => value is { } v ? v.ToString(CultureInfo.InvariantCulture) : "null";

    private static string Nullable(ulong? value) => value is { } v ? v.ToString(CultureInfo.InvariantCulture) + "L" : "null";

    private static string Literal(string text)
    {
        var builder = new StringBuilder("\"");
        foreach (var c in text)
        {
            if (c is '"' or '\\') builder.Append('\\');
            builder.Append(c);
        }
        return builder.Append('"').ToString();
    }

    private static string Xml(string text) => text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");

    private static Template LoadTemplate(string name)
    {
        using var stream = typeof(Emitter).GetTypeInfo().Assembly.GetManifestResourceStream(name)
                           ?? throw new InvalidOperationException($"template {name} is not embedded");
        using var reader = new StreamReader(stream);
        var template = Template.Parse(reader.ReadToEnd(), name);
        if (template.HasErrors) throw new InvalidOperationException($"template {name}: {string.Join("; ", template.Messages)}");
        return template;
    }
}
