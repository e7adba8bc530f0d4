using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(NicBypass.Benchmarks.LanguageBenchmarks).Assembly).Run(args);
