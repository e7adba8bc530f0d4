using System.Buffers.Binary;
using System.Net;
using NicBypass.Runtime.Packets;
using NicBypass.Runtime.Stacks;
using PacketDotNet;

namespace NicBypass.Runtime.Tests;

/// <summary>
/// The IP layer's rules a review found broken: no answer about (or from) a group address, the
/// whole header chain in a first fragment, neighbour discovery's validity checks, and sources
/// that never come off a wire.
/// </summary>
public class IpConformanceTests
{
    private const string Topology = """
        host s {
            nic e0 { model simnic-10g; rx-rings 2 }
            container web on e0 { mac 02:00:00:00:00:01; ip fd00::20; ip 192.168.10.20/24; protocols udp tcp; ports 53 80 }
        }
        """;

    private const string WebMac = "02:00:00:00:00:01";

    // The stack itself, fed frames its VNIC's own checks would stop first (a VNIC with declared
    // addresses takes no unicast frame to a group address): the IP layer's rules, on their own.
    private static (Runtime.Virtualization.NetworkHost Host, NetworkStack Stack, CapturingWire Wire) Stack()
    {
        var (host, wires) = TestHost.Build(Topology);
        var stack = host.NetworkStack("web").Stack;
        stack.Receive(TestFrames.Ping6(WebMac, "fd00::20")); // the peer is known: an answer would leave at once
        host.Pump();
        wires["e0"].Frames.Clear();
        return (host, stack, wires["e0"]);
    }

    [Fact]
    public void A_parameter_problem_about_a_group_packet_goes_only_for_an_option_that_asks_and_from_a_unicast_address()
    {
        // RFC 4443 2.4(e.3): about a packet to a group only code 2 (an option whose type asks
        // even then); RFC 4443 2.2: from a unicast address of ours, never the group's.
        var (host, stack, wire) = Stack();
        var toAllNodes = TestFrames.Udp(WebMac, "ff02::1", 53, new byte[8]);

        stack.Receive(WithExtension(toAllNodes, 43, segmentsLeft: 2)); // a routing header with segments left: code 0
        host.Pump();
        Assert.Empty(wire.Frames);

        var option = WithExtension(toAllNodes, 60);
        option[14 + 40 + 2] = 0xBE; // discard, and answer even a group packet
        stack.Receive(option);
        host.Pump();
        var problem = TestFrames.Parse(Assert.Single(wire.Frames)).Extract<IPv6Packet>();
        Assert.Equal(IPAddress.Parse("fd00::20"), problem.SourceAddress);
        Assert.Equal((4, 2), ((int)problem.Extract<IcmpV6Packet>().Type, (int)problem.Extract<IcmpV6Packet>().Code));
    }

    [Fact]
    public void A_first_fragment_without_the_whole_header_chain_is_dropped_with_a_parameter_problem()
    {
        // RFC 7112 5: a first fragment whose upper-layer header is not in it (here behind
        // destination options) — the TCP header would come in the second, past any check of ports.
        var (host, wires) = TestHost.Build(Topology);
        var web = host.NetworkStack("web");
        host.Send("e0", TestFrames.Udp(WebMac, "fd00::20", 53, new byte[8]));
        wires["e0"].Frames.Clear();
        host.Send("e0", FirstFragmentBehindOptions(IpProtocol.Tcp, []));

        Assert.Equal(1, web.Counters.Dropped(StackDropReason.Malformed));
        Assert.Equal(0, web.Counters.FragmentsHeld);
        var problem = TestFrames.Parse(Assert.Single(wires["e0"].Frames)).Extract<IcmpV6Packet>();
        Assert.Equal((4, 3), ((int)problem.Type, (int)problem.Code));
    }

    [Theory]
    [InlineData(1, false)]   // destination unreachable, cut short: no error about an error (RFC 4443 2.4(e.1))
    [InlineData(128, true)]  // echo request, cut short: code 3
    public void A_first_fragment_cut_short_in_its_icmpv6_header_is_answered_only_if_not_an_error(byte type, bool answered)
    {
        var (host, wires) = TestHost.Build(Topology);
        var web = host.NetworkStack("web");
        host.Send("e0", TestFrames.Udp(WebMac, "fd00::20", 53, new byte[8]));
        wires["e0"].Frames.Clear();
        host.Send("e0", FirstFragmentBehindOptions(IpProtocol.IcmpV6, [type, 0])); // two bytes of an ICMPv6 header of four

        Assert.Equal(1, web.Counters.Dropped(StackDropReason.Malformed));
        Assert.Equal(answered ? 1 : 0, wires["e0"].Frames.Count);
        Assert.Equal(answered ? 1 : 0, web.Counters.ParameterProblemsSent);
    }

    [Fact]
    public void A_solicitation_from_the_unspecified_address_carrying_a_link_layer_address_is_not_answered()
    {
        // RFC 4861 7.1.1: duplicate address detection's solicitation (from ::) carries no
        // source link-layer address option; one that does is invalid. It was answered.
        var (host, wires) = TestHost.Build(Topology);
        var web = host.NetworkStack("web");

        host.Send("e0", Frames.NeighborSolicitation(TestFrames.PeerMac, IPAddress.IPv6Any, IPAddress.Parse("fd00::20")));

        Assert.DoesNotContain(wires["e0"].Frames, f => TestFrames.Parse(f).Extract<IcmpV6Packet>() is { Type: IcmpV6Type.NeighborAdvertisement });
        Assert.Equal(1, web.Counters.Dropped(StackDropReason.Malformed));
    }

    [Theory]
    [InlineData("::1")]
    [InlineData("::ffff:192.168.10.1")]
    [InlineData("::")]
    public void An_echo_request_from_an_address_that_never_comes_off_a_wire_is_not_answered(string source)
    {
        // RFC 4291 2.5.2, 2.5.3, 2.5.5.2: loopback and IPv4-mapped sources are dropped (as Linux
        // drops them), and nothing is ever sent to ::.
        var (host, wires) = TestHost.Build(Topology);

        host.Send("e0", Frames.EchoRequest(TestFrames.PeerMac, Frames.Mac(WebMac), IPAddress.Parse(source), IPAddress.Parse("fd00::20")));

        Assert.Empty(wires["e0"].Frames);
        Assert.Equal(0, host.NetworkStack("web").Counters.EchoRepliesSent);
    }

    [Fact]
    public void A_gratuitous_arp_moves_an_entry_never_confirmed_to_the_announced_mac()
    {
        // RFC 5227 3 and RFC 826's merge: an announcement (sender = target) updates the entry of a
        // host that moved. It was dropped as not for us, and traffic went to the old MAC until
        // the entry's probes gave up on it.
        var (host, wires) = TestHost.Build(Topology);
        var web = host.NetworkStack("web").Stack;
        host.Send("e0", TestFrames.Ping(WebMac, "192.168.10.20")); // 192.168.10.1 gleaned at 02:aa:00:00:00:01
        const ulong moved = 0x02AA_0000_0099UL;

        host.Send("e0", Frames.ArpRequest(moved, IPAddress.Parse("192.168.10.1"), IPAddress.Parse("192.168.10.1")));
        wires["e0"].Frames.Clear();
        web.BindUdp(53).TrySendTo(new NetworkEndpoint(NetworkAddress.Parse("192.168.10.1"), 5000), new byte[8]);
        host.Pump();

        Assert.Equal(moved, EthernetHeader.ReadMac(Assert.Single(wires["e0"].Frames)));
        // One about a host it holds no entry for moves nothing: not for us, as before.
        var notForUs = host.NetworkStack("web").Counters.Dropped(StackDropReason.NotForUs);
        host.Send("e0", Frames.ArpRequest(moved, IPAddress.Parse("192.168.10.77"), IPAddress.Parse("192.168.10.77")));
        Assert.Equal(notForUs + 1, host.NetworkStack("web").Counters.Dropped(StackDropReason.NotForUs));
    }

    [Theory]
    [InlineData(new byte[] { 0x94, 4, 0, 0 }, true, null)]                            // router alert: taken
    [InlineData(new byte[] { 1, 1, 1, 0 }, true, null)]                               // no-operations, end of list
    [InlineData(new byte[] { 0x83, 7, 4, 10, 0, 0, 9, 0 }, false, StackDropReason.Unsupported)] // a loose source route
    [InlineData(new byte[] { 0x89, 7, 4, 10, 0, 0, 9, 0 }, false, StackDropReason.Unsupported)] // a strict one
    [InlineData(new byte[] { 7, 40, 4, 0 }, false, StackDropReason.Malformed)]       // record route running past the header
    [InlineData(new byte[] { 7, 1, 0, 0 }, false, StackDropReason.Malformed)]        // a length below 2
    public void Ipv4_options_are_walked_and_a_source_route_refused(byte[] options, bool delivered, StackDropReason? dropped)
    {
        // RFC 7126 4.3, 4.4 (Linux's accept_source_route = 0): source-routed datagrams are
        // dropped; options whose lengths do not add up make the packet malformed. Options went unread.
        var (host, _) = TestHost.Build(Topology);
        var vns = host.NetworkStack("web");
        var socket = vns.Stack.BindUdp(53);
        var frame = Frames.WithIpv4Options(TestFrames.Udp(WebMac, "192.168.10.20", 53, new byte[8]), options);

        host.Send("e0", frame);

        Assert.Equal(delivered ? 1 : 0, socket.Received);
        if (dropped is { } reason) Assert.Equal(1, vns.Counters.Dropped(reason));
    }

    // An IPv6 first fragment (offset 0, more to come) to web, its fragment header followed by an
    // 8-byte destination options header whose next header is `upper`, then only `upper`'s first bytes.
    private static byte[] FirstFragmentBehindOptions(byte upper, byte[] upperBytes)
    {
        var udp = TestFrames.Udp(WebMac, "fd00::20", 53, new byte[8]);
        var frame = new byte[14 + 40 + 8 + 8 + upperBytes.Length];
        udp.AsSpan(0, 54).CopyTo(frame);
        frame[20] = 44;                 // a fragment header follows
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(18), (ushort)(16 + upperBytes.Length));
        frame[54] = 60;                 // fragment: next header destination options, offset 0, more to come
        frame[57] = 1;
        frame[61] = 7;                  // identification
        frame[62] = upper;              // destination options: 8 bytes, PadN
        frame[64] = 1;
        frame[65] = 4;
        upperBytes.CopyTo(frame, 70);
        return frame;
    }

    private static byte[] WithExtension(byte[] frame, byte type, byte segmentsLeft = 0) => Ipv6ExtensionHeaderTests.WithExtension(frame, type, segmentsLeft);
}
