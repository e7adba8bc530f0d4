using System.Net;
using NicBypass.Dsl.Model;
using NicBypass.Dsl.Planning;
using NicBypass.Runtime.Classification;
using NicBypass.Runtime.Devices;
using NicBypass.Runtime.Packets;
using NicBypass.Runtime.Stacks;
using NicBypass.Runtime.Virtualization;

namespace NicBypass.Hosting;

/// <summary>
/// Builds a running host from a checked host definition and its placement — the interpreter
/// of the two ways to run a host (like Regex's interpreter next to its source generator). Every
/// step goes through the public runtime API the generated code calls: NICs are registered and
/// their drivers queried, VMs and destinations added, rings bound as the plan says, the hardware
/// and software classifiers programmed from the plan's classifier programs, polling set up.
/// </summary>
public static class InterpretedHost
{
    public static NetworkHost Build(HostDefinition definition, HostPlan plan, TimeProvider? time = null)
    {
        var host = new NetworkHost(definition.Name, definition.Cpus, time);
        foreach (var nic in definition.Nics)
        {
            host.AddNic(nic.Name, SimNicModels.Get(nic.Model.Name),
                new SimNicSettings(nic.RxRings, nic.TxRings, nic.RingSize, nic.Mtu, nic.Msi, (long)nic.Speed.BitsPerSecond));
        }

        var vnics = new Dictionary<string, Vnic>(StringComparer.Ordinal);
        foreach (var vnic in definition.Vnics)
        {
            var settings = new VnicSettings(vnic.Name, vnic.Nic, vnic.Macs.Select(m => m.Value).ToArray(),
                vnic.Ips.Select(p => ToIpAddress(p.Address)).ToArray(), vnic.Vlan, vnic.Cpu,
                (long?)vnic.Bandwidth?.BitsPerSecond, (long?)vnic.OutboundBandwidth?.BitsPerSecond);
            vnics[vnic.Name] = vnic.Kind == VnicKind.Vm
                ? host.AddVirtualMachine(settings, vnic.Transform == Dsl.Model.PacketTransform.ReverseBits ? Runtime.Packets.PacketTransform.ReverseBits : Runtime.Packets.PacketTransform.None).Vnic
                : host.AddNetworkStack(vnic.Kind == VnicKind.Container ? VnicRole.Container : VnicRole.Service, settings, StackSettingsOf(vnic)).Vnic;
        }

        foreach (var nicPlan in plan.Nics)
        {
            var nic = host.Nic(nicPlan.Name);
            nic.EnsureCanCarry(nicPlan.HardwareRings.Count, nicPlan.TransmitRings, nicPlan.HardwareClassifier.Entries.Count,
                (ClassifierMatch)(int)nicPlan.HardwareClassifier.Fields);
            foreach (var ring in nicPlan.HardwareRings)
            {
                if (ring.Vnic is { } name) nic.BindHardwareRing(ring.Index, vnics[name]);
                else if (ring.SoftwareRing is { } software) BindSoftwareRing(nic.BindSoftwareRing(ring.Index, software.Id, software.Rings.Count), software, vnics);
            }
            foreach (var entry in nicPlan.HardwareClassifier.Entries) nic.Program(entry.Mac.Value, entry.Vlan, entry.Ring, vnics[entry.Vnic]);
        }

        foreach (var vnic in definition.Vnics.Where(v => v.Kind != VnicKind.Vm && v.Mode == ProcessingMode.Polling))
        {
            host.Poll(vnics[vnic.Name]);
        }

        host.Start();
        return host;
    }

    private static void BindSoftwareRing(SoftwareRing ring, SoftwareRingPlan plan, Dictionary<string, Vnic> vnics)
    {
        foreach (var srr in plan.Rings)
        {
            if (srr.Vnic is { } name) ring.BindRing(srr.Index, vnics[name]);
            else if (srr.SoftwareRing is { } nested) BindSoftwareRing(ring.BindSoftwareRing(srr.Index, nested.Id, nested.Rings.Count), nested, vnics);
        }
        foreach (var entry in plan.Classifier.Entries) ring.Program(entry.Mac.Value, entry.Vlan, entry.Ring, vnics[entry.Vnic]);
    }

    /// <summary>A destination's VNS: its declared protocols (TCP → mutual exclusion) and ports (the only ones it binds).</summary>
    public static StackSettings StackSettingsOf(VnicDefinition vnic) => new(
        Protocols: ((vnic.Protocols & TransportProtocols.Tcp) != 0 ? StackProtocols.Tcp : StackProtocols.None) | ((vnic.Protocols & TransportProtocols.Udp) != 0 ? StackProtocols.Udp : StackProtocols.None),
        Ports: vnic.Ports.ToArray());

    internal static IPAddress ToIpAddress(Dsl.Values.IpAddress address)
    {
        if (!address.IsV6) return new IPAddress(new[] { (byte)(address.Low >> 24), (byte)(address.Low >> 16), (byte)(address.Low >> 8), (byte)address.Low });
        var bytes = new byte[16];
        for (var i = 0; i < 8; i++) bytes[i] = (byte)(address.High >> (56 - 8 * i));
        for (var i = 0; i < 8; i++) bytes[8 + i] = (byte)(address.Low >> (56 - 8 * i));
        return new IPAddress(bytes);
    }
}
