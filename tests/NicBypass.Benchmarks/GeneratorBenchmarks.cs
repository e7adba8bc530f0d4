using BenchmarkDotNet.Attributes;
using Microsoft.CodeAnalysis.CSharp;
using NicBypass.Dsl;

namespace NicBypass.Benchmarks;

/// <summary>
/// The source generator on a 1,000-VNIC file, from scratch (a new driver each time, nothing
/// cached): target ≤ 100 ms. Baseline: the language pipeline alone (parse + validate + plan).
/// </summary>
// In process: the benchmark loads the source generator (and its dependencies) into Roslyn,
// which the separately built BenchmarkDotNet runner project does not carry along.
[InProcess]
[MemoryDiagnoser]
public class GeneratorBenchmarks
{
    private string _text = null!;
    private CSharpCompilation _compilation = null!;

    [GlobalSetup]
    public void Setup()
    {
        _text = LargeHostFile.Create(1000);
        _compilation = GeneratorRun.EmptyCompilation();
        var result = GeneratorRun.Driver("/bench/big.nicdsl", _text).RunGenerators(_compilation).GetRunResult();
        if (result.Diagnostics.Any(d => d.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error) || result.GeneratedTrees.Length != 1)
        {
            throw new InvalidOperationException("the generator must succeed on the file: " + string.Join("\n", result.Diagnostics.Take(5)));
        }
    }

    [Benchmark(Baseline = true, Description = "language: parse + validate + plan")]
    public int Language() => DslCompiler.Compile("big.nicdsl", _text).Hosts.Count;

    [Benchmark(Description = "generator: diagnostics + emitted host class")]
    public int Generator() => GeneratorRun.Driver("/bench/big.nicdsl", _text).RunGenerators(_compilation).GetRunResult().GeneratedTrees.Length;
}
