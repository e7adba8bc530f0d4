using BenchmarkDotNet.Running;

// `--loop language|generator|simulate-small|simulate-large N`: run a benchmark's method N times with no harness,
// for a profiler (dotnet-trace collect -- ./NicBypass.Benchmarks --loop generator 60).
if (args is ["--loop", "simulate-small" or "simulate-large", var runs])
{
    var simulation = new NicBypass.Benchmarks.SimulationBenchmarks();
    simulation.Setup();
    for (var i = 0; i < int.Parse(runs); i++)
    {
        if (args[1] == "simulate-small") { simulation.BuildSmall(); simulation.Small(); }
        else { simulation.BuildLarge(); simulation.Large(); }
    }
    return;
}
if (args is ["--loop", var name, var count])
{
    var generator = new NicBypass.Benchmarks.GeneratorBenchmarks();
    generator.Setup();
    for (var i = 0; i < int.Parse(count); i++) _ = name == "language" ? generator.Language() : generator.Generator();
    return;
}
// `--veth-comparison [ROUNDS]`: issue 15's table — Linux's TCP over veth (iperf3, one core and
// unpinned) against the simulated TCP path, alternating (as root, with iperf3 and iproute2).
if (args is ["--veth-comparison", ..] && args.Length <= 2)
{
    NicBypass.Benchmarks.VethComparison.Run(args.Length == 2 ? int.Parse(args[1]) : 8);
    return;
}
// `--emit FILE`: write the source generated for the benchmark's 1,000-VNIC host.
if (args is ["--emit", var file])
{
    var driver = NicBypass.Benchmarks.GeneratorRun.Driver("/bench/big.nicdsl", NicBypass.Benchmarks.LargeHostFile.Create(1000)).RunGenerators(NicBypass.Benchmarks.GeneratorRun.EmptyCompilation());
    File.WriteAllText(file, driver.GetRunResult().GeneratedTrees[0].ToString());
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(NicBypass.Benchmarks.LanguageBenchmarks).Assembly).Run(args);
