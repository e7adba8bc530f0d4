using NicBypass.Runtime;
using NicBypass.Samples;

// Lab is generated at build time from lab.nicdsl.
var clock = new VirtualClock();
var lab = new MultiNic.Lab(clock);

foreach (var nic in lab.Host.Nics)
{
    var info = nic.Info;
    Console.WriteLine($"{nic.Name}: {info.Model} via driver {info.Driver}: {info.ReceiveRings.Count} receive rings, {info.TransmitRings.Count} transmit rings, " +
                      $"classifier {info.Classifier.Fields} with {info.Classifier.Entries} entries, frames up to {info.MaxFrameLength} bytes");
}
SampleTraffic.PrintPlacement(MultiNic.Lab.Placement, Console.Out);
SampleTraffic.SendToEveryVnic(lab.Host, count: 500, clock: clock);
SampleTraffic.PrintDeliveries(lab.Host, Console.Out);
