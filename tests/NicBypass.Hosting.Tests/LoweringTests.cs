using NicBypass.Dsl;
using NicBypass.Dsl.Lowering;
using NicBypass.Runtime.Classification;
using NicBypass.Runtime.Devices;
using NicBypass.Runtime.Packets;
using NicBypass.Runtime.Stacks;
using NicBypass.Runtime;
using NicBypass.Runtime.Virtualization;

namespace NicBypass.Hosting.Tests;

/// <summary>The one lowering both ways of building a host share (plan → build steps → HostBuilder).</summary>
public class LoweringTests
{
    private const string Oversubscribed = """
        host edge {
            cpus 2
            nic e0 { model simnic-1g; rx-rings 2; soft-ring-width 2 }
            nic e1 { model simnic-100g; rx-rings 2 }
            vm a on e0 { mac 02:00:00:00:00:01; ip 10.0.0.1; transform reverse-bits; ring hardware }
            vm b on e0 { mac 02:00:00:00:00:02; ip 10.0.0.2 }
            container c on e0 { mac 02:00:00:00:00:03; ip 10.0.0.3; protocols tcp udp; ports 80 53 }
            service d on e0 { mac 02:00:00:00:00:04; ip 10.0.0.4; protocols udp; ports 53; mode polling; bandwidth 10M }
            container f on e1 { mac 02:00:00:00:00:05; mac 02:00:00:00:00:06; ip 10.0.1.5; ip fd00::5; vlan 7; protocols tcp; ports 443 }
        }
        """;

    private static CompiledHost Compile(string text)
    {
        var compilation = DslCompiler.Compile("edge.nicdsl", text);
        Assert.False(compilation.HasErrors, string.Join("\n", compilation.Diagnostics));
        return compilation.Hosts[0];
    }

    [Fact]
    public void Every_runtime_name_the_lowering_produces_exists_in_the_runtime()
    {
        var build = HostLowering.Lower(Compile(Oversubscribed).Definition, Compile(Oversubscribed).Plan);

        foreach (var step in build.StepsOf<AddVirtualMachineStep>()) Assert.True(Enum.TryParse<PacketTransform>(step.Transform, out _), step.Transform);
        foreach (var step in build.StepsOf<AddNetworkStackStep>())
        {
            Assert.True(Enum.TryParse<VnicRole>(step.Role, out _), step.Role);
            Assert.All(step.Protocols, p => Assert.True(Enum.TryParse<StackProtocols>(p, out _), p));
        }
        Assert.All(build.StepsOf<CheckHardwareStep>().SelectMany(s => s.Fields), f => Assert.True(Enum.TryParse<ClassifierMatch>(f, out _), f));
        Assert.All(build.StepsOf<LoadLookupStep>().SelectMany(s => s.Checks).SelectMany(c => c.Options), o => Assert.True(Enum.TryParse<FieldCheckOptions>(o, out _), o));
        Assert.Contains(build.StepsOf<LoadLookupStep>().SelectMany(s => s.Checks), c => c.Options.SequenceEqual(new[] { "Vlan", "Ipv4", "Ports", "Tcp" }) && c.Vlan == 7);
        Assert.Contains(build.StepsOf<AddVirtualMachineStep>(), s => s.Transform == "ReverseBits");
        Assert.Contains(build.StepsOf<CheckHardwareStep>(), s => s.Fields.SequenceEqual(new[] { "DestinationMac", "DestinationIp", "Vlan", "Port" }));
    }

    [Fact]
    public void Software_rings_nest_in_the_steps_as_in_the_plan()
    {
        var build = HostLowering.Lower(Compile(Oversubscribed).Definition, Compile(Oversubscribed).Plan);

        var rings = build.StepsOf<BindSoftwareRingStep>().ToList();
        Assert.Equal(new[] { ("sr0", (string?)null, 1), ("sr1", "sr0", 1) }, rings.Select(r => (r.Id, r.Parent, r.Ring)));
        // Placement order: ring hardware (a), then bandwidth (d), then declaration (b, c).
        // Each software ring's classifier is programmed after its rings are bound, then its lookup loaded.
        var steps = build.Steps.ToList();
        var sr1Lookup = steps.FindIndex(s => s is LoadLookupStep { SoftwareRing: "sr1" });
        var sr1Bound = steps.FindIndex(s => s is BindSoftwareRingStep { Id: "sr1" });
        Assert.True(sr1Bound < sr1Lookup);
        Assert.Equal(new[] { "e0 hrr0 a", "e0 sr0/srr0 d", "e0 sr1/srr0 b", "e0 sr1/srr1 c", "e1 hrr0 f" }.OrderBy(x => x),
            build.Placement.Select(p => $"{p.Nic} {p.Ring} {p.Vnic}").OrderBy(x => x));
    }

    [Fact]
    public void The_planned_classifier_entries_are_what_programs_the_classifier()
    {
        var host = Compile(Oversubscribed);
        var running = InterpretedHost.Build(host);

        foreach (var nic in host.Plan.Nics)
        {
            var rules = running.Nic(nic.Name).Info.Classifier.Program.Rules;
            Assert.Equal(nic.HardwareClassifier.Entries.Count, rules.Count);
            for (var i = 0; i < rules.Count; i++)
            {
                var entry = nic.HardwareClassifier.Entries[i];
                Assert.Equal(entry.Mac.Value, rules[i].Mac);
                Assert.Equal(entry.Ring, rules[i].Ring);
                Assert.Equal(entry.Ips.Select(ip => ip.ToString()), rules[i].Ips!.Select(ip => ip.ToString()));
                Assert.Equal(entry.Ports, rules[i].Ports!);
            }
        }
        // Rules carry what the VNICs declare; simnic-1g matches MACs only, so its VNICs check the
        // VLAN and their IPs in software, while simnic-100g matches everything in hardware.
        Assert.All(running.Nic("e1").Info.Classifier.Program.Rules, r => Assert.Equal(new[] { 443 }, r.Ports!));
        foreach (var vnic in running.Vnics)
        {
            if (vnic.Nic.Name == "e1") Assert.Null(vnic.SoftwareCheck);
            else Assert.Equal(ClassifierMatch.Vlan | (vnic.Ips.Count > 0 ? ClassifierMatch.DestinationIp : 0), vnic.SoftwareCheck!.Fields & ~ClassifierMatch.Port);
        }
    }

    [Fact]
    public void An_entry_with_the_vnics_own_addresses_and_ports_is_programmed_as_declared_to_the_same_rule()
    {
        var host = Compile(Oversubscribed);
        var build = HostLowering.Lower(host.Definition, host.Plan);
        var programs = build.StepsOf<ProgramClassifierStep>().ToList();
        Assert.All(programs, p => Assert.True(p.AsDeclared, p.Describe()));

        // The generated code's ProgramAsDeclared derives from the VNIC's settings exactly the rule
        // the interpreter programs from the step's own values.
        var explicitHost = InterpretedHost.Build(host);
        var declared = new HostBuilder("edge", 2, new VirtualClock());
        foreach (var step in build.Steps)
        {
            switch (step)
            {
                case AddNicStep nic:
                    declared.AddNic(nic.Nic, nic.Model, new SimNicSettings(nic.RxRings, nic.TxRings, nic.RingSize, nic.Mtu, nic.Msi, (long)nic.Speed));
                    break;
                case AddVirtualMachineStep vm:
                    declared.AddVirtualMachine(Settings(vm.Vnic));
                    break;
                case AddNetworkStackStep stack:
                    declared.AddNetworkStack(Enum.Parse<VnicRole>(stack.Role), Settings(stack.Vnic),
                        new StackSettings(stack.Protocols.Aggregate(StackProtocols.None, (all, p) => all | Enum.Parse<StackProtocols>(p)), stack.Ports.ToArray()));
                    break;
                case ProgramClassifierStep program when program.SoftwareRing is null:
                    declared.ProgramAsDeclared(program.Nic, null, program.Mac, program.Vlan, program.Ring, program.Vnic);
                    break;
            }
        }
        foreach (var nic in host.Plan.Nics)
        {
            var expected = explicitHost.Nic(nic.Name).Info.Classifier.Program.Rules;
            var actual = declared.Host.Nic(nic.Name).Info.Classifier.Program.Rules;
            Assert.Equal(expected.Count, actual.Count);
            for (var i = 0; i < expected.Count; i++)
            {
                Assert.Equal(expected[i].Mac, actual[i].Mac);
                Assert.Equal(expected[i].Ips!.Select(ip => ip.ToString()), actual[i].Ips!.Select(ip => ip.ToString()));
                Assert.Equal(expected[i].Ports!, actual[i].Ports!);
                Assert.Equal(expected[i].Protocols, actual[i].Protocols);
            }
        }

        static VnicSettings Settings(VnicBuild vnic) => new(vnic.Name, vnic.Nic, vnic.Macs.ToArray(),
            vnic.Ips.Select(System.Net.IPAddress.Parse).ToArray(), vnic.Vlan, vnic.Cpu);
    }

    [Fact]
    public void Lowering_is_deterministic_and_value_equal()
    {
        Assert.Equal(HostLowering.Lower(Compile(Oversubscribed).Definition, Compile(Oversubscribed).Plan),
            HostLowering.Lower(Compile(Oversubscribed).Definition, Compile(Oversubscribed).Plan));
        var moved = "\n\n# a comment\n" + Oversubscribed;
        Assert.Equal(HostLowering.Lower(Compile(Oversubscribed).Definition, Compile(Oversubscribed).Plan),
            HostLowering.Lower(Compile(moved).Definition, Compile(moved).Plan));
    }

    [Fact]
    public void The_builder_names_a_wrong_step_clearly()
    {
        var builder = new HostBuilder("h", 1, new VirtualClock());
        builder.AddNic("e0", "simnic-10g", new SimNicSettings(2));
        builder.AddVirtualMachine(new VnicSettings("a", "e0", new ulong[] { 0x020000000001 }));

        Assert.Contains("no VNIC named 'b'", Assert.Throws<ArgumentException>(() => builder.BindHardwareRing("e0", 0, "b")).Message);
        Assert.Contains("no software ring 'sr9'", Assert.Throws<ArgumentException>(() => builder.BindSoftwareReceiveRing("e0", "sr9", 0, "a")).Message);
        Assert.Contains("unknown NIC model 'simnic-9g'", Assert.Throws<ArgumentException>(() => builder.AddNic("e1", "simnic-9g", new SimNicSettings(1))).Message);
        builder.BindHardwareRing("e0", 0, "a");
        builder.Program("e0", null, 0x020000000001, 0, 0, "a");
        builder.Start();
        Assert.Contains("already started", Assert.Throws<InvalidOperationException>(() => builder.Poll("a")).Message);
    }
}
