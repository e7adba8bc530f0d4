using System.Buffers.Binary;
using BenchmarkDotNet.Attributes;
using NicBypass.Benchmarks.Hosts;
using NicBypass.Runtime;
using NicBypass.Runtime.Classification;
using NicBypass.Runtime.Packets;

namespace NicBypass.Benchmarks;

/// <summary>
/// The whole hardware-classifier decision of simnic-100g (destination MAC through the lookup the
/// generator emitted, then VLAN, destination IP, protocol and port: docs/architecture.md § Classification as advertised) for 1,024 TCP
/// frames to 64 containers in scrambled order, against the baseline the issue names: reading the
/// MAC and IP out of the same frames and looking them up in a <c>Dictionary&lt;(ulong, uint), int&gt;</c>.
/// </summary>
[MemoryDiagnoser]
public class ClassifierFieldsBenchmarks
{
    private const int Frames = 1024;
    private byte[][] _frames = null!;
    private EthernetHeader[] _headers = null!;
    private PacketClassifier _classifier = null!;
    private Dictionary<(ulong, uint), int> _dictionary = null!;

    [GlobalSetup]
    public void Setup()
    {
        var host = new Fields64(new VirtualClock()).Host;
        _classifier = (PacketClassifier)host.Nics[0].Info.Classifier.Program;
        if (_classifier.ActiveLookup is MacTable) throw new InvalidOperationException("the generated lookup was not loaded");
        var rules = _classifier.Rules;
        _dictionary = new Dictionary<(ulong, uint), int>();
        for (var i = 0; i < rules.Count; i++)
        {
            _dictionary[(rules[i].Mac, BinaryPrimitives.ReadUInt32BigEndian(rules[i].Ips![0].GetAddressBytes()))] = i;
        }
        var random = new Random(42);
        _frames = Enumerable.Range(0, Frames).Select(_ => Frame(rules[random.Next(rules.Count)], random.Next(2) == 0 ? 80 : 443)).ToArray();
        _headers = _frames.Select(f => EthernetHeader.TryRead(f, out var h) ? h : throw new InvalidOperationException()).ToArray();
        if (Classifier() != Baseline()) throw new InvalidOperationException("the two do not agree");
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Frames, Description = "Dictionary<(ulong,uint),int> on MAC + IP")]
    public int Baseline()
    {
        var sum = 0;
        foreach (var frame in _frames)
        {
            var key = (EthernetHeader.ReadMac(frame), BinaryPrimitives.ReadUInt32BigEndian(frame.AsSpan(EthernetHeader.Length + 16)));
            _dictionary.TryGetValue(key, out var rule);
            sum += rule;
        }
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Frames, Description = "hardware classifier: generated lookup + VLAN, IP, port")]
    public int Classifier()
    {
        var sum = 0;
        var frames = _frames;
        var headers = _headers;
        for (var i = 0; i < frames.Length; i++)
        {
            _classifier.Classify(frames[i], headers[i], out var rule);
            sum += rule;
        }
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Frames, Description = "(part of it: the generated lookup's Match alone)")]
    public int MatchOnly()
    {
        var sum = 0;
        var fused = (IFieldLookup)_classifier.ActiveLookup;
        var frames = _frames;
        var headers = _headers;
        for (var i = 0; i < frames.Length; i++)
        {
            sum += (int)fused.Match(frames[i], headers[i], out var rule) + rule;
        }
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Frames, Description = "(floor: reading MAC, IP and port out of the frames, no decision)")]
    public int ReadsOnly()
    {
        var sum = 0;
        foreach (var frame in _frames)
        {
            sum += (int)EthernetHeader.ReadMac(frame) ^ (int)BinaryPrimitives.ReadUInt32BigEndian(frame.AsSpan(EthernetHeader.Length + 16))
                   ^ BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(EthernetHeader.Length + 22));
        }
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Frames, Description = "(part of it: the generated MAC lookup alone)")]
    public int LookupOnly()
    {
        var sum = 0;
        var lookup = _classifier.ActiveLookup;
        foreach (var header in _headers) sum += lookup.Lookup(header.Destination);
        return sum;
    }

    // A TCP SYN to the rule's MAC and first IP, on `port`.
    private static byte[] Frame(ClassifierRule rule, int port)
    {
        var frame = new byte[EthernetHeader.Length + 20 + 20];
        EthernetHeader.WriteMac(frame, rule.Mac);
        EthernetHeader.WriteMac(frame.AsSpan(6), 0x02_AA_00_00_00_01UL);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), EtherType.Ipv4);
        var ip = frame.AsSpan(EthernetHeader.Length);
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(2), 40);
        ip[8] = 64;
        ip[9] = IpProtocol.Tcp;
        BinaryPrimitives.WriteUInt32BigEndian(ip.Slice(12), 0x0A_63_00_01);
        rule.Ips![0].GetAddressBytes().CopyTo(ip.Slice(16));
        BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(20), 40000);
        BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(22), (ushort)port);
        ip[32] = 0x50;
        ip[33] = 0x02;
        return frame;
    }
}
