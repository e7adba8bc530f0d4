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
        var c = Udp();
        var socket = c.Stack.Stack.BindUdp(53);
        var peer = new NetworkEndpoint(NetworkAddress.Parse(Peer6), 5000);
        Resolve(c, socket, peer);

        c.Wire.Frames.Clear();
        Assert.Equal(SendStatus.Sent, socket.TrySendTo(peer, new byte[3000]));
        c.Host.Pump();
        var first = c.Wire.Frames[0];
        Assert.Equal(1496, 40 + BinaryPrimitives.ReadUInt16BigEndian(first.AsSpan(14 + 4))); // 1,448 bytes of data (a multiple of 8) and 48 of headers

        c.Send(PacketTooBig6(first, 1280));

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
        var c = Udp();
        var socket = c.Stack.Stack.BindUdp(53);
        var peer = new NetworkEndpoint(NetworkAddress.Parse(Peer4), 5000);
        Resolve(c, socket, peer);

        c.Wire.Frames.Clear();
        Assert.Equal(SendStatus.Sent, socket.TrySendTo(peer, new byte[1400]));
        c.Host.Pump();
        var whole = Assert.Single(c.Wire.Frames);
        Assert.Equal(0x4000, BinaryPrimitives.ReadUInt16BigEndian(whole.AsSpan(14 + 6)) & 0x4000); // don't fragment

        c.Send(FragmentationNeeded(whole, 1000));

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
        var c = Udp();
        var socket = c.Stack.Stack.BindUdp(53);
        var peer = new NetworkEndpoint(NetworkAddress.Parse(Peer4), 5000);
        Resolve(c, socket, peer);
        c.Wire.Frames.Clear();
        socket.TrySendTo(peer, new byte[1400]);
        c.Host.Pump();
        var sent = c.Wire.Frames[0];

        var forged = sent.ToArray();
        IPAddress.Parse("192.168.10.77").GetAddressBytes().CopyTo(forged, 14 + 12); // not this stack's source
        c.Send(FragmentationNeeded(forged, 1000));
        c.Send(FragmentationNeeded(sent, 1500)); // the packet fit that
        c.Send(FragmentationNeeded(sent, 1428)); // exactly its size: it fit

        Assert.Equal(0, c.Stack.Counters.PacketTooBigTaken);
        Assert.Equal(3, c.Stack.Counters.Dropped(StackDropReason.Unsupported));
        Assert.Equal(1500, c.Stack.Stack.PathMtu(peer.Address));
    }

    [Fact]
    public void Over_ipv6_a_packet_too_big_naming_less_than_1280_is_discarded()
    {
        var c = Udp();
        var socket = c.Stack.Stack.BindUdp(53);
        var peer = new NetworkEndpoint(NetworkAddress.Parse(Peer6), 5000);
        Resolve(c, socket, peer);
        c.Wire.Frames.Clear();
        socket.TrySendTo(peer, new byte[1400]);
        c.Host.Pump();

        c.Send(PacketTooBig6(c.Wire.Frames[0], 600)); // RFC 8201 4

        Assert.Equal(0, c.Stack.Counters.PacketTooBigTaken);
        Assert.Equal(1500, c.Stack.Stack.PathMtu(peer.Address));
    }

    [Fact]
    public void Over_ipv4_a_path_below_552_bytes_gets_packets_without_dont_fragment_and_so_do_new_connections()
    {
        var c = Udp();
        var socket = c.Stack.Stack.BindUdp(53);
        var peer = new NetworkEndpoint(NetworkAddress.Parse(Peer4), 5000);
        Resolve(c, socket, peer);
        c.Wire.Frames.Clear();
        socket.TrySendTo(peer, new byte[500]);
        c.Host.Pump();

        c.Send(FragmentationNeeded(c.Wire.Frames[0], 400));

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
        var c = Udp();
        var socket = c.Stack.Stack.BindUdp(53);
        var peer = new NetworkEndpoint(NetworkAddress.Parse(Peer4), 5000);
        Resolve(c, socket, peer);
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

        foreach (var quote in new[] { unbound, withoutDf, longHeader, icmpError }) c.Send(FragmentationNeeded(quote, 1000));
        c.Send(FragmentationNeeded(sent, 1000, quoteLength: 20));                // a quote of the IP header alone

        Assert.Equal(0, c.Stack.Counters.PacketTooBigTaken);
        Assert.Equal(5, c.Stack.Counters.Dropped(StackDropReason.Unsupported));
        Assert.Equal(1500, c.Stack.Stack.PathMtu(peer.Address));
        Assert.Equal(c.Stack.Counters.Received, c.Stack.Counters.Delivered + c.Stack.Counters.Answered + c.Stack.Counters.DroppedTotal);
    }

    [Fact]
    public void A_tcp_connection_already_open_sizes_its_next_segments_by_a_path_mtu_learned_from_a_datagram()
    {
        var c = HandMadePeer.Establish(new StackSettings(StackProtocols.Tcp | StackProtocols.Udp, new[] { 80, 53 }));
        var socket = c.Host.NetworkStack("web").Stack.BindUdp(53);
        socket.TrySendTo(new NetworkEndpoint(NetworkAddress.Parse(HandMadePeer.Peer), 5000), new byte[1400]);
        c.Host.Pump();
        c.Send(FragmentationNeeded(c.Wire.Frames.Last(f => f[23] == 17), 1000));
        Assert.Equal(1000, c.Host.NetworkStack("web").Stack.PathMtu(NetworkAddress.Parse(HandMadePeer.Peer)));

        c.Wire.Frames.Clear();
        c.Connection.Send(new byte[3000]);
        c.Host.Pump();

        // As Linux's tcp_sync_mss: the connection's segments fit the path now, whole (not cut by IP).
        Assert.Equal(1000 - 40, c.Connection.SendMss);
        var data = c.Wire.Frames.Where(f => f[23] == 6 && BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(14 + 2)) > 40).ToList();
        Assert.NotEmpty(data);
        Assert.All(data, f => Assert.True(BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(14 + 2)) <= 1000));
        Assert.All(data, f => Assert.Equal(0x40, f[14 + 6] & 0x40)); // with don't-fragment, not fragments
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
        var clock = new VirtualClock();
        var host = new NetworkHost("h", 1, clock);
        var nic = host.AddNic("e0", Devices.SimNicModels.Get("simnic-10g"), new Devices.SimNicSettings(1, 1, 256, 1500));
        var vns = host.AddNetworkStack(VnicRole.Container,
            new VnicSettings("web", "e0", new[] { HandMadePeer.Mac }, new[] { IPAddress.Parse("192.168.10.20"), IPAddress.Parse("fd00::20") }, Cpu: 0, Cpus: 1),
            new StackSettings(StackProtocols.Tcp | StackProtocols.Udp, new[] { 53, 80 }));
        nic.BindHardwareRing(0, vns.Vnic);
        nic.Program(HandMadePeer.Mac, 0, 0, vns.Vnic);
        host.Start();
        var wire = new CapturingWire();
        nic.Device.Wire = wire;
        return new Setup(host, clock, wire, vns);
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

    // An ICMP "fragmentation needed" from a router, quoting `frame`'s IP header and 8 bytes.
    private static byte[] FragmentationNeeded(byte[] frame, int mtu, int quoteLength = 20 + 8)
    {
        var quoted = frame.AsSpan(14, quoteLength);
        var icmp = new byte[8 + quoted.Length];
        icmp[0] = 3;
        icmp[1] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(icmp.AsSpan(6), (ushort)mtu);
        quoted.CopyTo(icmp.AsSpan(8));
        BinaryPrimitives.WriteUInt16BigEndian(icmp.AsSpan(2), Packets.InternetChecksum.Compute(icmp));
        var result = new byte[14 + 20 + icmp.Length];
        Packets.EthernetHeader.WriteMac(result, HandMadePeer.Mac);
        Packets.EthernetHeader.WriteMac(result.AsSpan(6), 0x02AA_0000_00FEUL);
        BinaryPrimitives.WriteUInt16BigEndian(result.AsSpan(12), 0x0800);
        var ip = result.AsSpan(14, 20);
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(2), (ushort)(20 + icmp.Length));
        ip[8] = 64;
        ip[9] = 1;
        IPAddress.Parse("192.168.10.254").GetAddressBytes().CopyTo(result, 14 + 12);
        IPAddress.Parse("192.168.10.20").GetAddressBytes().CopyTo(result, 14 + 16);
        BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(10), Packets.InternetChecksum.Compute(ip));
        icmp.CopyTo(result.AsSpan(14 + 20));
        return result;
    }

    // An ICMPv6 Packet Too Big from a router, quoting as much of `frame`'s packet as fits in 1,280 bytes.
    private static byte[] PacketTooBig6(byte[] frame, int mtu)
    {
        var packet = frame.AsSpan(14, 40 + BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(14 + 4)));
        var quoted = packet.Slice(0, Math.Min(packet.Length, 1280 - 48));
        var icmp = new byte[8 + quoted.Length];
        icmp[0] = 2;
        BinaryPrimitives.WriteUInt32BigEndian(icmp.AsSpan(4), (uint)mtu);
        quoted.CopyTo(icmp.AsSpan(8));
        var router = IPAddress.Parse("fd00::fe").GetAddressBytes();
        var us = IPAddress.Parse("fd00::20").GetAddressBytes();
        BinaryPrimitives.WriteUInt16BigEndian(icmp.AsSpan(2), Packets.InternetChecksum.ComputeV6(router, us, 58, icmp));
        var result = new byte[14 + 40 + icmp.Length];
        Packets.EthernetHeader.WriteMac(result, HandMadePeer.Mac);
        Packets.EthernetHeader.WriteMac(result.AsSpan(6), 0x02AA_0000_00FEUL);
        BinaryPrimitives.WriteUInt16BigEndian(result.AsSpan(12), 0x86DD);
        result[14] = 0x60;
        BinaryPrimitives.WriteUInt16BigEndian(result.AsSpan(14 + 4), (ushort)icmp.Length);
        result[14 + 6] = 58;
        result[14 + 7] = 64;
        router.CopyTo(result, 14 + 8);
        us.CopyTo(result, 14 + 24);
        icmp.CopyTo(result.AsSpan(14 + 40));
        return result;
    }
}
