using System.Buffers.Binary;
using BenchmarkDotNet.Attributes;
using NicBypass.Dsl;
using NicBypass.Hosting;
using NicBypass.Runtime.Packets;
using NicBypass.Runtime.Rings;
using NicBypass.Runtime.Virtualization;

namespace NicBypass.Benchmarks;

/// <summary>
/// The receive path, per frame (each invocation moves 1,024 frames in batches of 32), against a
/// floor that only touches one cache line per frame:
/// <list type="bullet">
/// <item><b>bypass, whole path</b>: wire → NIC (copy, hardware classifier) → HRR → VNIC → interface → VM, four VMs on their own rings;</item>
/// <item><b>bypass, host side</b>: only what the host does once frames are on their HRRs (drain, VNIC, interface, VM);</item>
/// <item><b>host-classified, host side</b>: one ring for all four VMs, every frame classified again in software on the host.</item>
/// </list>
/// Frames are 64 bytes of an EtherType the guest ignores, so the VM's work is reading them.
/// </summary>
[MemoryDiagnoser]
public class ReceivePathBenchmarks
{
    private const int Frames = 1024;
    private const int Batch = 32;
    private const int Spread = 4096; // distinct frame buffers, so the floor touches distinct lines

    private byte[][] _frames = null!;
    private byte[] _spread = null!;
    private NetworkHost _bypass = null!;
    private NetworkHost _classified = null!;
    private ReceiveRing[] _bypassRings = null!;
    private ReceiveRing _classifiedRing = null!;

    [GlobalSetup]
    public void Setup()
    {
        _frames = Enumerable.Range(0, 4).Select(i => Frame(0x0200_0000_0001UL + (ulong)i)).ToArray();
        _spread = new byte[Spread * 128];
        for (var i = 0; i < Spread; i++) _frames[i % 4].CopyTo(_spread, i * 128);
        _bypass = Build(rings: 4);
        _classified = Build(rings: 1);
        _bypassRings = Enumerable.Range(0, 4).Select(i => (ReceiveRing)_bypass.Nics[0].ReceiveRings[i]).ToArray();
        _classifiedRing = _classified.Nics[0].ReceiveRings[0];
        Prefill(_bypass);
        Prefill(_classified);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Frames, Description = "floor: one cache line per frame")]
    public long Floor()
    {
        long sum = 0;
        var spread = _spread;
        for (var i = 0; i < Frames; i++) sum += BinaryPrimitives.ReadInt64LittleEndian(spread.AsSpan((i * 7 % Spread) * 128));
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Frames, Description = "bypass: whole path")]
    public int BypassWholePath()
    {
        var device = _bypass.Nics[0].Device;
        for (var b = 0; b < Frames / Batch; b++)
        {
            for (var i = 0; i < Batch; i++) device.Receive(_frames[i & 3]);
            _bypass.Pump();
        }
        return device.ReceiveRings[0].Count;
    }

    [Benchmark(OperationsPerInvoke = Frames, Description = "bypass: host side")]
    public int BypassHostSide() => HostSide(_bypass, i => _bypassRings[i & 3]);

    [Benchmark(OperationsPerInvoke = Frames, Description = "host-classified: host side")]
    public int HostClassifiedHostSide() => HostSide(_classified, _ => _classifiedRing);

    // Frames are put on their ring as the NIC would leave them (slot rented, bytes in place),
    // then the host's processors run: only the host's work is between the two.
    private static int HostSide(NetworkHost host, Func<int, ReceiveRing> ringOf)
    {
        var pool = host.Nics[0].Device.Pool;
        var processors = host.Processors;
        for (var b = 0; b < Frames / Batch; b++)
        {
            for (var i = 0; i < Batch; i++)
            {
                pool.TryRent(out var slot);
                ringOf(i).Enqueue(new PacketDescriptor(slot, 64));
            }
            for (var p = 0; p < processors.Count; p++) processors[p].RunOnce();
        }
        return pool.Available;
    }

    // Every pool slot holds a valid frame, so any rented slot is one the VNIC can deliver; the
    // slot's MAC decides nothing on the host-side paths (rings were chosen by "hardware").
    private void Prefill(NetworkHost host)
    {
        var pool = host.Nics[0].Device.Pool;
        for (var i = 0; i < pool.SlotCount; i++) _frames[i & 3].CopyTo(pool.Slot(i));
    }

    private static NetworkHost Build(int rings)
    {
        var text = $$"""
            host bench {
                cpus 1
                nic e0 { model simnic-10g; rx-rings {{rings}}; ring-size 1024 }
                vm a on e0 { mac 02:00:00:00:00:01; cpu 0 }
                vm b on e0 { mac 02:00:00:00:00:02; cpu 0 }
                vm c on e0 { mac 02:00:00:00:00:03; cpu 0 }
                vm d on e0 { mac 02:00:00:00:00:04; cpu 0 }
            }
            """;
        var compilation = DslCompiler.Compile("bench.nicdsl", text);
        return InterpretedHost.Build(compilation.Hosts[0]);
    }

    private static byte[] Frame(ulong destination)
    {
        var frame = new byte[64];
        EthernetHeader.WriteMac(frame, destination);
        EthernetHeader.WriteMac(frame.AsSpan(6), 0x02AA_0000_0001UL);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), 0x88B5);
        return frame;
    }
}
