using System.Globalization;
using System.Reflection;
using System.Text;
using NicBypass.Dsl.Lowering;
using Microsoft.CodeAnalysis.Text;
using NicBypass.Generators.Models;
using Scriban;

namespace NicBypass.Generators;

/// <summary>
/// Models → C#. The host's build steps (<see cref="HostLowering"/>, the same steps the
/// interpreted host executes) are printed one statement each, calling the runtime's
/// <c>HostBuilder</c> method for that step with the step's arguments passed by name; the
/// classifier lookups are baked from the MACs each <see cref="LoadLookupStep"/> names. Only
/// formatting happens here: every decision was made by the planner and the lowering. The
/// embedded Scriban template lays out the file through typed models; the parts that grow with
/// the host (placement rows, members, constructor statements, baked tables) are written straight
/// into the output where the template leaves a marker for them, in the invariant culture. Pure
/// and deterministic.
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

    /// <summary>The host's C# source.</summary>
    public static string Emit(HostEmitModel emit)
    {
        using var source = EmitTo(emit);
        return source.ToString();
    }

    /// <summary>
    /// The host's C# source as a <see cref="SourceText"/> read straight out of the builder: at
    /// 1,000 VNICs the source is 2 MB, and one string of it lands on the large object heap and
    /// costs the build a full garbage collection (Roslyn keeps large texts in chunks).
    /// </summary>
    public static SourceText EmitText(HostEmitModel emit)
    {
        using var source = EmitTo(emit);
        return source.ToSourceText(Encoding.UTF8);
    }

    private static SourceBuilder EmitTo(HostEmitModel emit)
    {
        var build = emit.Build;
        var blocks = new List<Action<SourceBuilder>>();
        var model = new HostTemplateModel
        {
            SourcePath = emit.SourcePath,
            HostName = build.Name,
            Namespace = emit.Namespace,
            ClassName = build.ClassName,
            Cpus = build.Cpus,
            GeneratorVersion = Version,
        };
        int nics = 0, vnics = 0;
        foreach (var step in build.Steps)
        {
            switch (step)
            {
                case AddNicStep:
                    nics++;
                    break;
                case AddVirtualMachineStep or AddNetworkStackStep:
                    vnics++;
                    break;
                case LoadLookupStep lookup:
                    model.Lookups.Add(Lookup(lookup, blocks));
                    break;
            }
        }
        model.Summary = Xml($"{Count(nics, "NIC")}, {Count(vnics, "VNIC")}, {build.Cpus} processors");
        model.LargeHost = nics + vnics > LargeHostMembers;
        model.PlacementRows = Block(blocks, output => Placement(output, build.Placement));
        model.MemberDeclarations = Block(blocks, output => Members(output, build.Steps));
        model.ConstructorBody = Block(blocks, output =>
        {
            foreach (var step in build.Steps) Statement(output, step);
        });

        // No loop or string limits: a host may have thousands of VNICs and classifier rules.
        // The template calls no built-in functions: an empty set spares building Scriban's (a tenth of emitting, measured).
        var context = new TemplateContext(new Scriban.Runtime.ScriptObject()) { LoopLimit = 0, LimitToString = 0, MemberRenamer = member => member.Name };
        var globals = new Scriban.Runtime.ScriptObject();
        Scriban.Runtime.ScriptObjectExtensions.Import(globals, model, null, member => member.Name);
        context.PushGlobal(globals);
        var rendered = HostTemplate.Render(context).Replace("\r\n", "\n");
        // About 2,200 characters per VNIC at 1,000 VNICs: one buffer, rarely grown.
        return Splice(rendered, blocks, rendered.Length + build.Steps.Count * 512);
    }

    // Block i's marker, alone on its line in the template.
    private const string MarkerStart = "/*NicBypass:block ";
    private const string MarkerEnd = "*/";

    private static string Block(List<Action<SourceBuilder>> blocks, Action<SourceBuilder> write)
    {
        blocks.Add(write);
        return MarkerStart + (blocks.Count - 1).ToString(CultureInfo.InvariantCulture) + MarkerEnd;
    }

    // The rendered template with each marker's line replaced by the lines its block writes (each
    // ending in a newline; none at all for an empty block). The output is built once, in the
    // pooled buffer sized for it (a builder's chunks would be copied by every collection they survive).
    private static SourceBuilder Splice(string rendered, List<Action<SourceBuilder>> blocks, int estimate)
    {
        var output = new SourceBuilder(estimate);
        var from = 0;
        while (true)
        {
            var at = rendered.IndexOf(MarkerStart, from, StringComparison.Ordinal);
            if (at < 0) break;
            var digits = at + MarkerStart.Length;
            var end = rendered.IndexOf(MarkerEnd, digits, StringComparison.Ordinal);
            var index = int.Parse(rendered.Substring(digits, end - digits), NumberStyles.None, CultureInfo.InvariantCulture);
            output.Append(rendered, from, at - from);
            blocks[index](output);
            from = end + MarkerEnd.Length;
            if (from < rendered.Length && rendered[from] == '\n') from++;
        }
        output.Append(rendered, from, rendered.Length - from);
        return output;
    }

    // ("nic", "ring", "vnic"), per placement row.
    private static void Placement(SourceBuilder output, IEnumerable<PlacementRow> rows)
    {
        foreach (var row in rows)
        {
            output.Append(' ', 12).Append('(');
            Literal(output, row.Nic).Append(", ");
            Literal(output, row.Ring).Append(", ");
            Literal(output, row.Vnic).Append("),\n");
        }
    }

    // A typed property per NIC, VM, container and service, each after a blank line with its summary.
    private static void Members(SourceBuilder output, IEnumerable<HostBuildStep> steps)
    {
        foreach (var step in steps)
        {
            switch (step)
            {
                case AddNicStep nic:
                    Member(output, nic.Describe() + ".", "Virtualization.HostNic", nic.Member);
                    break;
                case AddVirtualMachineStep vm:
                    Member(output, $"VM '{vm.Vnic.Name}' on NIC '{vm.Vnic.Nic}'.", "Virtualization.VirtualMachine", vm.Vnic.Member);
                    break;
                case AddNetworkStackStep stack:
                    Member(output, $"{stack.Vnic.Kind} '{stack.Vnic.Name}' on NIC '{stack.Vnic.Nic}': its virtual network stack (and, through it, its VNIC).",
                        "Virtualization.VirtualNetworkStack", stack.Vnic.Member);
                    break;
            }
        }
    }

    private static void Member(SourceBuilder output, string summary, string type, string name)
    {
        output.Append('\n').Append(' ', 8).Append("/// <summary>").Append(Xml(summary)).Append("</summary>\n");
        output.Append(' ', 8).Append("public ").Append(Runtime).Append('.').Append(type).Append(' ').Append(name).Append(" { get; }\n");
    }

    // A statement of the constructor body, twelve spaces in: the start of its line.
    private static SourceBuilder Indent(SourceBuilder body) => body.Append(' ', 12);

    // A multi-line statement's description, after a blank line, on a line of its own.
    private static void Comment(SourceBuilder body, HostBuildStep step) => body.Append('\n').Append(' ', 12).Append("// ").Append(step.Describe()).Append('\n');

    // A one-line statement's end: its description as a trailing comment.
    private static void EndLine(SourceBuilder body, HostBuildStep step) => body.Append("); // ").Append(step.Describe()).Append('\n');

    // One build step → one statement calling the HostBuilder method of the same name. Multi-line
    // statements get their description on a line of its own; one-line statements (most of a
    // large host) at the end of the line. Written piece by piece: at 1,000 VNICs these are most
    // of the output.
    private static void Statement(SourceBuilder body, HostBuildStep step)
    {
        switch (step)
        {
            case AddNicStep nic:
                Comment(body, step);
                Indent(body).Append(nic.Member).Append(" = build.AddNic(");
                Literal(body, nic.Nic).Append(", ");
                Literal(body, nic.Model).Append(", new ").Append(Runtime).Append(".Devices.SimNicSettings(\n");
                Indent(body).Append("    RxRings: ").Num(nic.RxRings).Append(", TxRings: ").Num(nic.TxRings).Append(", RingSize: ").Num(nic.RingSize)
                    .Append(", Mtu: ").Num(nic.Mtu).Append(", MsiVectors: ").Num(nic.Msi).Append(", LinkSpeedBitsPerSecond: ").Num(nic.Speed).Append('L');
                if (nic.InterruptModerationMicroseconds > 0) body.Append(", InterruptModerationMicroseconds: ").Num(nic.InterruptModerationMicroseconds);
                else if (nic.InterruptModerationMicroseconds < 0) body.Append(", InterruptModerationMicroseconds: ").Append(Runtime).Append(".Devices.SimNicSettings.AdaptiveModeration");
                body.Append("));\n");
                break;
            case AddVirtualMachineStep vm:
                Comment(body, step);
                Indent(body).Append(vm.Vnic.Member).Append(" = build.AddVirtualMachine(\n");
                AddSettings(body, vm.Vnic);
                Indent(body).Append("    ").Append(Runtime).Append(".Packets.PacketTransform.").Append(vm.Transform).Append(");\n");
                break;
            case AddNetworkStackStep stack:
                Comment(body, step);
                Indent(body).Append(stack.Vnic.Member).Append(" = build.AddNetworkStack(\n");
                Indent(body).Append("    ").Append(Runtime).Append(".Virtualization.VnicRole.").Append(stack.Role).Append(",\n");
                AddSettings(body, stack.Vnic);
                Indent(body).Append("    new ").Append(Runtime).Append(".Stacks.StackSettings(Protocols: ");
                Flags(body, stack.Protocols, ".Stacks.StackProtocols.", "None").Append(", Ports: ");
                if (stack.Ports.Count == 0) body.Append("global::System.Array.Empty<int>()");
                else Numbers(body.Append("new int[] { "), stack.Ports).Append(" }");
                body.Append("));\n");
                break;
            case CheckHardwareStep check:
                Comment(body, step);
                Indent(body).Append("build.CheckHardware(");
                Literal(body, check.Nic).Append(", receiveRings: ").Num(check.ReceiveRings).Append(", transmitRings: ").Num(check.TransmitRings)
                    .Append(", classifierEntries: ").Num(check.ClassifierEntries).Append(",\n");
                Flags(Indent(body).Append("    fields: "), check.Fields, ".Classification.ClassifierMatch.", "None").Append(");\n");
                break;
            case BindHardwareRingStep bind:
                Literal(Indent(body).Append("build.BindHardwareRing("), bind.Nic).Append(", ring: ").Num(bind.Ring).Append(", vnic: ");
                EndLine(Literal(body, bind.Vnic), step);
                break;
            case BindSoftwareRingStep bind:
                Comment(body, step);
                Literal(Indent(body).Append("build.BindSoftwareRing("), bind.Nic).Append(", parent: ");
                Optional(body, bind.Parent).Append(", ring: ").Num(bind.Ring).Append(", id: ");
                Literal(body, bind.Id).Append(", rings: ").Num(bind.Rings).Append(");\n");
                break;
            case BindSoftwareReceiveRingStep bind:
                Literal(Indent(body).Append("build.BindSoftwareReceiveRing("), bind.Nic).Append(", softwareRing: ");
                Literal(body, bind.SoftwareRing).Append(", ring: ").Num(bind.Ring).Append(", vnic: ");
                EndLine(Literal(body, bind.Vnic), step);
                break;
            case ProgramClassifierStep { AsDeclared: true } program:
                // The VNIC's own addresses and ports: named by the VNIC, not spelt out again.
                Literal(Indent(body).Append("build.ProgramAsDeclared("), program.Nic).Append(", softwareRing: ");
                Optional(body, program.SoftwareRing).Append(", mac: ").Mac(program.Mac).Append(", vlan: ").Num(program.Vlan).Append(", ring: ").Num(program.Ring).Append(", vnic: ");
                Literal(body, program.Vnic);
                EndLine(body, step);
                break;
            case ProgramClassifierStep program:
                Literal(Indent(body).Append("build.Program("), program.Nic).Append(", softwareRing: ");
                Optional(body, program.SoftwareRing).Append(", mac: ").Mac(program.Mac).Append(", vlan: ").Num(program.Vlan).Append(", ring: ").Num(program.Ring).Append(", vnic: ");
                Literal(body, program.Vnic).Append(", ips: ");
                if (program.Ips.Count == 0) body.Append("null");
                else Addresses(body, program.Ips);
                body.Append(", ports: ");
                if (program.Ports.Count == 0) body.Append("null");
                else Numbers(body.Append("new int[] { "), program.Ports).Append(" }");
                if (program.Protocols.Count > 0) Flags(body.Append(", protocols: "), program.Protocols, ".Stacks.StackProtocols.", "None");
                EndLine(body, step);
                break;
            case AddFlowStep flow:
                Literal(Indent(body).Append("build.AddFlow("), flow.Vnic).Append(", new ").Append(Runtime).Append(".Classification.FlowSettings(");
                Literal(body, flow.Name).Append(", ").Append(Runtime).Append(".Stacks.StackProtocols.").Append(flow.Transport).Append(", LocalPort: ");
                Optional(body, flow.LocalPort).Append(", RemoteIp: ");
                if (flow.RemoteIp is { } remote) Literal(body.Append("build.Addresses("), remote).Append(")[0]");
                else body.Append("null");
                body.Append(", RemotePrefixLength: ").Num(flow.RemotePrefixLength).Append(", RemotePort: ");
                Optional(body, flow.RemotePort).Append(", Bandwidth: ");
                if (flow.Bandwidth is { } bandwidth) body.Num((long)bandwidth).Append('L');
                else body.Append("null");
                Literal(body.Append(", Priority: "), flow.Priority).Append(')');
                EndLine(body, step);
                break;
            case ClassifyInSoftwareStep fallback:
                Literal(Indent(body).Append("build.ClassifyInSoftware("), fallback.Nic).Append(", ring: ").Num(fallback.Ring);
                EndLine(body, step);
                break;
            case LoadLookupStep lookup:
                Comment(body, step);
                Literal(Indent(body).Append("build.LoadLookup("), lookup.Nic).Append(", softwareRing: ");
                Optional(body, lookup.SoftwareRing).Append(", new ").Append(lookup.Name).Append("());\n");
                break;
            case PollStep poll:
                Literal(Indent(body).Append("build.Poll("), poll.Vnic);
                EndLine(body, step);
                break;
            case StartStep:
                Comment(body, step);
                Indent(body).Append("build.Start();\n");
                break;
            default:
                throw new InvalidOperationException($"the emitter does not know the build step {step.GetType().Name}");
        }
    }

    // The VnicSettings argument, three lines, ending in a comma.
    private static void AddSettings(SourceBuilder body, VnicBuild vnic)
    {
        Indent(body).Append("    new ").Append(Runtime).Append(".Virtualization.VnicSettings(Name: ");
        Literal(body, vnic.Name).Append(", Nic: ");
        Literal(body, vnic.Nic).Append(", Vlan: ").Num(vnic.Vlan).Append(", Cpu: ");
        Optional(body, vnic.Cpu).Append(",\n");
        Indent(body).Append("        Macs: new ulong[] { ");
        for (var i = 0; i < vnic.Macs.Count; i++)
        {
            if (i > 0) body.Append(", ");
            body.Mac(vnic.Macs[i]);
        }
        body.Append(" }, Ips: ");
        if (vnic.Ips.Count == 0) body.Append("null");
        else Addresses(body, vnic.Ips);
        body.Append(",\n");
        Indent(body).Append("        Bandwidth: ");
        Optional(body, vnic.Bandwidth).Append(", OutboundBandwidth: ");
        Optional(body, vnic.OutboundBandwidth);
        if (vnic.Cpus > 1) body.Append(", Cpus: ").Num(vnic.Cpus);
        if (vnic.Multicast.Count > 0) Addresses(body.Append(", Multicast: "), vnic.Multicast);
        if (vnic.HasSubnets) Numbers(body.Append(", PrefixLengths: new[] { "), vnic.PrefixLengths).Append(" }");
        if (vnic.Gateways.Count > 0) Addresses(body.Append(", Gateways: "), vnic.Gateways);
        if (vnic.Dhcp) body.Append(", Dhcp: true");
        body.Append("),\n");
    }

    // build.Addresses("a", "b")
    private static SourceBuilder Addresses(SourceBuilder body, IReadOnlyList<string> ips)
    {
        body.Append("build.Addresses(");
        for (var i = 0; i < ips.Count; i++)
        {
            if (i > 0) body.Append(", ");
            Literal(body, ips[i]);
        }
        return body.Append(')');
    }

    // A | B | C of a flags enum's members, or its empty member.
    private static SourceBuilder Flags(SourceBuilder body, IReadOnlyList<string> names, string type, string none)
    {
        if (names.Count == 0) return body.Append(Runtime).Append(type).Append(none);
        for (var i = 0; i < names.Count; i++)
        {
            if (i > 0) body.Append(" | ");
            body.Append(Runtime).Append(type).Append(names[i]);
        }
        return body;
    }

    private static SourceBuilder Numbers(SourceBuilder body, IReadOnlyList<int> numbers)
    {
        for (var i = 0; i < numbers.Count; i++)
        {
            if (i > 0) body.Append(", ");
            body.Num(numbers[i]);
        }
        return body;
    }

    // The specialised lookup: rule i of the classifier is returned for MAC i.
    private static LookupTemplateModel Lookup(LoadLookupStep step, List<Action<SourceBuilder>> blocks)
    {
        var summary = step.SoftwareRing is null
            ? $"NIC '{step.Nic}' hardware classifier: destination MAC → rule, then the rule's field checks."
            : $"NIC '{step.Nic}' software ring {step.SoftwareRing} classifier: destination MAC → rule, then the rule's field checks.";
        var lookup = new LookupTemplateModel { Name = step.Name, Summary = Xml(summary), Count = step.Macs.Count };
        lookup.Checked = step.Checks.Any(c => !c.IsEmpty);
        if (lookup.Checked) lookup.CheckRows = Block(blocks, output => Checks(output, step));
        // Rules that all check the same fields (the usual host) get those options as a constant.
        if (lookup.Checked && step.Checks.All(c => c.Options.SequenceEqual(step.Checks[0].Options)))
        {
            lookup.SharedOptions = step.Checks[0].IsEmpty ? "None" : string.Join(" | ", step.Checks[0].Options);
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
        lookup.PlacedRows = Block(blocks, output => Rows(output, table.Slots.Length, 4, (line, rule) => line.Append('(').Mac(step.Macs[rule]).Append(", ").Num(table.Slots[rule]).Append(')')));
        return lookup;
    }

    // `count` items, `perLine` to a line, sixteen spaces in, each followed by a comma.
    private static void Rows(SourceBuilder output, int count, int perLine, Action<SourceBuilder, int> item)
    {
        for (var i = 0; i < count; i++)
        {
            if (i % perLine == 0) output.Append(' ', 16);
            item(output, i);
            output.Append(i % perLine == perLine - 1 || i == count - 1 ? ",\n" : ", ");
        }
    }

    // new(options, vlan, ipv4, portLanes), // 02:00:00:00:00:01: vlan 10, 10.0.0.1, ports 80 443
    private static void Checks(SourceBuilder output, LoadLookupStep step)
    {
        for (var rule = 0; rule < step.Checks.Count; rule++)
        {
            var check = step.Checks[rule];
            // The option names are constants of the generated class (Vlan, Ipv4, Ports, Tcp, Udp, Overflow).
            output.Append(' ', 16).Append("new(");
            if (check.IsEmpty) output.Append("None");
            for (var i = 0; i < check.Options.Count; i++)
            {
                if (i > 0) output.Append(" | ");
                output.Append(check.Options[i]);
            }
            output.Append(", ").Num(check.Vlan).Append(", ");
            if (check.Ipv4 == 0) output.Append('0');
            else output.Append("0x").Append(check.Ipv4.ToString("X8", CultureInfo.InvariantCulture));
            output.Append(", ");
            if (check.PortLanes == 0) output.Append('0');
            else output.Append("0x").Append(check.PortLanes.ToString("X16", CultureInfo.InvariantCulture));
            output.Append("), // ");
            var mac = step.Macs[rule];
            for (var b = 5; b >= 0; b--)
            {
                var octet = (int)(mac >> (8 * b)) & 0xFF;
                output.Append(HexDigits[octet >> 4]).Append(HexDigits[octet & 0xF]);
                if (b > 0) output.Append(':');
            }
            if (check.Summary.Length > 0) output.Append(": ").Append(check.Summary);
            output.Append('\n');
        }
    }

    private const string HexDigits = "0123456789abcdef";

    private static string Count(int n, string noun) => n == 1 ? $"1 {noun}" : $"{n} {noun}s";

    // A MAC as a 12-digit constant, so it reads like the address it is.
    internal static string Mac(ulong value) => "0x" + value.ToString("X12", CultureInfo.InvariantCulture) + "UL";

    private static SourceBuilder Mac(this SourceBuilder body, ulong value) =>
        body.Append("0x").Append(value.ToString("X12", CultureInfo.InvariantCulture)).Append("UL");

    private static string Hex(ulong value) => "0x" + value.ToString("X", CultureInfo.InvariantCulture) + "UL";

    // Digit separators past four digits: 10_000_000_000, 1500.
    private static SourceBuilder Num(this SourceBuilder body, long value)
    {
        if (value > -10_000 && value < 10_000) return body.Append(value.ToString(CultureInfo.InvariantCulture));
        var text = value.ToString(CultureInfo.InvariantCulture);
        var sign = value < 0 ? 1 : 0;
        if (sign == 1) body.Append('-');
        var digits = text.Length - sign;
        for (var i = 0; i < digits; i++)
        {
            if (i > 0 && (digits - i) % 3 == 0) body.Append('_');
            body.Append(text[sign + i]);
        }
        return body;
    }

    private static SourceBuilder Num(this SourceBuilder body, int value) => body.Num((long)value);

    private static SourceBuilder Num(this SourceBuilder body, ulong value) => body.Num((long)value);

    private static SourceBuilder Optional(SourceBuilder body, int? value) => value is { } v ? body.Num(v) : body.Append("null");

    private static SourceBuilder Optional(SourceBuilder body, ulong? value) => value is { } v ? body.Num((long)v).Append('L') : body.Append("null");

    private static SourceBuilder Optional(SourceBuilder body, string? value) => value is null ? body.Append("null") : Literal(body, value);

    // A C# string literal ("..." with quotes and backslashes escaped).
    private static SourceBuilder Literal(SourceBuilder body, string text)
    {
        body.Append('"');
        if (text.IndexOf('"') < 0 && text.IndexOf('\\') < 0) return body.Append(text).Append('"');
        foreach (var c in text)
        {
            if (c is '"' or '\\') body.Append('\\');
            body.Append(c);
        }
        return body.Append('"');
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
