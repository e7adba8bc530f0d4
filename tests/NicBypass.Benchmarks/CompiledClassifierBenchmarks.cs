using BenchmarkDotNet.Attributes;
using NicBypass.Runtime;
using NicBypass.Benchmarks.Hosts;
using NicBypass.Runtime.Classification;

namespace NicBypass.Benchmarks;

/// <summary>
/// The classifier the generator emitted at this project's build (Hosts/classifier-N.nicdsl),
/// as loaded into the NIC's hardware classifier, against Dictionary, FrozenDictionary and the runtime's generic
/// MacTable; per lookup, 1,024 hits in scrambled order per invocation.
/// </summary>
[MemoryDiagnoser]
public class CompiledClassifierBenchmarks
{
    private const int Lookups = 1024;
    private ulong[] _probes = null!;
    private Dictionary<ulong, int> _dictionary = null!;
    private System.Collections.Frozen.FrozenDictionary<ulong, int> _frozen = null!;
    private MacTable _table = null!;
    private IMacLookup _generated = null!;

    [Params(8, 64, 1024, 4096)]
    public int Vnics { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var host = Vnics switch
        {
            8 => new Classifier8(new VirtualClock()).Host,
            64 => new Classifier64(new VirtualClock()).Host,
            1024 => new Classifier1024(new VirtualClock()).Host,
            _ => new Classifier4096(new VirtualClock()).Host,
        };
        var classifier = (PacketClassifier)host.Nics[0].Info.Classifier.Program;
        _generated = classifier.ActiveLookup;
        if (_generated is MacTable) throw new InvalidOperationException("the generated lookup was not loaded");
        var macs = classifier.Rules.Select(r => r.Mac).ToArray();
        _dictionary = new Dictionary<ulong, int>();
        _table = new MacTable(macs.Length);
        for (var i = 0; i < macs.Length; i++)
        {
            _dictionary[macs[i]] = i;
            _table.Set(macs[i], i);
        }
        _frozen = System.Collections.Frozen.FrozenDictionary.ToFrozenDictionary(_dictionary);
        var random = new Random(42);
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
        IMacLookup lookup = _table;
        foreach (var mac in _probes) sum += lookup.Lookup(mac);
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Lookups, Description = "generated (compiled in this build)")]
    public int Generated()
    {
        var sum = 0;
        var lookup = _generated;
        foreach (var mac in _probes) sum += lookup.Lookup(mac);
        return sum;
    }
}
