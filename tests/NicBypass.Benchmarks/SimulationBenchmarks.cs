using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using NicBypass.Dsl;
using NicBypass.Hosting;
using NicBypass.Runtime;
using NicBypass.Runtime.Virtualization;

namespace NicBypass.Benchmarks;

/// <summary>
/// Simulation speed: <c>TrafficSimulation.Run</c> (what <c>nicbypass simulate</c> runs) with the
/// default cost table, 64-byte unicast frames, the same 156,250 frames (40 Gbit/s for 2 ms)
/// offered in all to a 10-VNIC host (baseline) and to a 1,000-VNIC host (a third each VMs,
/// containers and services, 64 processors, one simnic-100g NIC for all, no allocations) — so
/// the ratio says what the host's size costs each event. A host is built fresh for each run
/// (not timed); one run per iteration.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 5)]
public class SimulationBenchmarks
{
    private const int FrameSize = 64;
    private const double Seconds = 0.002;
    private const double TotalBitsPerSecond = 40e9; // within the one 100G link, wire overhead included

    private CompiledHost _small = null!, _large = null!;
    private NetworkHost _host = null!;
    private VirtualClock _clock = null!;

    [GlobalSetup]
    public void Setup()
    {
        _small = DslCompiler.Compile("small.nicdsl", Topology(10)).Hosts[0];
        _large = DslCompiler.Compile("large.nicdsl", Topology(1000)).Hosts[0];
    }

    private static string Topology(int vnics)
    {
        var text = new System.Text.StringBuilder("host sim {\n    cpus 64\n    nic e0 { model simnic-100g; rx-rings 64; ring-size 4096 }\n");
        for (var i = 0; i < vnics; i++)
        {
            var kind = (i % 3) switch { 0 => "vm", 1 => "container", _ => "service" };
            text.Append($"    {kind} t{i} on e0 {{ mac 02:00:00:00:{i >> 8:x2}:{i & 0xff:x2}; ip 10.{i >> 8}.{i & 0xff}.1/8; cpu {i % 64}");
            text.Append(kind == "vm" ? " }\n" : "; protocols udp; ports 7 }\n");
        }
        return text.Append("}\n").ToString();
    }

    [IterationSetup(Target = nameof(Small))]
    public void BuildSmall() => Build(_small);

    [IterationSetup(Target = nameof(Large))]
    public void BuildLarge() => Build(_large);

    private void Build(CompiledHost compiled)
    {
        _clock = new VirtualClock();
        _host = InterpretedHost.Build(compiled, _clock);
        _host.Costs = CostTable.Default;
    }

    [Benchmark(Baseline = true, Description = "simulate 156,250 frames: 10-VNIC host")]
    public long Small() => Run(10);

    [Benchmark(Description = "simulate 156,250 frames: 1,000-VNIC host")]
    public long Large() => Run(1000);

    private long Run(int vnics)
    {
        var report = TrafficSimulation.Run(_host, _clock, new SimulationOptions(Seconds: Seconds, FrameSize: FrameSize, Mix: false,
            RateBitsPerSecond: (long)(TotalBitsPerSecond / vnics)));
        return report.Frames;
    }
}
