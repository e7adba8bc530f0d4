using System.Globalization;
using System.Reflection;
using System.Text;
using NicBypass.Dsl.Lowering;
using NicBypass.Generators.Models;
using Scriban;

namespace NicBypass.Generators;

/// <summary>
/// Models → C#. The host's build steps (<see cref="HostLowering"/>, the same steps the
/// interpreted host executes) are printed one statement each, calling the runtime's
/// <c>HostBuilder</c> method for that step with the step's arguments passed by name; the
/// classifier lookups are baked from the MACs each <see cref="LoadLookupStep"/> names. Only
/// formatting happens here: every decision was made by the planner and the lowering. Rendered
/// with the embedded Scriban template, through typed models, in the invariant culture. Pure and
/// deterministic.
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
    private static readonly string Version = typeof(Emitter).GetTypeInfo().Assembly.GetName().Version?.ToString() ?? "0.0.0.0";

    public static string Emit(HostEmitModel emit)
    {
        var build = emit.Build;
        var model = new HostTemplateModel
        {
            SourcePath = emit.SourcePath,
            HostName = build.Name,
            Namespace = emit.Namespace,
            ClassName = build.ClassName,
            Cpus = build.Cpus,
            GeneratorVersion = Version,
        };
        var nics = build.StepsOf<AddNicStep>().ToList();
        var vnics = build.Steps.Count(s => s is AddVirtualMachineStep or AddNetworkStackStep);
        model.Summary = Xml($"{Count(nics.Count, "NIC")}, {Count(vnics, "VNIC")}, {build.Cpus} processors");
        foreach (var row in build.Placement)
        {
            model.Placement.Add(new PlacementTemplateModel { Nic = Literal(row.Nic), Ring = Literal(row.Ring), Vnic = Literal(row.Vnic) });
        }
        foreach (var step in build.Steps)
        {
            switch (step)
            {
                case AddNicStep nic:
                    model.Members.Add(new MemberTemplateModel { Type = $"{Runtime}.Virtualization.HostNic", Name = nic.Member, Summary = Xml(nic.Describe() + ".") });
                    break;
                case AddVirtualMachineStep vm:
                    model.Members.Add(new MemberTemplateModel { Type = $"{Runtime}.Virtualization.VirtualMachine", Name = vm.Vnic.Member, Summary = Xml($"VM '{vm.Vnic.Name}' on NIC '{vm.Vnic.Nic}'.") });
                    break;
                case AddNetworkStackStep stack:
                    model.Members.Add(new MemberTemplateModel
                    {
                        Type = $"{Runtime}.Virtualization.VirtualNetworkStack", Name = stack.Vnic.Member,
                        Summary = Xml($"{stack.Vnic.Kind} '{stack.Vnic.Name}' on NIC '{stack.Vnic.Nic}': its virtual network stack (and, through it, its VNIC)."),
                    });
                    break;
                case LoadLookupStep lookup:
                    model.Lookups.Add(Lookup(lookup));
                    break;
            }
        }
        model.LargeHost = model.Members.Count > LargeHostMembers;
        // The constructor body is most of a large host's text (2.5 MB at 1,000 VNICs): it is
        // written once, straight into the output, where the template leaves its place.
        model.ConstructorBody = BodyMarker;

        // No loop or string limits: a host may have thousands of VNICs and classifier rules.
        var context = new TemplateContext { LoopLimit = 0, LimitToString = 0, MemberRenamer = member => member.Name };
        var globals = new Scriban.Runtime.ScriptObject();
        Scriban.Runtime.ScriptObjectExtensions.Import(globals, model, null, member => member.Name);
        context.PushGlobal(globals);
        var rendered = HostTemplate.Render(context).Replace("\r\n", "\n");
        var at = rendered.IndexOf(BodyMarker, StringComparison.Ordinal);
        var output = new StringBuilder(rendered.Length + build.Steps.Count * 280);
        output.Append(rendered, 0, at);
        foreach (var step in build.Steps) Statement(output, step);
        if (output.Length > at && output[output.Length - 1] == '\n') output.Length--;
        output.Append(rendered, at + BodyMarker.Length, rendered.Length - at - BodyMarker.Length);
        return output.ToString();
    }

    private const string BodyMarker = "/*NicBypass: constructor body*/";

    // A statement of the constructor body, twelve spaces in.
    private static void Line(StringBuilder body, string text) => body.Append(' ', 12).Append(text).Append('\n');

    // A multi-line statement's description, after a blank line, on a line of its own.
    private static void Comment(StringBuilder body, HostBuildStep step) => body.Append('\n').Append(' ', 12).Append("// ").Append(step.Describe()).Append('\n');

    // One build step → one statement calling the HostBuilder method of the same name. Multi-line
    // statements get their description on a line of its own; one-line statements (most of a
    // large host) at the end of the line.
    private static void Statement(StringBuilder lines, HostBuildStep step)
    {
        switch (step)
        {
            case AddNicStep nic:
                Comment(lines, step);
                Line(lines, $"{nic.Member} = build.AddNic({Literal(nic.Nic)}, {Literal(nic.Model)}, new {Runtime}.Devices.SimNicSettings(");
                Line(lines, $"    RxRings: {Number(nic.RxRings)}, TxRings: {Number(nic.TxRings)}, RingSize: {Number(nic.RingSize)}, Mtu: {Number(nic.Mtu)}, MsiVectors: {Number(nic.Msi)}, LinkSpeedBitsPerSecond: {Number(nic.Speed)}L" +
                    (nic.InterruptModerationMicroseconds > 0 ? $", InterruptModerationMicroseconds: {Number(nic.InterruptModerationMicroseconds)}));"
                     : nic.InterruptModerationMicroseconds < 0 ? $", InterruptModerationMicroseconds: {Runtime}.Devices.SimNicSettings.AdaptiveModeration));" : "));"));
                break;
            case AddVirtualMachineStep vm:
                Comment(lines, step);
                Line(lines, $"{vm.Vnic.Member} = build.AddVirtualMachine(");
                AddSettings(lines, vm.Vnic, ",");
                Line(lines, $"    {Runtime}.Packets.PacketTransform.{vm.Transform});");
                break;
            case AddNetworkStackStep stack:
                Comment(lines, step);
                var protocols = stack.Protocols.Count == 0
                    ? $"{Runtime}.Stacks.StackProtocols.None"
                    : string.Join(" | ", stack.Protocols.Select(p => $"{Runtime}.Stacks.StackProtocols.{p}"));
                var ports = stack.Ports.Count == 0 ? "global::System.Array.Empty<int>()" : $"new int[] {{ {string.Join(", ", stack.Ports.Select(Number))} }}";
                Line(lines, $"{stack.Vnic.Member} = build.AddNetworkStack(");
                Line(lines, $"    {Runtime}.Virtualization.VnicRole.{stack.Role},");
                AddSettings(lines, stack.Vnic, ",");
                Line(lines, $"    new {Runtime}.Stacks.StackSettings(Protocols: {protocols}, Ports: {ports}));");
                break;
            case CheckHardwareStep check:
                Comment(lines, step);
                var fields = check.Fields.Count == 0
                    ? $"{Runtime}.Classification.ClassifierMatch.None"
                    : string.Join(" | ", check.Fields.Select(f => $"{Runtime}.Classification.ClassifierMatch.{f}"));
                Line(lines, $"build.CheckHardware({Literal(check.Nic)}, receiveRings: {Number(check.ReceiveRings)}, transmitRings: {Number(check.TransmitRings)}, classifierEntries: {Number(check.ClassifierEntries)},");
                Line(lines, $"    fields: {fields});");
                break;
            case BindHardwareRingStep bind:
                Line(lines, $"build.BindHardwareRing({Literal(bind.Nic)}, ring: {Number(bind.Ring)}, vnic: {Literal(bind.Vnic)}); // {bind.Describe()}");
                break;
            case BindSoftwareRingStep bind:
                Comment(lines, step);
                Line(lines, $"build.BindSoftwareRing({Literal(bind.Nic)}, parent: {Optional(bind.Parent)}, ring: {Number(bind.Ring)}, id: {Literal(bind.Id)}, rings: {Number(bind.Rings)});");
                break;
            case BindSoftwareReceiveRingStep bind:
                Line(lines, $"build.BindSoftwareReceiveRing({Literal(bind.Nic)}, softwareRing: {Literal(bind.SoftwareRing)}, ring: {Number(bind.Ring)}, vnic: {Literal(bind.Vnic)}); // {bind.Describe()}");
                break;
            case ProgramClassifierStep program:
                var ips = program.Ips.Count == 0 ? "null" : Addresses(program.Ips);
                var programPorts = program.Ports.Count == 0 ? "null" : $"new int[] {{ {string.Join(", ", program.Ports.Select(Number))} }}";
                var programProtocols = program.Protocols.Count == 0 ? "" : ", protocols: " + string.Join(" | ", program.Protocols.Select(p => $"{Runtime}.Stacks.StackProtocols.{p}"));
                Line(lines, $"build.Program({Literal(program.Nic)}, softwareRing: {Optional(program.SoftwareRing)}, mac: {Mac(program.Mac)}, vlan: {Number(program.Vlan)}, ring: {Number(program.Ring)}, " +
                          $"vnic: {Literal(program.Vnic)}, ips: {ips}, ports: {programPorts}{programProtocols}); // {program.Describe()}");
                break;
            case AddFlowStep flow:
                Line(lines, $"build.AddFlow({Literal(flow.Vnic)}, new {Runtime}.Classification.FlowSettings({Literal(flow.Name)}, {Runtime}.Stacks.StackProtocols.{flow.Transport}, " +
                            $"LocalPort: {Optional(flow.LocalPort)}, RemoteIp: {(flow.RemoteIp is { } remote ? $"build.Addresses({Literal(remote)})[0]" : "null")}, RemotePrefixLength: {Number(flow.RemotePrefixLength)}, " +
                            $"RemotePort: {Optional(flow.RemotePort)}, Bandwidth: {(flow.Bandwidth is { } b ? Number(b) + "L" : "null")}, Priority: {Literal(flow.Priority)})); // {flow.Describe()}");
                break;
            case ClassifyInSoftwareStep fallback:
                Line(lines, $"build.ClassifyInSoftware({Literal(fallback.Nic)}, ring: {Number(fallback.Ring)}); // {fallback.Describe()}");
                break;
            case LoadLookupStep lookup:
                Comment(lines, step);
                Line(lines, $"build.LoadLookup({Literal(lookup.Nic)}, softwareRing: {Optional(lookup.SoftwareRing)}, new {lookup.Name}());");
                break;
            case PollStep poll:
                Line(lines, $"build.Poll({Literal(poll.Vnic)}); // {poll.Describe()}");
                break;
            case StartStep:
                Comment(lines, step);
                Line(lines, "build.Start();");
                break;
            default:
                throw new InvalidOperationException($"the emitter does not know the build step {step.GetType().Name}");
        }
    }

    private static void AddSettings(StringBuilder lines, VnicBuild vnic, string end)
    {
        Line(lines, $"    new {Runtime}.Virtualization.VnicSettings(Name: {Literal(vnic.Name)}, Nic: {Literal(vnic.Nic)}, Vlan: {Number(vnic.Vlan)}, Cpu: {Optional(vnic.Cpu)},");
        Line(lines, $"        Macs: new ulong[] {{ {string.Join(", ", vnic.Macs.Select(Mac))} }}, Ips: {(vnic.Ips.Count == 0 ? "null" : Addresses(vnic.Ips))},");
        Line(lines, $"        Bandwidth: {Optional(vnic.Bandwidth)}, OutboundBandwidth: {Optional(vnic.OutboundBandwidth)}{(vnic.Cpus > 1 ? $", Cpus: {Number(vnic.Cpus)}" : "")}" +
                    $"{(vnic.Multicast.Count > 0 ? ", Multicast: " + Addresses(vnic.Multicast) : "")}" +
                    $"{(vnic.HasSubnets ? $", PrefixLengths: new[] {{ {string.Join(", ", vnic.PrefixLengths.Select(Number))} }}" : "")}" +
                    $"{(vnic.Gateways.Count > 0 ? ", Gateways: " + Addresses(vnic.Gateways) : "")}){end}");
    }

    private static string Addresses(IEnumerable<string> ips) =>
        $"build.Addresses({string.Join(", ", ips.Select(Literal))})";

    // The specialised lookup: rule i of the classifier is returned for MAC i.
    private static LookupTemplateModel Lookup(LoadLookupStep step)
    {
        var summary = step.SoftwareRing is null
            ? $"NIC '{step.Nic}' hardware classifier: destination MAC → rule, then the rule's field checks."
            : $"NIC '{step.Nic}' software ring {step.SoftwareRing} classifier: destination MAC → rule, then the rule's field checks.";
        var lookup = new LookupTemplateModel { Name = step.Name, Summary = Xml(summary), Count = step.Macs.Count };
        lookup.Checked = step.Checks.Any(c => !c.IsEmpty);
        if (lookup.Checked)
        {
            for (var i = 0; i < step.Checks.Count; i++) lookup.CheckLines.Add(Check(step.Checks[i], FormatMac(step.Macs[i])));
        }
        if (step.Macs.Count <= StraightLineLimit)
        {
            for (var i = 0; i < step.Macs.Count; i++) lookup.Entries.Add(new LookupEntryTemplateModel { Mac = Mac(step.Macs[i]), Index = i });
            return lookup;
        }
        var table = BakedMacTable.Build(step.Macs);
        lookup.Hashed = true;
        lookup.Multiplier = Hex(table.Multiplier);
        lookup.Probes = table.Probes;
        lookup.Size = table.Keys.Length;
        lookup.Shift = table.Shift;
        lookup.Mask = table.Keys.Length - 1;
        lookup.KeyLines.AddRange(Chunk(table.Keys.Select(k => k == 0 ? "0UL" : Hex(k)), 4));
        lookup.ValueLines.AddRange(Chunk(table.Values.Select(v => v.ToString(CultureInfo.InvariantCulture)), 16));
        return lookup;
    }

    // new(options, vlan, ipv4, portLanes), // 02:00:00:00:00:01: vlan 10, 10.0.0.1, ports 80 443
    private static string Check(LookupCheck check, string mac)
    {
        // The option names are constants of the generated class (Vlan, Ipv4, Ports, Tcp, Udp, Overflow).
        var options = check.IsEmpty ? "None" : string.Join(" | ", check.Options);
        var ipv4 = check.Ipv4 == 0 ? "0" : "0x" + check.Ipv4.ToString("X8", CultureInfo.InvariantCulture);
        var lanes = check.PortLanes == 0 ? "0" : "0x" + check.PortLanes.ToString("X16", CultureInfo.InvariantCulture);
        return $"new({options}, {Number(check.Vlan)}, {ipv4}, {lanes}), // {mac}{(check.Summary.Length > 0 ? ": " + check.Summary : "")}";
    }

    private static string FormatMac(ulong value) =>
        string.Join(":", Enumerable.Range(0, 6).Select(i => ((value >> (8 * (5 - i))) & 0xFF).ToString("x2", CultureInfo.InvariantCulture)));

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

    private static string Count(int n, string noun) => n == 1 ? $"1 {noun}" : $"{n} {noun}s";

    // A MAC as a 12-digit constant, so it reads like the address it is.
    private static string Mac(ulong value) => "0x" + value.ToString("X12", CultureInfo.InvariantCulture) + "UL";

    private static string Hex(ulong value) => "0x" + value.ToString("X", CultureInfo.InvariantCulture) + "UL";

    // Digit separators past four digits: 10_000_000_000, 1500.
    private static string Number(long value)
    {
        var text = value.ToString(CultureInfo.InvariantCulture);
        if (Math.Abs(value) < 10_000) return text;
        var builder = new StringBuilder();
        var digits = value < 0 ? text.Substring(1) : text;
        for (var i = 0; i < digits.Length; i++)
        {
            if (i > 0 && (digits.Length - i) % 3 == 0) builder.Append('_');
            builder.Append(digits[i]);
        }
        return (value < 0 ? "-" : "") + builder;
    }

    private static string Number(ulong value) => Number((long)value);

    private static string Number(int value) => Number((long)value);

    private static string Optional(int? value) => value is { } v ? Number(v) : "null";

    private static string Optional(ulong? value) => value is { } v ? Number(v) + "L" : "null";

    private static string Optional(string? value) => value is null ? "null" : Literal(value);

    private static string Literal(string text)
    {
        if (text.IndexOf('"') < 0 && text.IndexOf('\\') < 0) return "\"" + text + "\"";
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
