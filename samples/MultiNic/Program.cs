using NicBypass.Runtime;
using NicBypass.Samples;

// Lab is generated at build time from lab.nicdsl.
var lab = new MultiNic.Lab(new VirtualClock());

foreach (var nic in lab.Host.Nics)
{
    var info = nic.Info;
    Console.WriteLine($"{nic.Name}: {info.Model} via driver {info.Driver}: {info.ReceiveRings.Count} receive rings, {info.TransmitRings.Count} transmit rings, " +
                      $"classifier {info.Classifier.Fields} with {info.Classifier.Entries} entries, frames up to {info.MaxFrameLength} bytes");
}
SampleTraffic.PrintPlacement(MultiNic.Lab.Placement, Console.Out);
SampleTraffic.SendToEveryVnic(lab.Host, count: 500);
SampleTraffic.PrintDeliveries(lab.Host, Console.Out);
