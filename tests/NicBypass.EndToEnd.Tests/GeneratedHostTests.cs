using System.Buffers.Binary;
using System.Net;
using System.Net.NetworkInformation;
using NicBypass.Runtime;
using NicBypass.Runtime.Devices;
using NicBypass.Runtime.Packets;
using NicBypass.Runtime.Virtualization;
using PacketDotNet;
using PacketDotNet.Utils;

namespace NicBypass.EndToEnd.Tests;

/// <summary>A user's view: a generated host class, used from a test.</summary>
public class GeneratedHostTests
{
    private sealed class Wire : IWire
    {
        public List<byte[]> Frames { get; } = new();

        public void Transmit(ReadOnlySpan<byte> frame) => Frames.Add(frame.ToArray());
    }

    [Fact]
    public void The_readmes_snippet_works_as_written()
    {
        var web01 = new Web01(new VirtualClock());
        web01.Nge0.Device.Wire = new Wire();
        web01.Nge0.Device.Receive(Frames.EchoRequest(
            "02:aa:00:00:00:01", "02:08:20:ac:00:01", "192.168.10.1", "192.168.10.11"));
        web01.Host.Pump();
        Assert.Equal(1, web01.Guest1.Counters.EchoRepliesSent);
    }

    [Fact]
    public void A_generated_host_in_a_using_stops_its_threads_when_disposed()
    {
        Web01 web01;
        using (web01 = new Web01(TimeProvider.System))
        {
            web01.Host.StartThreads();
            Assert.Throws<InvalidOperationException>(() => web01.Host.Pump()); // the threads run it
        }

        web01.Host.Pump(); // the deterministic mode again: no thread runs the host now
        Assert.Throws<ObjectDisposedException>(() => web01.Host.StartThreads());
    }

    [Fact]
    public void A_generated_vm_answers_a_ping_across_its_reverse_bits_interface()
    {
        var web01 = new Web01(new VirtualClock());
        var wire = new Wire();
        web01.Nge0.Device.Wire = wire;
        web01.Host.Pump();
        wire.Frames.Clear(); // guest2's DHCP DISCOVER (`ip dhcp`), unanswered here

        var ping = Frames.EchoRequest("02:aa:00:00:00:01", "02:08:20:ac:00:01", "192.168.10.1", "192.168.10.11", id: 77);

        web01.Nge0.Device.Receive(ping);
        web01.Host.Pump();

        // PacketDotNet, an independent reader, checks the reply.
        var reply = Packet.ParsePacket(LinkLayers.Ethernet, Assert.Single(wire.Frames)).Extract<IcmpV4Packet>();
        Assert.Equal(IcmpV4TypeCode.EchoReply, reply.TypeCode);
        Assert.Equal(77, reply.Id);
        Assert.Equal(ping.Select(BitReversal.Reverse), web01.Guest1.Memory.LastFrame.ToArray());
    }

    [Fact]
    public void Frames_reach_the_right_vms_and_destinations()
    {
        var lab = new Lab(new VirtualClock());
        var frame = new byte[64];
        EthernetHeader.WriteMac(frame, 0x022000000010UL);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), 0x8100);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(14), 20);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(16), 0x88B5);

        lab.Data0.Device.Receive(frame);
        lab.Host.Pump();

        Assert.Equal(1, lab.Storage.Vnic.Counters.Delivered);
        Assert.Equal(1, lab.Storage.Counters.Dropped(NicBypass.Runtime.Stacks.StackDropReason.Unsupported)); // its VNS does not speak EtherType 0x88B5
        Assert.Equal(0, lab.Compute1.Counters.Received);
        Assert.Equal(0, lab.Console.Counters.Received);
        Assert.Equal("hrr2", lab.Storage.Vnic.Ring!.Name);
    }
}
