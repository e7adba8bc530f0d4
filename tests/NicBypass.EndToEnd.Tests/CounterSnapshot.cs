using NicBypass.Runtime.Accounting;
using NicBypass.Runtime.Virtualization;

namespace NicBypass.EndToEnd.Tests;

/// <summary>Every counter of a host, flattened to lines, so two hosts can be compared counter by counter.</summary>
internal static class CounterSnapshot
{
    public static List<string> Of(NetworkHost host)
    {
        var lines = new List<string>();
        foreach (var processor in host.Processors.Concat(host.VirtualProcessors))
        {
            lines.Add($"{processor} interrupts hw {processor.HardwareInterrupts} sw {processor.SoftwareInterrupts} busy {processor.BusyNanoseconds} polls {processor.Polls}");
        }
        foreach (var nic in host.Nics)
        {
            lines.Add($"nic {nic.Name} {Counters(nic.Device.Counters)} transmitted {nic.Device.Transmitted}");
            foreach (var ring in nic.ReceiveRings) lines.Add($"nic {nic.Name} {ring.Name} {Counters(ring.Counters)} interrupts {ring.Interrupts}");
            foreach (var ring in nic.TransmitRings) lines.Add($"nic {nic.Name} {ring.Name} {Counters(ring.Counters)}");
            foreach (var software in nic.SoftwareRings)
            {
                lines.Add($"nic {nic.Name} {software.Id} {Counters(software.Counters)}");
                foreach (var ring in software.Rings) lines.Add($"nic {nic.Name} {ring.Name} {Counters(ring.Counters)} interrupts {ring.Interrupts}");
            }
        }
        foreach (var vnic in host.Vnics)
        {
            lines.Add($"vnic {vnic.Name} on {vnic.Ring?.Name} in {Counters(vnic.Counters)} out {Counters(vnic.TransmitCounters)} switches {vnic.Ring?.PollingSwitches}"
                      + $" latency {vnic.Latency.Count}/{vnic.Latency.Percentile(0.5)}/{vnic.Latency.Max}");
            foreach (var flow in vnic.Flows) lines.Add($"flow {flow.Name} on {vnic.Name} {Counters(flow.Counters)}");
        }
        foreach (var vm in host.VirtualMachines)
        {
            var c = vm.Counters;
            lines.Add($"vm {vm.Name} received {c.Received} arp {c.ArpRepliesSent} echo {c.EchoRepliesSent} udp {c.UdpEchoesSent} na {c.NeighborAdvertisementsSent} ignored {c.Ignored} malformed {c.Malformed} failures {c.SendFailures}"
                      + $" virtual interrupts {vm.VirtualInterrupts} guest ring {vm.GuestRingHighWater} held back {vm.Interface.Blocked}");
        }
        foreach (var vns in host.NetworkStacks)
        {
            var c = vns.Counters;
            lines.Add($"vns {vns.Name} received {c.Received} delivered {c.Delivered} answered {c.Answered} sent {c.Sent} dropped [{string.Join(", ", c.Drops().Select(d => $"{d.Key} {d.Value}"))}] inbound {vns.Inbound.Queued}/{vns.Inbound.HighWater} backlogs {vns.Backlogs}"
                      + $" switches {vns.PollingSwitches} outbound {vns.OutboundQueued}/{vns.OutboundHighWater} blocked {vns.BlockedSends} workers {string.Join(",", vns.Workers)}");
        }
        return lines;
    }

    private static string Counters(TrafficCounters c) =>
        $"received {c.Received} delivered {c.Delivered} bytes {c.DeliveredBytes} dropped [{string.Join(", ", c.Drops().Select(d => $"{d.Key} {d.Value}"))}]";
}
