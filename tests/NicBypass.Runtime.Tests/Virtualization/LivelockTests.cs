using NicBypass.Hosting;
using NicBypass.Runtime.Virtualization;

namespace NicBypass.Runtime.Tests;

/// <summary>
/// Receive livelock (Mogul and Ramakrishnan 1997), docs/experiments.md: a container on one
/// processor, offered 64-byte frames. With interrupts only, every frame's interrupt preempts the
/// VSQ worker, so past saturation the worker never runs and deliveries collapse; with dynamic
/// polling the ring switches to polling and delivery stays at what the processor can do.
/// </summary>
public class LivelockTests
{
    private const string Topology = """
        host one {
            cpus 1
            nic e0 { model simnic-100g; rx-rings 1; ring-size 1024 }
            container c on e0 { mac 02:00:00:00:00:01; ip 10.0.0.1; protocols udp; ports 7; cpu 0 }
        }
        """;

    // Datagrams delivered to the application per second (millions), interrupts per datagram, busy fraction.
    private static (double Mpps, double InterruptsPerFrame, double Busy) Run(double offeredMpps, bool dynamicPolling)
    {
        const double seconds = 0.005;
        var (_, report) = CostModelSimulation.Run(Topology, new SimulationOptions(Seconds: seconds, FrameSize: 64, Mix: false,
            RateBitsPerSecond: (long)(offeredMpps * 1e6 * 64 * 8), InterruptsOnly: !dynamicPolling));
        var delivered = report.Nics[0].Vnics[0].Stack!.Delivered;
        return (delivered / seconds / 1e6, report.Cpus![0].HardwareInterrupts / (double)Math.Max(1, delivered), report.Cpus[0].Busy);
    }

    [Fact]
    public void With_interrupts_only_deliveries_collapse_past_saturation()
    {
        var below = Run(0.8, dynamicPolling: false);
        var above = Run(2, dynamicPolling: false);
        Assert.InRange(below.Mpps, 0.79, 0.81);
        Assert.True(above.Mpps < 0.1 * below.Mpps, $"{above.Mpps:F3} Mpps delivered offered 2 Mpps, {below.Mpps:F3} offered 0.8");
        // Busy is what was done by the end of the run: never more than all of it.
        Assert.InRange(above.Busy, 0.99, 1.0);
    }

    private const string SharedRing = """
        host shared {
            cpus 1
            nic e0 { model simnic-100g; rx-rings 1; ring-size 1024 }
            container a on e0 { mac 02:00:00:00:00:01; ip 10.0.0.1; protocols udp; ports 7; cpu 0 }
            container b on e0 { mac 02:00:00:00:00:02; ip 10.0.0.2; protocols udp; ports 7; cpu 0 }
        }
        """;

    [Theory]
    [InlineData(0.8)]
    [InlineData(1.2)]
    public void Behind_a_software_ring_with_dynamic_polling_the_containers_are_not_starved_by_the_interrupts_that_feed_them(double gigabits)
    {
        // Two containers share one HRR through a software ring on one processor. The HRR kept up
        // (each frame's interrupt served at once) while the SRRs' consumers could not, and the
        // interrupts — served first — left their VSQ workers no turn: 416 of 156,250 frames
        // delivered at 0.8 Gbit/s, none at 1.2, and all again at 3 (found by a new user's drive).
        const double seconds = 0.02;
        var (_, report) = CostModelSimulation.Run(SharedRing, new SimulationOptions(Seconds: seconds, FrameSize: 64, Mix: false,
            RateBitsPerSecond: (long)(gigabits * 1e9)));
        foreach (var vnic in report.Nics[0].Vnics)
        {
            Assert.StartsWith("sr0/", vnic.Ring); // behind the software ring, as the test means
            Assert.True(vnic.Stack!.Delivered > 0.99 * vnic.Received, $"{vnic.Name}: {vnic.Stack.Delivered} of {vnic.Received} to its socket at {gigabits} Gbit/s");
        }
        Assert.True(report.Cpus![0].Polls > 0);
    }

    [Fact]
    public void A_vm_whose_ring_keeps_up_does_not_starve_a_container_on_its_processor()
    {
        // One processor, a VM and a container on hardware rings of their own, each offered half of
        // a 100G link: more than the processor can take. The VM's ring kept up batch by batch, so
        // its interrupts — served before any poller — came as fast as the processor freed up, and
        // the container's ring, handed to its VSQ's polling, was polled 3 times in 0.1 s: 90 of
        // 610,351 frames delivered (found by a new user's drive). With other work waiting, the
        // VM's ring now goes to polling too and the two take turns.
        const string topology = """
            host t {
                nic e0 { model simnic-100g; rx-rings 2 }
                vm a on e0 { mac 02:00:00:00:04:01; ip 10.4.0.1 }
                container c on e0 { mac 02:00:00:00:04:02; ip 10.4.0.2; protocols udp; ports 53 }
            }
            """;
        var (_, report) = CostModelSimulation.Run(topology, new SimulationOptions(Seconds: 0.01, Mix: false));
        var (vm, container) = (report.Nics[0].Vnics.Single(v => v.Name == "a"), report.Nics[0].Vnics.Single(v => v.Name == "c"));
        Assert.True(report.Cpus![0].Busy > 0.99); // saturated: the processor is what is shared
        foreach (var vnic in new[] { vm, container })
        {
            Assert.True(vnic.Delivered > 0.4 * vnic.Received, $"{vnic.Name}: {vnic.Delivered} of {vnic.Received}");
        }
        Assert.InRange((double)container.Delivered / vm.Delivered, 0.8, 1.25);
    }

    [Fact]
    public void A_polling_vnic_behind_the_software_ring_does_not_send_its_hardware_ring_to_polling_at_light_load()
    {
        // A VNIC in mode polling keeps its SRR's interrupts off for good; read as "backed up", it
        // sent the hardware ring to polling at every interrupt, at any load (found by review).
        // The ring still goes to polling when frames really wait for the processor elsewhere — a
        // frame in that SRR not yet polled when the next interrupt comes (two frames close
        // together): a few times in the run, not at every interrupt.
        var topology = SharedRing.Replace("ip 10.0.0.1; protocols udp; ports 7; cpu 0 }", "ip 10.0.0.1; protocols udp; ports 7; cpu 0; mode polling }");
        Assert.NotEqual(SharedRing, topology);
        var (host, report) = CostModelSimulation.Run(topology, new SimulationOptions(Seconds: 0.02, FrameSize: 64, Mix: false, RateBitsPerSecond: 10_000_000));
        var hrr = host.Nic("e0").Device.ReceiveRings[0];
        Assert.True(hrr.Interrupts > 100, $"{hrr.Interrupts} interrupts");
        Assert.True(hrr.PollingSwitches < 0.1 * hrr.Interrupts, $"{hrr.PollingSwitches} switches to polling in {hrr.Interrupts} interrupts");
        Assert.All(report.Nics[0].Vnics, v => Assert.Equal(v.Received, v.Delivered + v.Queued));
    }

    [Fact]
    public void With_dynamic_polling_deliveries_stay_at_the_processors_maximum_with_few_interrupts()
    {
        var saturated = Run(16, dynamicPolling: true);
        var twice = Run(32, dynamicPolling: true);
        Assert.True(saturated.Mpps > 10, $"{saturated.Mpps:F2} Mpps");
        Assert.InRange(twice.Mpps, 0.95 * saturated.Mpps, 1.05 * saturated.Mpps);
        Assert.True(twice.InterruptsPerFrame < 0.05, $"{twice.InterruptsPerFrame:F3} interrupts a frame");
    }
}
