using BenchmarkDotNet.Attributes;
using NicBypass.Dsl;
using NicBypass.Dsl.Binding;
using NicBypass.Dsl.Parsing;
using NicBypass.Dsl.Text;

namespace NicBypass.Benchmarks;

/// <summary>
/// The language pipeline on a generated 1,000-VNIC file (target: parse + validate + plan ≤ 50 ms).
/// Baseline: parsing alone, so the ratios show what binding and planning add on top.
/// </summary>
[MemoryDiagnoser]
public class LanguageBenchmarks
{
    private SourceFile _file = null!;

    [Params(1000)]
    public int Vnics { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _file = new SourceFile("big.nicdsl", LargeHostFile.Create(Vnics));
        var compilation = DslCompiler.Compile(new[] { _file });
        if (compilation.HasErrors || compilation.Hosts[0].Definition.Vnics.Count != Vnics)
        {
            throw new InvalidOperationException("the generated file must be valid:\n" + string.Join("\n", compilation.Diagnostics.Take(5)));
        }
    }

    [Benchmark(Baseline = true, Description = "parse")]
    public int Parse() => DslParser.Parse(_file).Document.Hosts.Count;

    [Benchmark(Description = "parse + bind/validate")]
    public int ParseAndBind() => Binder.Bind(new[] { DslParser.Parse(_file).Document }).Hosts.Count;

    [Benchmark(Description = "parse + validate + plan")]
    public int Compile() => DslCompiler.Compile(new[] { _file }).Hosts.Count;
}
