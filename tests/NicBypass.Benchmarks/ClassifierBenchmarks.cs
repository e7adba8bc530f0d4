using BenchmarkDotNet.Attributes;
using NicBypass.Runtime.Classification;

namespace NicBypass.Benchmarks;

/// <summary>
/// The runtime's generic classifier lookup (<see cref="MacTable"/>) against a
/// <c>Dictionary&lt;ulong,int&gt;</c> lookup, per MAC looked up (1,024 lookups per invocation,
/// all hits, in a scrambled order).
/// </summary>
[MemoryDiagnoser]
public class ClassifierBenchmarks
{
    private const int Lookups = 1024;
    private ulong[] _probes = null!;
    private Dictionary<ulong, int> _dictionary = null!;
    private MacTable _table = null!;

    [Params(8, 4096)]
    public int Vnics { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        var macs = Enumerable.Range(0, Vnics).Select(i => 0x0200_0000_0000UL | ((ulong)random.NextInt64(1L << 40) & ~1UL)).Distinct().ToArray();
        _dictionary = new Dictionary<ulong, int>();
        _table = new MacTable(macs.Length);
        for (var i = 0; i < macs.Length; i++)
        {
            _dictionary[macs[i]] = i;
            _table.Set(macs[i], i);
        }
        _probes = Enumerable.Range(0, Lookups).Select(_ => macs[random.Next(macs.Length)]).ToArray();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Lookups, Description = "Dictionary<ulong,int>")]
    public int Dictionary()
    {
        var sum = 0;
        foreach (var mac in _probes)
        {
            _dictionary.TryGetValue(mac, out var value);
            sum += value;
        }
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Lookups, Description = "MacTable (runtime generic)")]
    public int GenericClassifier()
    {
        var sum = 0;
        var table = _table;
        foreach (var mac in _probes) sum += table.Lookup(mac);
        return sum;
    }
}
