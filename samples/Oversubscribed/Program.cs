using NicBypass.Runtime;
using NicBypass.Samples;

// Edge is generated at build time from edge.nicdsl: six of its seven VNICs share hrr1 through
// software ring sr0, which nests sr1 on its last SRR (soft-ring-width 4).
var clock = new VirtualClock();
var edge = new Oversubscribed.Edge(clock);

SampleTraffic.PrintPlacement(Oversubscribed.Edge.Placement, Console.Out);
SampleTraffic.SendToEveryVnic(edge.Host, count: 200, clock: clock);
var nic = edge.E1000g0;
Console.WriteLine($"hardware interrupts: {edge.Host.Processors.Sum(p => p.HardwareInterrupts):N0}, software interrupts: {edge.Host.Processors.Sum(p => p.SoftwareInterrupts):N0}");
Console.WriteLine($"software rings: {string.Join(" → ", nic.SoftwareRings.Select(s => $"{s.Id} ({s.Rings.Count} SRRs, {s.Counters.Received:N0} frames)"))}");
SampleTraffic.PrintDeliveries(edge.Host, Console.Out);
