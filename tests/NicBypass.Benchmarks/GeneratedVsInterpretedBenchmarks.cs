using System.Buffers.Binary;
using BenchmarkDotNet.Attributes;
using NicBypass.Benchmarks.Hosts;
using NicBypass.Dsl;
using NicBypass.Hosting;
using NicBypass.Runtime;
using NicBypass.Runtime.Packets;
using NicBypass.Runtime.Virtualization;

namespace NicBypass.Benchmarks;

/// <summary>
/// The whole receive path of the same host (Hosts/classifier-64.nicdsl: 64 VMs, each on its own
/// hardware ring) built two ways: by the interpreter at run time (baseline) and by the class the
/// generator emitted at build time. Per frame; 1,024 frames of 64 bytes per invocation, round
/// robin over the VMs, the host pumped every 32 frames.
/// </summary>
[MemoryDiagnoser]
public class GeneratedVsInterpretedBenchmarks
{
    private const int Frames = 1024;
    private NetworkHost _interpreted = null!;
    private NetworkHost _generated = null!;
    private byte[][] _frames = null!;

    [GlobalSetup]
    public void Setup()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Hosts", "classifier-64.nicdsl");
        var text = File.Exists(path) ? File.ReadAllText(path) : throw new FileNotFoundException(path);
        var compilation = DslCompiler.Compile(path, text);
        _interpreted = InterpretedHost.Build(compilation.Hosts[0], new VirtualClock());
        _generated = new Classifier64(new VirtualClock()).Host;
        _frames = _generated.Vnics.Select(v =>
        {
            var frame = new byte[64];
            EthernetHeader.WriteMac(frame, v.Macs[0]);
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), 0x88B5);
            return frame;
        }).ToArray();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Frames, Description = "interpreted host")]
    public long Interpreted() => Run(_interpreted);

    [Benchmark(OperationsPerInvoke = Frames, Description = "generated host")]
    public long Generated() => Run(_generated);

    private long Run(NetworkHost host)
    {
        var device = host.Nics[0].Device;
        var frames = _frames;
        for (var i = 0; i < Frames; i++)
        {
            device.Receive(frames[i % frames.Length]);
            if ((i & 31) == 31) host.Pump();
        }
        return device.Counters.Received;
    }
}
