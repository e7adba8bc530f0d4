using System.Net;
using BenchmarkDotNet.Attributes;
using NicBypass.Runtime.Devices;
using NicBypass.Runtime.Packets;
using NicBypass.Runtime.Stacks;
using NicBypass.Runtime.Virtualization;

namespace NicBypass.Benchmarks;

/// <summary>
/// The transmit path, per frame (each invocation sends 1,024 UDP datagrams of 64 payload bytes,
/// the transmit rings drained to the wire every 32), against a prebuilt frame handed to the VNIC:
/// <list type="bullet">
/// <item><b>VNIC</b> (baseline): a ready frame → VNIC (spoofing check) → transmit ring → wire;</item>
/// <item><b>UDP socket</b>: a socket send → the VNS's stack (headers, checksum, neighbour) → outbound VSQ → VNIC → transmit ring → wire.</item>
/// </list>
/// The socket row is the figure behind <c>CostTable.TransmitNanoseconds</c>.
/// </summary>
[MemoryDiagnoser]
public class TransmitPathBenchmarks
{
    private const int Frames = 1024;
    private const int Batch = 32;
    private NetworkHost _host = null!;
    private Vnic _vnic = null!;
    private UdpSocket _socket = null!;
    private SimulatedNic _nic = null!;
    private readonly byte[] _payload = new byte[64];
    private byte[] _frame = null!;
    private readonly NetworkEndpoint _peer = NetworkEndpoint.Parse("10.0.0.2", 9);

    [GlobalSetup]
    public void Setup()
    {
        _host = new NetworkHost("bench", 1);
        var nic = _host.AddNic("e0", SimNicModels.Get("simnic-10g"), new SimNicSettings(1, 1, 1024));
        var vns = _host.AddNetworkStack(VnicRole.Container, new VnicSettings("c", "e0", new[] { 0x0200_0000_0001UL }, new[] { IPAddress.Parse("10.0.0.1") }, Cpu: 0),
            new StackSettings(StackProtocols.Udp, Ports: new[] { 53 }));
        nic.BindHardwareRing(0, vns.Vnic);
        nic.Program(0x0200_0000_0001UL, 0, 0, vns.Vnic);
        _host.Start();
        vns.Stack.AddNeighbor(NetworkAddress.Parse("10.0.0.2"), 0x0200_0000_0002UL);
        _socket = vns.Stack.BindUdp(53);
        _vnic = vns.Vnic;
        _nic = nic.Device;
        _frame = NicBypass.Runtime.Packets.Frames.Udp(0x0200_0000_0001UL, 0x0200_0000_0002UL, new IPEndPoint(IPAddress.Parse("10.0.0.1"), 53), new IPEndPoint(IPAddress.Parse("10.0.0.2"), 9), _payload);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Frames, Description = "VNIC: ready frame → transmit ring → wire")]
    public int Vnic()
    {
        var sent = 0;
        for (var i = 0; i < Frames; i += Batch)
        {
            for (var j = 0; j < Batch; j++) sent += _vnic.Transmit(_frame) == SendStatus.Sent ? 1 : 0;
            _nic.DrainTransmitRings();
        }
        return sent;
    }

    [Benchmark(OperationsPerInvoke = Frames, Description = "UDP socket: send → VNS stack → VNIC → transmit ring → wire")]
    public int Socket()
    {
        var sent = 0;
        for (var i = 0; i < Frames; i += Batch)
        {
            for (var j = 0; j < Batch; j++) sent += _socket.TrySendTo(_peer, _payload) == SendStatus.Sent ? 1 : 0;
            _nic.DrainTransmitRings();
        }
        return sent;
    }
}
