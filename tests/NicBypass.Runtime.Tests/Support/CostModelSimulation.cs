using NicBypass.Hosting;
using NicBypass.Runtime.Virtualization;

namespace NicBypass.Runtime.Tests;

/// <summary>What <c>nicbypass simulate</c> runs, in-process: a topology built on virtual time with the default cost table, offered the options' traffic (the experiment tests' bench).</summary>
internal static class CostModelSimulation
{
    public static (NetworkHost Host, TrafficReport Report) Run(string topology, SimulationOptions options)
    {
        var clock = new VirtualClock();
        var (host, _) = TestHost.Build(topology, clock);
        host.Costs = CostTable.Default;
        return (host, TrafficSimulation.Run(host, clock, options));
    }
}
