using System.Collections.Frozen;
using System.Reflection;
using BenchmarkDotNet.Attributes;
using NicBypass.Runtime.Classification;

namespace NicBypass.Benchmarks;

/// <summary>
/// The classifier the generator emits for a host (compiled from its real output and loaded)
/// against Dictionary, FrozenDictionary and the runtime's generic MacTable, per lookup (1,024
/// hits in scrambled order per invocation). Target: generated ≤ 0.5× Dictionary, 0 B.
/// </summary>
// In process: the benchmark loads the source generator (and its dependencies) into Roslyn,
// which the separately built BenchmarkDotNet runner project does not carry along.
[InProcess]
[MemoryDiagnoser]
public class GeneratedClassifierBenchmarks
{
    private const int Lookups = 1024;
    private ulong[] _probes = null!;
    private Dictionary<ulong, int> _dictionary = null!;
    private FrozenDictionary<ulong, int> _frozen = null!;
    private MacTable _table = null!;
    private IMacLookup _generated = null!;

    [Params(8, 64, 1024, 4096)]
    public int Vnics { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        var macs = new HashSet<ulong>();
        while (macs.Count < Vnics) macs.Add(0x0200_0000_0000UL | ((ulong)random.NextInt64(1L << 40) & ~0x0100_0000_0000UL));
        var ordered = macs.ToArray();
        // One NIC whose hardware classifier holds every MAC; a wide software ring keeps the file small.
        var text = "host bench {\n nic e0 { model simnic-100g; rx-rings 64; soft-ring-width 4096 }\n" +
                   string.Concat(ordered.Select((m, i) => $" vm v{i} on e0 {{ mac {Mac(m)} }}\n")) + "}\n";
        var assembly = GeneratorRun.Load(text);
        var type = assembly.GetTypes().Single(t => t.Name == "E0HardwareClassifier");
        _generated = (IMacLookup)Activator.CreateInstance(type, nonPublic: true)!;

        _dictionary = new Dictionary<ulong, int>();
        _table = new MacTable(ordered.Length);
        for (var i = 0; i < ordered.Length; i++)
        {
            _dictionary[ordered[i]] = i;
            _table.Set(ordered[i], i);
        }
        _frozen = _dictionary.ToFrozenDictionary();
        // The hardware program lists VNICs in placement order (= declaration order here).
        for (var i = 0; i < ordered.Length; i++)
        {
            if (_generated.Lookup(ordered[i]) != i) throw new InvalidOperationException("the generated classifier disagrees with the rules");
        }
        _probes = Enumerable.Range(0, Lookups).Select(_ => ordered[random.Next(ordered.Length)]).ToArray();
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

    [Benchmark(OperationsPerInvoke = Lookups, Description = "FrozenDictionary<ulong,int>")]
    public int Frozen()
    {
        var sum = 0;
        foreach (var mac in _probes)
        {
            _frozen.TryGetValue(mac, out var value);
            sum += value;
        }
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Lookups, Description = "MacTable (runtime generic)")]
    public int Generic()
    {
        var sum = 0;
        var table = _table;
        foreach (var mac in _probes) sum += table.Lookup(mac);
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Lookups, Description = "generated (via IMacLookup)")]
    public int Generated()
    {
        var sum = 0;
        var lookup = _generated;
        foreach (var mac in _probes) sum += lookup.Lookup(mac);
        return sum;
    }

    private static string Mac(ulong mac) => string.Join(":", Enumerable.Range(0, 6).Select(i => ((mac >> (40 - 8 * i)) & 0xFF).ToString("x2")));
}
