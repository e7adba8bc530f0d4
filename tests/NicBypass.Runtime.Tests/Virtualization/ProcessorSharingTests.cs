using NicBypass.Hosting;
using NicBypass.Runtime.Virtualization;

namespace NicBypass.Runtime.Tests;

/// <summary>
/// Dynamic polling shares a saturated processor between the tenants it serves: a ring that keeps
/// up batch by batch does not take the processor whole while frames wait for others on it (each
/// case found by review; one VM starved the others to a few dozen frames).
/// </summary>
public class ProcessorSharingTests
{
    // One processor, every tenant offered an even share of a 100G link (more than it can take):
    // each delivers at least a fifth of what it was offered.
    private static void AssertShared(string tenants, params string[] names)
    {
        var (_, report) = CostModelSimulation.Run($$"""
            host t {
                nic e0 { model simnic-100g; rx-rings 2 }
            {{tenants}}
            }
            """, new SimulationOptions(Seconds: 0.01, Mix: false));
        Assert.True(report.Cpus![0].Busy > 0.99);
        foreach (var name in names)
        {
            var vnic = report.Nics[0].Vnics.Single(v => v.Name == name);
            Assert.True(vnic.Delivered > 0.2 * vnic.Received, $"{name}: {vnic.Delivered} of {vnic.Received}");
        }
    }

    [Fact]
    public void Two_vms_on_one_processor_share_it() => AssertShared("""
            vm a on e0 { mac 02:00:00:00:04:01; ip 10.4.0.1 }
            vm b on e0 { mac 02:00:00:00:04:03; ip 10.4.0.3 }
        """, "a", "b");

    [Fact]
    public void A_vm_on_its_own_ring_does_not_starve_the_tenants_behind_the_software_ring() => AssertShared("""
            vm a on e0 { mac 02:00:00:00:04:01; ip 10.4.0.1 }
            vm b on e0 { mac 02:00:00:00:04:03; ip 10.4.0.3 }
            container c on e0 { mac 02:00:00:00:04:02; ip 10.4.0.2; protocols udp; ports 53 }
        """, "a", "b", "c");

    [Fact]
    public void Two_vms_and_a_container_each_get_a_third()
    {
        // The VMs' rings are polled by the processor one by one; the container's by its VSQ's
        // worker, among the pollers. The pollers' turn used to come every other step, whatever
        // the number of rings: 23, 23 and 41 thousand frames (found by review).
        var (_, report) = CostModelSimulation.Run("""
            host t {
                nic e0 { model simnic-100g; rx-rings 3 }
                vm a on e0 { mac 02:00:00:00:04:01; ip 10.4.0.1 }
                vm b on e0 { mac 02:00:00:00:04:03; ip 10.4.0.3 }
                container c on e0 { mac 02:00:00:00:04:02; ip 10.4.0.2; protocols udp; ports 53 }
            }
            """, new SimulationOptions(Seconds: 0.01, Mix: false));
        var delivered = report.Nics[0].Vnics.Select(v => (double)v.Delivered).ToList();
        Assert.True(delivered.Min() > 0.9 * delivered.Max(), string.Join(", ", report.Nics[0].Vnics.Select(v => $"{v.Name} {v.Delivered}")));
    }

    [Fact]
    public void A_vm_does_not_starve_a_polling_container_waiting_for_its_allocations_credit() => AssertShared("""
            vm a on e0 { mac 02:00:00:00:04:01; ip 10.4.0.1 }
            container c on e0 { mac 02:00:00:00:04:02; ip 10.4.0.2; protocols udp; ports 53; bandwidth 20G; mode polling }
        """, "a", "c");
}
