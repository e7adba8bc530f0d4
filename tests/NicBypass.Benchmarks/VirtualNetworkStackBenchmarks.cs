using System.Buffers.Binary;
using System.Net;
using BenchmarkDotNet.Attributes;
using NicBypass.Runtime;
using NicBypass.Runtime.Devices;
using NicBypass.Runtime.Packets;
using NicBypass.Runtime.Stacks;
using NicBypass.Runtime.Virtualization;

namespace NicBypass.Benchmarks;

/// <summary>
/// The VNS receive path, per frame (each invocation moves 1,024 UDP datagrams of 64 payload
/// bytes, 32 at a time, from the wire to a socket the benchmark reads), against the same path
/// ending in a counting sink instead of a stack:
/// <list type="bullet">
/// <item><b>sink</b> (baseline): wire → NIC → HRR → VNIC → counting sink;</item>
/// <item><b>VNS, interrupt</b>: … → VNIC → inbound VSQ → IP → UDP → socket → read (a UDP-only stack: concurrent VSQs);</item>
/// <item><b>VNS, interrupt, TCP+UDP</b>: the same through a stack whose VSQs are mutually exclusive;</item>
/// <item><b>VNS, socket handler</b>: the datagram handed to the application in place (<c>UdpSocket.Handler</c>) instead of queued and read;</item>
/// <item><b>VNS, polling</b>: the same with the ring polled by the VNS, no allocation;</item>
/// <item><b>VNS, polling, 100G allocation</b>: the same with the bandwidth limiter consulted for every frame (it never bites) — the difference to the previous row is the limiter's cost per packet.</item>
/// </list>
/// </summary>
[MemoryDiagnoser]
public class VirtualNetworkStackBenchmarks
{
    private const int Frames = 1024;
    private const int Batch = 32;
    private const ulong Mac = 0x0200_0000_0001UL;

    private readonly byte[] _datagram = Datagram();
    private readonly byte[] _read = new byte[2048];
    private NetworkHost _sink = null!, _interrupt = null!, _exclusive = null!, _polling = null!, _limited = null!, _handled = null!;
    private long _handledBytes;
    private UdpSocket _interruptSocket = null!, _exclusiveSocket = null!, _pollingSocket = null!, _limitedSocket = null!;
    private BandwidthLimiter _limiter = null!;

    [GlobalSetup]
    public void Setup()
    {
        (_sink, _) = Build(stack: false, polling: false, bandwidth: null);
        (_interrupt, var interruptSocket) = Build(stack: true, polling: false, bandwidth: null);
        (_exclusive, var exclusiveSocket) = Build(stack: true, polling: false, bandwidth: null, StackProtocols.Tcp | StackProtocols.Udp);
        (_polling, var pollingSocket) = Build(stack: true, polling: true, bandwidth: null);
        (_limited, var limitedSocket) = Build(stack: true, polling: true, bandwidth: 100_000_000_000);
        (_interruptSocket, _exclusiveSocket, _pollingSocket, _limitedSocket) = (interruptSocket!, exclusiveSocket!, pollingSocket!, limitedSocket!);
        (_handled, var handledSocket) = Build(stack: true, polling: false, bandwidth: null);
        handledSocket!.Handler = (_, payload) => _handledBytes += payload.Length;
        _limiter = new BandwidthLimiter(100_000_000_000, 1518, TimeProvider.System);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Frames, Description = "sink: wire → VNIC → counting sink")]
    public long Sink() => Run(_sink, null);

    [Benchmark(OperationsPerInvoke = Frames, Description = "VNS, interrupt: wire → VNS → UDP socket")]
    public long Interrupt() => Run(_interrupt, _interruptSocket);

    [Benchmark(OperationsPerInvoke = Frames, Description = "VNS, interrupt, TCP+UDP stack (mutual exclusion)")]
    public long Exclusive() => Run(_exclusive, _exclusiveSocket);

    [Benchmark(OperationsPerInvoke = Frames, Description = "VNS, interrupt: wire → VNS → socket handler (in place)")]
    public long Handled() => Run(_handled, null) + _handledBytes;

    [Benchmark(OperationsPerInvoke = Frames, Description = "VNS, polling: wire → VNS → UDP socket")]
    public long Polling() => Run(_polling, _pollingSocket);

    [Benchmark(OperationsPerInvoke = Frames, Description = "VNS, polling, 100G allocation (limiter per frame)")]
    public long PollingLimited() => Run(_limited, _limitedSocket);

    [Benchmark(OperationsPerInvoke = Frames, Description = "limiter alone: clock read per frame")]
    public int LimiterAlone()
    {
        var taken = 0;
        for (var i = 0; i < Frames; i++) taken += _limiter.TryConsume(106) ? 1 : 0;
        return taken;
    }

    [Benchmark(OperationsPerInvoke = Frames, Description = "limiter alone: clock read per batch of 32")]
    public int LimiterPerBatch()
    {
        var taken = 0;
        for (var b = 0; b < Frames / Batch; b++)
        {
            var now = _limiter.Timestamp;
            for (var i = 0; i < Batch; i++) taken += _limiter.TryConsume(106, now) ? 1 : 0;
        }
        return taken;
    }

    private long Run(NetworkHost host, UdpSocket? socket)
    {
        var device = host.Nics[0].Device;
        long bytes = 0;
        for (var b = 0; b < Frames / Batch; b++)
        {
            for (var i = 0; i < Batch; i++) device.Receive(_datagram);
            host.Pump();
            if (socket is null) continue;
            while (socket.TryReceive(_read, out _, out var length)) bytes += length;
        }
        return bytes + device.Counters.Received;
    }

    private static (NetworkHost, UdpSocket?) Build(bool stack, bool polling, long? bandwidth, StackProtocols protocols = StackProtocols.Udp)
    {
        var host = new NetworkHost("bench", 1);
        var nic = host.AddNic("e0", SimNicModels.Get("simnic-10g"), new SimNicSettings(1, 1, 1024));
        var settings = new VnicSettings("c", "e0", new[] { Mac }, new[] { IPAddress.Parse("10.0.0.1") }, Cpu: 0, Bandwidth: bandwidth);
        Vnic vnic;
        UdpSocket? socket = null;
        if (stack)
        {
            var vns = host.AddNetworkStack(VnicRole.Container, settings, new StackSettings(protocols, Ports: new[] { 53 }));
            socket = vns.Stack.BindUdp(53);
            vnic = vns.Vnic;
        }
        else
        {
            vnic = host.AddDestination(VnicRole.Container, settings, new PacketDestination());
        }
        nic.BindHardwareRing(0, vnic);
        nic.Program(Mac, 0, 0, vnic);
        if (polling) host.Poll(vnic);
        host.Start();
        return (host, socket);
    }

    // 14 + 20 + 8 + 64 bytes: a UDP datagram from 10.0.0.9:4000 to 10.0.0.1:53, checksums right.
    private static byte[] Datagram()
    {
        var frame = new byte[14 + 20 + 8 + 64];
        EthernetHeader.WriteMac(frame, Mac);
        EthernetHeader.WriteMac(frame.AsSpan(6), 0x0200_0000_0009UL);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), 0x0800);
        var ip = frame.AsSpan(14, 20);
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(2), 20 + 8 + 64);
        ip[8] = 64;
        ip[9] = 17;
        new byte[] { 10, 0, 0, 9 }.CopyTo(ip.Slice(12));
        new byte[] { 10, 0, 0, 1 }.CopyTo(ip.Slice(16));
        BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(10), InternetChecksum.Compute(ip));
        var udp = frame.AsSpan(34);
        BinaryPrimitives.WriteUInt16BigEndian(udp, 4000);
        BinaryPrimitives.WriteUInt16BigEndian(udp.Slice(2), 53);
        BinaryPrimitives.WriteUInt16BigEndian(udp.Slice(4), 8 + 64);
        for (var i = 0; i < 64; i++) udp[8 + i] = (byte)i;
        var checksum = InternetChecksum.ComputeV4(ip.Slice(12, 4), ip.Slice(16, 4), 17, udp);
        BinaryPrimitives.WriteUInt16BigEndian(udp.Slice(6), checksum == 0 ? (ushort)0xFFFF : checksum);
        return frame;
    }
}
