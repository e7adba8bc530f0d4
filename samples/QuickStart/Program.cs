using NicBypass.Runtime;
using NicBypass.Samples;

// Web01 is generated at build time from web01.nicdsl by the NicBypass source generator.
var clock = new VirtualClock();
var web01 = new QuickStart.Web01(clock);

SampleTraffic.PrintPlacement(QuickStart.Web01.Placement, Console.Out);
SampleTraffic.SendToEveryVnic(web01.Host, count: 1000, clock: clock); // a second of virtual time
Console.WriteLine($"guest1 saw {web01.Guest1.Counters.Received:N0} frames; its interface flipped their bits ({web01.Guest1.Interface.Transform}).");
SampleTraffic.PrintDeliveries(web01.Host, Console.Out);
