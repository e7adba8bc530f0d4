using System.Text;
using NicBypass.Hosting;

namespace NicBypass.Experiments;

/// <summary>Bypass saves the host (docs/experiments.md): four VMs on dedicated hardware rings against the same four classified in software by the host.</summary>
public static class BypassSweep
{
    public static string Run(string directory)
    {
        var offered = new[] { 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 20 };
        var series = new List<(string, IReadOnlyList<(double, double)>)>();
        var table = new StringBuilder("| offered per VM (Mpps) | dedicated: host ns per frame | host-classified: host ns per frame |\n|---:|---:|---:|\n");
        var rows = offered.ToDictionary(m => m, _ => new double[2]);
        foreach (var (name, file, column) in new[] { ("dedicated rings", "bypass-dedicated.nicdsl", 0), ("host-classified", "bypass-host-classified.nicdsl", 1) })
        {
            var points = new List<(double, double)>();
            foreach (var mpps in offered)
            {
                const double seconds = 0.005;
                var (host, report) = Simulation.Run(Path.Combine(directory, file), new SimulationOptions(Seconds: seconds, FrameSize: 64, Mix: false, RateBitsPerSecond: Simulation.Rate(mpps, 64)));
                var delivered = report.Nics[0].Vnics.Sum(v => v.Delivered);
                var perFrame = host.Processors.Sum(p => p.BusyNanoseconds) / (double)Math.Max(1, delivered);
                points.Add((mpps, perFrame));
                rows[mpps][column] = perFrame;
            }
            series.Add((name, points));
        }
        foreach (var (mpps, row) in rows) table.Append($"| {mpps} | {row[0]:0} | {row[1]:0} |\n");
        Plot.Lines(Path.Combine(directory, "bypass.svg"), "Four VMs: host processor time per frame delivered", "offered per VM (Mpps)", "host ns per frame", series, logX: true);
        return table.ToString();
    }
}
