using System.Buffers.Binary;
using System.Net;
using NicBypass.Runtime.Stacks;
using NicBypass.Runtime.Virtualization;

namespace NicBypass.Runtime.Tests;

/// <summary>
/// The path MTU a stack learns per destination (RFC 1191 6.3, RFC 8201 5.2): datagrams to it are
/// cut to fit, a new TCP connection to it starts with segments that fit, and after ten minutes the
/// link's MTU is tried again.
/// </summary>
public class PathMtuCacheTests
{
    private const long Second = 1_000_000_000; // the cache works in the caller's clock ticks; ns here

    [Fact]
    public void The_cache_keeps_the_smallest_mtu_above_the_floor_until_it_expires_and_holds_a_bounded_number()
    {
        var cache = new PathMtuCache();
        var a = NetworkAddress.Parse("10.0.0.1");
        var lifetime = 600 * Second;

        Assert.True(cache.Learn(a, 1200, 1500, 0, lifetime));
        Assert.False(cache.Learn(a, 1400, 1500, 1, lifetime)); // a larger one teaches nothing
        Assert.False(cache.Learn(NetworkAddress.Parse("10.0.0.9"), 1500, 1500, 1, lifetime)); // nor the link's own
        Assert.Equal((1200, false), cache.For(a, 1500, 1));
        Assert.True(cache.Learn(a, 100, 1500, 2, lifetime));   // below 552: kept as 552, locked (no don't-fragment)
        Assert.Equal((552, true), cache.For(a, 1500, 3));
        Assert.True(cache.Learn(a, 552, 1500, 4, lifetime));   // the same again: confirmed, still locked
        Assert.Equal((552, true), cache.For(a, 1500, 5));
        Assert.Equal(1280, Learned(cache, NetworkAddress.Parse("fd00::1"), 600)); // IPv6's floor (the stack discards such a message before)
        Assert.Equal((1500, false), cache.For(NetworkAddress.Parse("10.0.0.2"), 1500, 3));
        Assert.Equal((1500, false), cache.For(a, 1500, 4 + lifetime)); // expired: the link's MTU again
        Assert.Equal(0, cache.Count); // and, all expired, none left for the send path to look at

        for (var i = 0; i < PathMtuCache.Capacity + 44; i++) cache.Learn(NetworkAddress.Parse($"10.1.{i / 250}.{i % 250 + 1}"), 1000, 1500, 10 * Second + i, lifetime);
        Assert.Equal(PathMtuCache.Capacity, cache.Count);
        var now = 10 * Second + 1000;
        Assert.Equal(1500, cache.For(NetworkAddress.Parse("10.1.0.1"), 1500, now).Mtu); // the first due went
        Assert.Equal(1000, cache.For(NetworkAddress.Parse("10.1.1.50"), 1500, now).Mtu); // the last is there
    }

    private static int Learned(PathMtuCache cache, NetworkAddress to, int mtu)
    {
        cache.Learn(to, mtu, 1500, 0, 600 * Second);
        return cache.For(to, 1500, 1).Mtu;
    }

    [Fact]
    public void Over_ipv6_a_packet_too_big_for_a_datagram_makes_the_next_ones_leave_in_fragments_that_fit()
    {
        var (c, socket, peer) = Resolved(Peer6);

        c.Wire.Frames.Clear();
        Assert.Equal(SendStatus.Sent, socket.TrySendTo(peer, new byte[3000]));
        c.Host.Pump();
        var first = c.Wire.Frames[0];
        Assert.Equal(1496, 40 + BinaryPrimitives.ReadUInt16BigEndian(first.AsSpan(14 + 4))); // 1,448 bytes of data (a multiple of 8) and 48 of headers

        c.Send(RouterMessages.PacketTooBig(first, 1280));

        Assert.Equal(1, c.Stack.Counters.PacketTooBigTaken);
        Assert.Equal(1280, c.Stack.Stack.PathMtu(peer.Address));
        c.Wire.Frames.Clear();
        Assert.Equal(SendStatus.Sent, socket.TrySendTo(peer, new byte[3000]));
        Assert.Equal(SendStatus.Sent, socket.TrySendTo(peer, new byte[1400])); // fits the link, not the path: two fragments
        c.Host.Pump();
        Assert.Equal(3 + 2, c.Wire.Frames.Count);
        Assert.All(c.Wire.Frames, f => Assert.True(40 + BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(14 + 4)) <= 1280));
        Assert.Equal(1500, c.Stack.Stack.PathMtu(NetworkAddress.Parse("fd00::99"))); // another destination: untouched
    }

    [Fact]
    public void Over_ipv4_a_datagram_sent_whole_then_too_big_is_cut_next_time_and_a_new_connection_fits_until_the_path_is_tried_again()
    {
        var (c, socket, peer) = Resolved(Peer4);

        c.Wire.Frames.Clear();
        Assert.Equal(SendStatus.Sent, socket.TrySendTo(peer, new byte[1400]));
        c.Host.Pump();
        var whole = Assert.Single(c.Wire.Frames);
        Assert.Equal(0x4000, BinaryPrimitives.ReadUInt16BigEndian(whole.AsSpan(14 + 6)) & 0x4000); // don't fragment

        c.Send(RouterMessages.FragmentationNeeded(whole, 1000));

        c.Wire.Frames.Clear();
        Assert.Equal(SendStatus.Sent, socket.TrySendTo(peer, new byte[1400]));
        c.Host.Pump();
        Assert.Equal(2, c.Wire.Frames.Count);
        Assert.All(c.Wire.Frames, f => Assert.True(BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(14 + 2)) <= 1000));
        var connection = c.Stack.Stack.ConnectTcp(new NetworkEndpoint(peer.Address, 80));
        Assert.Equal(1000 - 40, connection.SendMss);

        c.Clock.Advance(PathMtuCache.Lifetime + TimeSpan.FromSeconds(1));
        Assert.Equal(1500, c.Stack.Stack.PathMtu(peer.Address));
        c.Wire.Frames.Clear();
        Assert.Equal(SendStatus.Sent, socket.TrySendTo(peer, new byte[1400]));
        c.Host.Pump();
        Assert.Single(c.Wire.Frames, f => f[23] == 17); // whole again
    }

    [Fact]
    public void A_message_quoting_what_this_stack_did_not_send_or_what_fits_teaches_nothing()
    {
        var (c, socket, peer) = Resolved(Peer4);
        c.Wire.Frames.Clear();
        socket.TrySendTo(peer, new byte[1400]);
        c.Host.Pump();
        var sent = c.Wire.Frames[0];

        var forged = sent.ToArray();
        IPAddress.Parse("192.168.10.77").GetAddressBytes().CopyTo(forged, 14 + 12); // not this stack's source
        c.Send(RouterMessages.FragmentationNeeded(forged, 1000));
        c.Send(RouterMessages.FragmentationNeeded(sent, 1500)); // the packet fit that
        c.Send(RouterMessages.FragmentationNeeded(sent, 1428)); // exactly its size: it fit

        Assert.Equal(0, c.Stack.Counters.PacketTooBigTaken);
        Assert.Equal(3, c.Stack.Counters.Dropped(StackDropReason.Unsupported));
        Assert.Equal(1500, c.Stack.Stack.PathMtu(peer.Address));
    }

    [Fact]
    public void Over_ipv6_a_packet_too_big_naming_less_than_1280_is_discarded()
    {
        var (c, socket, peer) = Resolved(Peer6);
        c.Wire.Frames.Clear();
        socket.TrySendTo(peer, new byte[1400]);
        c.Host.Pump();

        c.Send(RouterMessages.PacketTooBig(c.Wire.Frames[0], 600)); // RFC 8201 4

        Assert.Equal(0, c.Stack.Counters.PacketTooBigTaken);
        Assert.Equal(1500, c.Stack.Stack.PathMtu(peer.Address));
    }

    [Fact]
    public void Over_ipv4_a_path_below_552_bytes_gets_packets_without_dont_fragment_and_so_do_new_connections()
    {
        var (c, socket, peer) = Resolved(Peer4);
        c.Wire.Frames.Clear();
        socket.TrySendTo(peer, new byte[500]);
        c.Host.Pump();

        c.Send(RouterMessages.FragmentationNeeded(c.Wire.Frames[0], 400));

        Assert.Equal(552, c.Stack.Stack.PathMtu(peer.Address));
        c.Wire.Frames.Clear();
        socket.TrySendTo(peer, new byte[500]); // fits 552, not the path: whole, but for its routers to cut
        socket.TrySendTo(peer, new byte[1000]); // in fragments of 552, without don't-fragment as fragments are
        c.Host.Pump();
        Assert.Equal(1 + 2, c.Wire.Frames.Count);
        Assert.All(c.Wire.Frames, f => Assert.Equal(0, f[14 + 6] & 0x40));
        Assert.All(c.Wire.Frames, f => Assert.Equal(0, Packets.InternetChecksum.Compute(f.AsSpan(14, 20)))); // headers still sound
        var connection = c.Stack.Stack.ConnectTcp(new NetworkEndpoint(peer.Address, 80));
        c.Host.Pump();
        var syn = c.Wire.Frames.Last(f => f[23] == 6);
        Assert.Equal(0, syn[14 + 6] & 0x40); // the connection's segments too
        Assert.Equal(552 - 40, connection.SendMss);
    }

    [Fact]
    public void Messages_a_router_would_not_send_teach_nothing_and_never_throw()
    {
        var (c, socket, peer) = Resolved(Peer4);
        c.Wire.Frames.Clear();
        socket.TrySendTo(peer, new byte[1400]);
        c.Host.Pump();
        var sent = c.Wire.Frames[0];
        var unbound = sent.ToArray();
        BinaryPrimitives.WriteUInt16BigEndian(unbound.AsSpan(14 + 20), 4444); // from a port no socket holds
        var withoutDf = sent.ToArray();
        withoutDf[14 + 6] &= 0xBF;                                            // routers only say it of don't-fragment
        var longHeader = sent.ToArray();
        longHeader[14] = 0x4F;                                                // a 60-byte header the quote does not hold
        var icmpError = sent.ToArray();
        icmpError[14 + 9] = 1;                                                // an ICMP message…
        icmpError[14 + 20] = 3;                                               // …that is an error

        foreach (var quote in new[] { unbound, withoutDf, longHeader, icmpError }) c.Send(RouterMessages.FragmentationNeeded(quote, 1000));
        c.Send(RouterMessages.FragmentationNeeded(sent, 1000, quoteLength: 20));                // a quote of the IP header alone

        Assert.Equal(0, c.Stack.Counters.PacketTooBigTaken);
        Assert.Equal(5, c.Stack.Counters.Dropped(StackDropReason.Unsupported));
        Assert.Equal(1500, c.Stack.Stack.PathMtu(peer.Address));
        Assert.Equal(c.Stack.Counters.Received, c.Stack.Counters.Delivered + c.Stack.Counters.Answered + c.Stack.Counters.DroppedTotal);
    }

    [Fact]
    public void A_message_quoting_a_datagram_sizes_what_goes_next_but_never_a_connection_already_open()
    {
        // A message quoting no TCP segment needs no secret to forge (the datagram, or an echo,
        // is easily made up): it shrank every connection to the peer for good (found by review;
        // it used to, as Linux's tcp_sync_mss, whose sockets grow back when the route expires).
        // Datagrams to the peer fit the path it names; a connection shrinks only for a segment of
        // its own in flight (RFC 5927).
        var c = HandMadePeer.Establish(new StackSettings(StackProtocols.Tcp | StackProtocols.Udp, new[] { 80, 53 }));
        var socket = c.Host.NetworkStack("web").Stack.BindUdp(53);
        socket.TrySendTo(new NetworkEndpoint(NetworkAddress.Parse(HandMadePeer.Peer), 5000), new byte[1400]);
        c.Host.Pump();
        c.Send(RouterMessages.FragmentationNeeded(c.Wire.Frames.Last(f => f[23] == 17), 1000));
        Assert.Equal(1000, c.Host.NetworkStack("web").Stack.PathMtu(NetworkAddress.Parse(HandMadePeer.Peer)));

        c.Wire.Frames.Clear();
        c.Connection.Send(new byte[3000]);
        socket.TrySendTo(new NetworkEndpoint(NetworkAddress.Parse(HandMadePeer.Peer), 5000), new byte[1400]);
        c.Host.Pump();

        Assert.Equal(1460, c.Connection.SendMss);
        var segments = c.Wire.Frames.Where(f => f[23] == 6 && BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(14 + 2)) > 40).ToList();
        Assert.Contains(segments, f => BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(14 + 2)) == 1500);
        var datagram = c.Wire.Frames.Where(f => f[23] == 17).ToList();
        Assert.True(datagram.Count >= 2, "the datagram goes in fragments that fit the path");
        Assert.All(datagram, f => Assert.True(BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(14 + 2)) <= 1000));
    }

    // --- a container with a UDP port and a hand-made peer on the wire ---

    private const string Peer4 = "192.168.10.1";
    private const string Peer6 = "fd00::1";
    private const ulong PeerMac = 0x02AA_0000_0001UL;

    private sealed record Setup(NetworkHost Host, VirtualClock Clock, CapturingWire Wire, VirtualNetworkStack Stack)
    {
        public void Send(byte[] frame)
        {
            Host.Nic("e0").Device.Receive(frame);
            Host.Pump();
        }
    }

    private static Setup Udp()
    {
        var (host, clock, wire, vns) = HandMadePeer.Container(new StackSettings(StackProtocols.Tcp | StackProtocols.Udp, new[] { 53, 80 }), "fd00::20");
        return new Setup(host, clock, wire, vns);
    }

    // The container with UDP port 53 bound, and the peer at `address` (port 5000) whose MAC it has learned.
    private static (Setup C, UdpSocket Socket, NetworkEndpoint Peer) Resolved(string address)
    {
        var c = Udp();
        var socket = c.Stack.Stack.BindUdp(53);
        var peer = new NetworkEndpoint(NetworkAddress.Parse(address), 5000);
        Resolve(c, socket, peer);
        return (c, socket, peer);
    }

    // The first datagram waits for the peer's MAC: answered by hand.
    private static void Resolve(Setup c, UdpSocket socket, NetworkEndpoint peer)
    {
        Assert.Equal(SendStatus.Queued, socket.TrySendTo(peer, new byte[8]));
        c.Host.Pump();
        c.Send(peer.Address.IsV6
            ? Packets.Frames.NeighborAdvertisement(PeerMac, HandMadePeer.Mac, IPAddress.Parse(Peer6), IPAddress.Parse("fd00::20"), IPAddress.Parse(Peer6), PeerMac, solicited: true)
            : Packets.Frames.ArpReply(PeerMac, IPAddress.Parse(Peer4), HandMadePeer.Mac, IPAddress.Parse("192.168.10.20")));
        Assert.Equal(SendStatus.Sent, socket.TrySendTo(peer, new byte[8]));
        c.Host.Pump();
    }
}
