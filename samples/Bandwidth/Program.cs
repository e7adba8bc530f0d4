using NicBypass.Runtime;
using NicBypass.Samples;

// Limits is generated at build time from limits.nicdsl.
var clock = new VirtualClock();
var limits = new Bandwidth.Limits(clock);

SampleTraffic.PrintPlacement(Bandwidth.Limits.Placement, Console.Out);
// Every VNIC is offered twice its allocation for one second of virtual time, all at once.
limits.Host.Offer(TimeSpan.FromSeconds(1), 1000, limits.Host.Vnics.Select(v => (v.Name, 2 * v.Settings.Bandwidth!.Value)).ToArray());
SampleTraffic.PrintDeliveries(limits.Host, Console.Out);
foreach (var vnic in limits.Host.Vnics)
{
    var allocation = vnic.Settings.Bandwidth!.Value;
    Console.WriteLine($"{vnic.Name}: delivered {vnic.Counters.DeliveredBytes * 8 / 1e6:0.###} Mbit in 1 s for an allocation of {allocation / 1e6:0.###} Mbit/s");
}
