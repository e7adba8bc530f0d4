using System.Net;
using NicBypass.Dsl;
using NicBypass.Dsl.Lowering;
using NicBypass.Runtime.Classification;
using NicBypass.Runtime.Devices;
using NicBypass.Runtime.Packets;
using NicBypass.Runtime.Stacks;
using NicBypass.Runtime.Virtualization;

namespace NicBypass.Hosting;

/// <summary>
/// Builds a running host from a checked host and its placement — the interpreter of the two
/// ways to run a host (like Regex's interpreter next to its source generator). It executes the
/// steps <see cref="HostLowering"/> computed, each through the <see cref="HostBuilder"/> method
/// the generated code calls for the same step with the same arguments, so both build the same
/// host. The one difference: generated code loads classifier lookups baked at build time, where
/// the interpreter keeps the classifiers' generic tables (same answers, tested).
/// </summary>
public static class InterpretedHost
{
    public static NetworkHost Build(CompiledHost host, TimeProvider? time = null) => Execute(HostLowering.Lower(host.Definition, host.Plan), time);

    /// <summary>Runs every step of <paramref name="build"/> and returns the started host.</summary>
    public static NetworkHost Execute(HostBuild build, TimeProvider? time = null)
    {
        var builder = new HostBuilder(build.Name, build.Cpus, time);
        foreach (var step in build.Steps)
        {
            switch (step)
            {
                case AddNicStep nic:
                    builder.AddNic(nic.Nic, nic.Model, new SimNicSettings(nic.RxRings, nic.TxRings, nic.RingSize, nic.Mtu, nic.Msi, (long)nic.Speed, nic.InterruptModerationMicroseconds));
                    break;
                case AddVirtualMachineStep vm:
                    builder.AddVirtualMachine(Settings(vm.Vnic), Enum.Parse<PacketTransform>(vm.Transform));
                    break;
                case AddNetworkStackStep stack:
                    builder.AddNetworkStack(Enum.Parse<VnicRole>(stack.Role), Settings(stack.Vnic), StackSettings(stack));
                    break;
                case CheckHardwareStep check:
                    builder.CheckHardware(check.Nic, check.ReceiveRings, check.TransmitRings, check.ClassifierEntries, Flags<ClassifierMatch>(check.Fields));
                    break;
                case BindHardwareRingStep bind:
                    builder.BindHardwareRing(bind.Nic, bind.Ring, bind.Vnic);
                    break;
                case BindSoftwareRingStep bind:
                    builder.BindSoftwareRing(bind.Nic, bind.Parent, bind.Ring, bind.Id, bind.Rings);
                    break;
                case BindSoftwareReceiveRingStep bind:
                    builder.BindSoftwareReceiveRing(bind.Nic, bind.SoftwareRing, bind.Ring, bind.Vnic);
                    break;
                case ProgramClassifierStep program:
                    builder.Program(program.Nic, program.SoftwareRing, program.Mac, program.Vlan, program.Ring, program.Vnic,
                        program.Ips.Select(IPAddress.Parse).ToArray(), program.Ports.ToArray(), Flags<StackProtocols>(program.Protocols));
                    break;
                case AddFlowStep flow:
                    builder.AddFlow(flow.Vnic, new FlowSettings(flow.Name, Enum.Parse<StackProtocols>(flow.Transport), flow.LocalPort,
                        flow.RemoteIp is { } remote ? IPAddress.Parse(remote) : null, flow.RemotePrefixLength, flow.RemotePort, (long?)flow.Bandwidth, flow.Priority));
                    break;
                case ClassifyInSoftwareStep fallback:
                    builder.ClassifyInSoftware(fallback.Nic, fallback.Ring);
                    break;
                case LoadLookupStep lookup:
                    builder.LoadLookup(lookup.Nic, lookup.SoftwareRing, new SteppedLookup(lookup));
                    break;
                case PollStep poll:
                    builder.Poll(poll.Vnic);
                    break;
                case StartStep:
                    builder.Start();
                    break;
                default:
                    throw new InvalidOperationException($"the interpreter does not know the build step {step.GetType().Name}");
            }
        }
        return builder.Host;
    }

    /// <summary>A destination's VNS settings from its build step: declared protocols (TCP → mutual exclusion) and ports (the only ones it binds).</summary>
    public static StackSettings StackSettings(AddNetworkStackStep step) =>
        new(Protocols: Flags<StackProtocols>(step.Protocols), Ports: step.Ports.ToArray());

    private static VnicSettings Settings(VnicBuild vnic) => new(
        vnic.Name, vnic.Nic, vnic.Macs.ToArray(), vnic.Ips.Select(IPAddress.Parse).ToArray(), vnic.Vlan, vnic.Cpu,
        (long?)vnic.Bandwidth, (long?)vnic.OutboundBandwidth, vnic.Cpus,
        vnic.Multicast.Count == 0 ? null : vnic.Multicast.Select(IPAddress.Parse).ToArray(),
        vnic.HasSubnets ? vnic.PrefixLengths.ToArray() : null,
        vnic.Gateways.Count == 0 ? null : vnic.Gateways.Select(IPAddress.Parse).ToArray(),
        vnic.Dhcp);

    private static T Flags<T>(IEnumerable<string> names) where T : struct, Enum =>
        (T)Enum.ToObject(typeof(T), names.Aggregate(0L, (all, name) => all | Convert.ToInt64(Enum.Parse<T>(name))));
}
