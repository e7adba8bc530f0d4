using System.Text;
using NicBypass.Hosting;

namespace NicBypass.Experiments;

/// <summary>
/// Bypass saves the host (docs/experiments.md): four VMs on dedicated hardware rings — with and
/// without interrupt moderation — against the same four classified in software by the host.
/// </summary>
public static class BypassSweep
{
    public static string Run(string directory)
    {
        var offered = new[] { 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 20 };
        var placements = new[]
        {
            ("dedicated rings", "bypass-dedicated.nicdsl", TimeSpan.Zero),
            ("dedicated rings, 8 µs moderation", "bypass-dedicated.nicdsl", TimeSpan.FromMicroseconds(8)),
            ("host-classified", "bypass-host-classified.nicdsl", TimeSpan.Zero),
            ("host-classified, 8 µs moderation", "bypass-host-classified.nicdsl", TimeSpan.FromMicroseconds(8)),
        };
        var series = new List<(string, IReadOnlyList<(double, double)>)>();
        var rows = offered.ToDictionary(m => m, _ => new double[placements.Length]);
        for (var column = 0; column < placements.Length; column++)
        {
            var (name, file, moderation) = placements[column];
            var points = new List<(double, double)>();
            foreach (var mpps in offered)
            {
                const double seconds = 0.005;
                var (host, report) = Simulation.Run(Path.Combine(directory, file), new SimulationOptions(Seconds: seconds, FrameSize: 64, Mix: false, RateBitsPerSecond: Simulation.Rate(mpps, 64),
                    InterruptModeration: moderation));
                var delivered = report.Nics[0].Vnics.Sum(v => v.Delivered);
                var perFrame = host.Processors.Sum(p => p.BusyNanoseconds) / (double)Math.Max(1, delivered);
                points.Add((mpps, perFrame));
                rows[mpps][column] = perFrame;
            }
            series.Add((name, points));
        }
        var table = new StringBuilder("| offered per VM (Mpps) | dedicated: host ns per frame | host-classified | ratio | dedicated, 8 µs moderation | host-classified, 8 µs moderation | ratio |\n|---:|---:|---:|---:|---:|---:|---:|\n");
        foreach (var (mpps, row) in rows) table.Append($"| {mpps} | {row[0]:0} | {row[2]:0} | {row[0] / row[2]:0.00} | {row[1]:0} | {row[3]:0} | {row[1] / row[3]:0.00} |\n");
        Plot.Lines(Path.Combine(directory, "bypass.svg"), "Four VMs: host processor time per frame delivered", "offered per VM (Mpps)", "host ns per frame", series, logX: true);
        return table.ToString();
    }
}
