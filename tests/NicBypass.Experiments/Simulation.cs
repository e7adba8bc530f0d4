using NicBypass.Dsl.Text;
using NicBypass.Hosting;
using NicBypass.Runtime;
using NicBypass.Runtime.Virtualization;

namespace NicBypass.Experiments;

/// <summary>One simulation run of a topology under the default cost table, as <c>nicbypass simulate</c> runs it.</summary>
public static class Simulation
{
    public static (NetworkHost Host, TrafficReport Report) Run(string topology, SimulationOptions options)
    {
        var clock = new VirtualClock();
        var (compilation, host) = HostLoader.Load(new[] { new SourceFile(topology, File.ReadAllText(topology)) }, time: clock);
        if (host is null) throw new InvalidOperationException($"{topology}: {string.Join("; ", HostLoader.Errors(compilation))}");
        host.Costs = CostTable.Default;
        return (host, TrafficSimulation.Run(host, clock, options));
    }

    /// <summary>The rate, in bits per second, of <paramref name="mpps"/> million frames of <paramref name="frameSize"/> bytes a second.</summary>
    public static long Rate(double mpps, int frameSize) => (long)(mpps * 1e6 * frameSize * 8);
}
