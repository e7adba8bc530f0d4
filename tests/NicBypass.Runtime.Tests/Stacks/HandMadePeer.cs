using System.Net;
using NicBypass.Runtime.Devices;
using NicBypass.Runtime.Stacks;
using NicBypass.Runtime.Virtualization;
using PacketDotNet;

namespace NicBypass.Runtime.Tests;

/// <summary>
/// A container serving TCP port 80 and a peer made by hand: each segment the peer sends is a frame
/// built here and put on the NIC's wire, each the container sends is captured.
/// </summary>
internal static class HandMadePeer
{
    internal const ulong Mac = 0x02_00_00_00_00_01;
    internal const string Peer = "192.168.10.1";
    internal const uint PeerIss = 1000;
    internal const uint Data = PeerIss + 1;

    internal sealed record Connected(NetworkHost Host, VirtualClock Clock, CapturingWire Wire, TcpConnection Connection, uint OurNext)
    {
        public void Send(byte[] frame)
        {
            Host.Nic("e0").Device.Receive(frame);
            Host.Pump();
        }
    }

    /// <summary>A one-NIC host with a container "web" (MAC <see cref="Mac"/>, 192.168.10.20 and any <paramref name="more"/> addresses) on its own ring, started, its wire captured.</summary>
    internal static (NetworkHost Host, VirtualClock Clock, CapturingWire Wire, VirtualNetworkStack Stack) Container(StackSettings settings, params string[] more)
    {
        var clock = new VirtualClock();
        var host = new NetworkHost("h", 1, clock);
        var nic = host.AddNic("e0", SimNicModels.Get("simnic-10g"), new SimNicSettings(1, 1, 256, 1500));
        var vns = host.AddNetworkStack(VnicRole.Container,
            new VnicSettings("web", "e0", new[] { Mac }, more.Prepend("192.168.10.20").Select(IPAddress.Parse).ToArray(), Cpu: 0, Cpus: 1), settings);
        nic.BindHardwareRing(0, vns.Vnic);
        nic.Program(Mac, 0, 0, vns.Vnic);
        host.Start();
        var wire = new CapturingWire();
        nic.Device.Wire = wire;
        return (host, clock, wire, vns);
    }

    // A container serving TCP port 80 and a connection a hand-made peer opened to it (its SYN
    // offering an MSS of 1,460, as any Ethernet host's does; none would mean 536).
    internal static Connected Establish(StackSettings? settings = null, bool timestamps = false)
    {
        var (host, clock, wire, vns) = Container(settings ?? new StackSettings(StackProtocols.Tcp, new[] { 80 }));
        var listener = vns.Stack.ListenTcp(80);
        var partial = new Connected(host, clock, wire, null!, 0);
        var syn = TestFrames.Tcp("02:00:00:00:00:01", "192.168.10.20", 80, Peer, sequence: PeerIss, options: new byte[] { 2, 4, 1460 >> 8, 1460 & 0xFF });
        partial.Send(timestamps ? WithTimestamps(syn, 50, 0) : syn);
        var synAck = LastSegment(partial);
        Assert.True(synAck.Synchronize && synAck.Acknowledgment);
        var ourNext = synAck.SequenceNumber + 1;
        var ack = TestFrames.Tcp("02:00:00:00:00:01", "192.168.10.20", 80, Peer, syn: false, ack: true, sequence: PeerIss + 1, acknowledgment: ourNext);
        partial.Send(timestamps ? WithTimestamps(ack, 60, 0) : ack);
        Assert.True(listener.TryAccept(out var connection));
        return partial with { Connection = connection, OurNext = ourNext };
    }

    // The index-th 1,000-byte segment of the peer's data, no PSH.
    internal static byte[] Segment(Connected c, int index) => BlindSegment(c, Data + (uint)(index * 1000), new byte[1000], psh: false);

    internal static byte[] BlindSegment(Connected c, uint sequence, byte[] payload, bool psh) =>
        TestFrames.Tcp("02:00:00:00:00:01", "192.168.10.20", 80, Peer, syn: false, ack: true, sequence: sequence, acknowledgment: c.OurNext, payload: payload, psh: psh);

    internal static TcpPacket LastSegment(Connected c) => TestFrames.Parse(c.Wire.Frames.Last()).Extract<TcpPacket>();

    // The segment with the timestamps option (RFC 7323: NOP, NOP, kind 8, length 10) after its
    // 20-byte TCP header; lengths and checksums made right again.
    internal static byte[] WithTimestamps(byte[] frame, uint value, uint echo)
    {
        const int Ip = 14, Tcp = 14 + 20;
        var option = new byte[12];
        option[0] = 1;
        option[1] = 1;
        option[2] = 8;
        option[3] = 10;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(option.AsSpan(4), value);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(option.AsSpan(8), echo);
        frame = frame.AsSpan(0, Ip + System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(Ip + 2))).ToArray(); // no Ethernet padding
        var header = (frame[Tcp + 12] >> 4) * 4; // after the options it has (a SYN's MSS)
        var result = frame.Take(Tcp + header).Concat(option).Concat(frame.Skip(Tcp + header)).ToArray();
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(result.AsSpan(Ip + 2), (ushort)(result.Length - Ip));
        result[Ip + 10] = result[Ip + 11] = 0;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(result.AsSpan(Ip + 10), NicBypass.Runtime.Packets.InternetChecksum.Compute(result.AsSpan(Ip, 20)));
        result[Tcp + 12] = (byte)((header + 12) / 4 << 4);
        result[Tcp + 16] = result[Tcp + 17] = 0;
        var checksum = NicBypass.Runtime.Packets.InternetChecksum.ComputeV4(result.AsSpan(Ip + 12, 4), result.AsSpan(Ip + 16, 4), 6, result.AsSpan(Tcp));
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(result.AsSpan(Tcp + 16), checksum);
        return result;
    }
}
