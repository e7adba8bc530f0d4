using System.Text;
using NicBypass.Hosting;

namespace NicBypass.Experiments;

/// <summary>Receive livelock vs dynamic polling (docs/experiments.md): one VM, one processor, 64-byte frames, offered load swept.</summary>
public static class LivelockSweep
{
    public static string Run(string directory)
    {
        var topology = Path.Combine(directory, "one-processor.nicdsl");
        var offered = new[] { 1.0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 24, 28, 32 };
        var polling = new List<(double, double)>();
        var interrupts = new List<(double, double)>();
        var table = new StringBuilder("| offered (Mpps) | delivered, dynamic polling (Mpps) | delivered, interrupts only (Mpps) |\n|---:|---:|---:|\n");
        foreach (var mpps in offered)
        {
            var a = Delivered(topology, mpps, dynamicPolling: true);
            var b = Delivered(topology, mpps, dynamicPolling: false);
            polling.Add((mpps, a));
            interrupts.Add((mpps, b));
            table.Append($"| {mpps:0} | {a:0.00} | {b:0.00} |\n");
        }
        Plot.Lines(Path.Combine(directory, "livelock.svg"), "One VM, one processor: delivered vs offered (64-byte frames)", "offered (Mpps)", "delivered (Mpps)",
            new[] { ("dynamic polling", (IReadOnlyList<(double, double)>)polling), ("interrupts only", interrupts) });
        return table.ToString();
    }

    private static double Delivered(string topology, double mpps, bool dynamicPolling)
    {
        const double seconds = 0.005;
        var (_, report) = Simulation.Run(topology, new SimulationOptions(Seconds: seconds, FrameSize: 64, Mix: false, RateBitsPerSecond: Simulation.Rate(mpps, 64)), dynamicPolling);
        return report.Nics[0].Vnics[0].Delivered / seconds / 1e6;
    }
}
