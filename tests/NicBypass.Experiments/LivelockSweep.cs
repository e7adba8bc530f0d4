using System.Text;
using NicBypass.Hosting;

namespace NicBypass.Experiments;

/// <summary>
/// Receive livelock vs dynamic polling (docs/experiments.md): one VM, and one container, each on
/// one processor, offered 64-byte frames at rising rates, with dynamic polling and with
/// interrupts only.
/// </summary>
public static class LivelockSweep
{
    public static string Run(string directory)
    {
        var text = new StringBuilder();
        text.Append(Sweep(directory, "one-processor.nicdsl", "livelock.svg", "One VM, one processor: delivered vs offered (64-byte frames)",
            new[] { 1.0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 24, 28, 32 }, guest: true));
        text.AppendLine();
        text.Append(Sweep(directory, "one-container.nicdsl", "livelock-container.svg", "One container, one processor: delivered to its socket vs offered",
            new[] { 0.2, 0.4, 0.6, 0.8, 0.9, 1, 1.5, 2, 4, 8, 12, 16, 24 }, guest: false));
        return text.ToString();
    }

    private static string Sweep(string directory, string file, string plot, string title, double[] offered, bool guest)
    {
        var topology = Path.Combine(directory, file);
        var polling = new List<(double, double)>();
        var interrupts = new List<(double, double)>();
        var table = new StringBuilder($"{title}\n| offered (Mpps) | delivered, dynamic polling (Mpps) | interrupts per frame | delivered, interrupts only (Mpps) | interrupts per frame |\n|---:|---:|---:|---:|---:|\n");
        foreach (var mpps in offered)
        {
            var a = Delivered(topology, mpps, dynamicPolling: true, guest);
            var b = Delivered(topology, mpps, dynamicPolling: false, guest);
            polling.Add((mpps, a.Mpps));
            interrupts.Add((mpps, b.Mpps));
            table.Append($"| {mpps:0.#} | {a.Mpps:0.00} | {a.InterruptsPerFrame:0.000} | {b.Mpps:0.00} | {b.InterruptsPerFrame:0.000} |\n");
        }
        Plot.Lines(Path.Combine(directory, plot), title, "offered (Mpps)", "delivered (Mpps)",
            new[] { ("dynamic polling", (IReadOnlyList<(double, double)>)polling), ("interrupts only", interrupts) }, logX: !guest);
        return table.ToString();
    }

    // Delivered: to the VM (its VNIC), or to the container's application (its socket).
    private static (double Mpps, double InterruptsPerFrame) Delivered(string topology, double mpps, bool dynamicPolling, bool guest)
    {
        const double seconds = 0.005;
        var (_, report) = Simulation.Run(topology, new SimulationOptions(Seconds: seconds, FrameSize: 64, Mix: false, RateBitsPerSecond: Simulation.Rate(mpps, 64), InterruptsOnly: !dynamicPolling));
        var vnic = report.Nics[0].Vnics[0];
        var delivered = guest ? vnic.Delivered : vnic.Stack!.Delivered;
        return (delivered / seconds / 1e6, report.Cpus![0].HardwareInterrupts / (double)Math.Max(1, delivered));
    }
}
