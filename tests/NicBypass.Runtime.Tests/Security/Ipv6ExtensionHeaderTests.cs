using System.Buffers.Binary;
using NicBypass.Runtime.Stacks;
using PacketDotNet;

namespace NicBypass.Runtime.Tests;

/// <summary>IPv6 extension headers a host walks in passing (RFC 8200 4), and those it must not accept.</summary>
public class Ipv6ExtensionHeaderTests
{
    private const string Topology = """
        host s {
            nic e0 { model simnic-10g; rx-rings 2 }
            container web on e0 { mac 02:00:00:00:00:01; ip fd00::20; protocols udp; ports 53 }
        }
        """;

    [Fact]
    public void An_echo_request_behind_a_hop_by_hop_header_is_answered()
    {
        var (host, wires) = TestHost.Build(Topology);
        host.Send("e0", WithExtension(TestFrames.Ping6("02:00:00:00:00:01", "fd00::20"), type: 0));

        var reply = TestFrames.Parse(Assert.Single(wires["e0"].Frames)).Extract<IcmpV6Packet>();
        Assert.Equal(IcmpV6Type.EchoReply, reply.Type);
    }

    [Fact]
    public void A_datagram_behind_destination_options_and_a_finished_routing_header_reaches_its_socket()
    {
        var (host, _) = TestHost.Build(Topology);
        var socket = host.NetworkStack("web").Stack.BindUdp(53);
        var datagram = TestFrames.Udp("02:00:00:00:00:01", "fd00::20", 53, new byte[16]);

        host.Send("e0", WithExtension(datagram, type: 60), WithExtension(datagram, type: 43, segmentsLeft: 0), WithExtension(WithExtension(datagram, type: 60), type: 0));

        Assert.Equal(3, socket.Received);
    }

    [Fact]
    public void A_routing_header_with_segments_left_or_a_truncated_extension_header_is_not_accepted()
    {
        var (host, wires) = TestHost.Build(Topology);
        var web = host.NetworkStack("web");
        var socket = web.Stack.BindUdp(53);
        var datagram = TestFrames.Udp("02:00:00:00:00:01", "fd00::20", 53, new byte[16]);
        var truncated = WithExtension(datagram, type: 60);
        truncated[14 + 40 + 1] = 200; // claims 1,608 bytes of options

        host.Send("e0", datagram); // the peer is known now (gleaned): an error to it leaves at once
        wires["e0"].Frames.Clear();
        host.Send("e0", WithExtension(datagram, type: 43, segmentsLeft: 2), truncated, WithExtension(WithExtension(datagram, type: 0), type: 0)); // hop-by-hop twice

        Assert.Equal(1, socket.Received);
        Assert.Equal(1, web.Counters.Dropped(StackDropReason.Unsupported));
        Assert.Equal(2, web.Counters.Dropped(StackDropReason.Malformed));
        // A host does not forward: a Parameter Problem, code 0, pointing at the routing type (RFC 8200 4.4).
        var problem = TestFrames.Parse(Assert.Single(wires["e0"].Frames)).Extract<IcmpV6Packet>();
        Assert.Equal((byte)4, (byte)problem.Type);
        Assert.Equal(0, problem.Code);
        Assert.Equal(40 + 2, BinaryPrimitives.ReadInt32BigEndian(problem.Bytes.AsSpan(4)));
        Assert.Equal(1, web.Counters.ParameterProblemsSent);
    }

    [Fact]
    public void An_atomic_fragment_is_processed_and_a_real_fragment_waits_for_the_rest()
    {
        var (host, _) = TestHost.Build(Topology);
        var web = host.NetworkStack("web");
        var socket = web.Stack.BindUdp(53);
        var datagram = TestFrames.Udp("02:00:00:00:00:01", "fd00::20", 53, new byte[16]);

        host.Send("e0", WithExtension(datagram, type: 44), WithExtension(datagram, type: 44, fragmentMore: true));

        Assert.Equal(1, socket.Received); // RFC 6946: offset 0 and no more fragments is the whole packet
        Assert.Equal(1, web.Counters.FragmentsHeld);
        Assert.Equal(1, web.Stack.DatagramsReassembling);
    }

    [Theory]
    [InlineData(0x3E, 1, 0, false)] // 00: skip it
    [InlineData(0x7E, 0, 1, false)] // 01: discard
    [InlineData(0xBE, 0, 1, true)]  // 10: discard and send a Parameter Problem
    [InlineData(0xFE, 0, 1, true)]  // 11: the same, to a unicast destination
    public void An_unknown_option_acts_as_its_type_says(byte option, int delivered, int unsupported, bool problem)
    {
        var (host, wires) = TestHost.Build(Topology);
        var web = host.NetworkStack("web");
        var socket = web.Stack.BindUdp(53);
        var datagram = TestFrames.Udp("02:00:00:00:00:01", "fd00::20", 53, new byte[16]);
        host.Send("e0", datagram);
        wires["e0"].Frames.Clear();
        var withOption = WithExtension(datagram, type: 60);
        withOption[14 + 40 + 2] = option; // the option covering the header's six bytes

        host.Send("e0", withOption);

        Assert.Equal(1 + delivered, socket.Received);
        Assert.Equal(unsupported, web.Counters.Dropped(StackDropReason.Unsupported));
        Assert.Equal(problem ? 1 : 0, wires["e0"].Frames.Count);
        if (problem)
        {
            var icmp = TestFrames.Parse(wires["e0"].Frames[0]).Extract<IcmpV6Packet>();
            Assert.Equal((4, 2), ((int)icmp.Type, (int)icmp.Code)); // unrecognised option
            Assert.Equal(40 + 2, BinaryPrimitives.ReadInt32BigEndian(icmp.Bytes.AsSpan(4)));
        }
    }

    [Theory]
    [InlineData(1, false)]   // destination unreachable: an error, not answered
    [InlineData(4, false)]   // parameter problem: an error
    [InlineData(128, true)]  // echo request: informational, answered
    public void No_parameter_problem_goes_about_an_icmpv6_error_behind_an_option_that_asks_for_one(byte type, bool answered)
    {
        // RFC 4443 2.4(e.1), as Linux's is_ineligible: the ICMPv6 header is found past the
        // extension headers the option stopped the walk at.
        var (host, wires) = TestHost.Build(Topology);
        host.Send("e0", TestFrames.Ping6("02:00:00:00:00:01", "fd00::20")); // the peer learned
        wires["e0"].Frames.Clear();
        var frame = WithExtension(TestFrames.Ping6("02:00:00:00:00:01", "fd00::20"), type: 60);
        frame[14 + 40 + 2] = 0xBE; // discard, and send a Parameter Problem
        frame[14 + 48] = type;

        host.Send("e0", frame);

        Assert.Equal(1, host.NetworkStack("web").Counters.Dropped(StackDropReason.Unsupported));
        Assert.Equal(answered ? 1 : 0, wires["e0"].Frames.Count);
        Assert.Equal(answered ? 1 : 0, host.NetworkStack("web").Counters.ParameterProblemsSent);
    }

    // Inserts an 8-byte extension header of `type` right after the IPv6 fixed header.
    internal static byte[] WithExtension(byte[] frame, byte type, byte segmentsLeft = 0, bool fragmentMore = false)
    {
        var result = new byte[frame.Length + 8];
        frame.AsSpan(0, 54).CopyTo(result);
        frame.AsSpan(54).CopyTo(result.AsSpan(62));
        result[54] = frame[20];                     // its next header: what followed the fixed header
        result[55] = 0;                              // 8 bytes
        if (type == 44)
        {
            result[56] = 0;                          // fragment offset 0 …
            result[57] = fragmentMore ? (byte)1 : (byte)0; // … and the M flag
            result[61] = 9;                          // identification
        }
        else if (type == 43)
        {
            result[56] = 0;                          // routing type 0 (deprecated, but the walk only reads the header)
            result[57] = segmentsLeft;
        }
        else
        {
            result[56] = 1;                          // PadN option covering the rest
            result[57] = 4;
        }
        result[20] = type;
        BinaryPrimitives.WriteUInt16BigEndian(result.AsSpan(18), (ushort)(BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(18)) + 8));
        return result;
    }
}
