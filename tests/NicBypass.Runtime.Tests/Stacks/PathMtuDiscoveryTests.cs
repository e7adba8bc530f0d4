using System.Buffers.Binary;
using System.Net;
using NicBypass.Runtime.Stacks;

namespace NicBypass.Runtime.Tests;

/// <summary>
/// Path MTU discovery (RFC 1191): a router's "fragmentation needed" quoting a segment in flight
/// makes the connection send smaller segments, at once; one quoting anything else changes nothing.
/// </summary>
public class PathMtuDiscoveryTests
{
    private static List<byte[]> DataSegments(CapturingWire wire) =>
        wire.Frames.Where(f => BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(12)) == 0x0800 && f[14 + 9] == 6
            && BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(14 + 2)) > 20 + 20 + 12).ToList();

    // A connection to the container whose peer's SYN carried no options at all (a bare SYN), its
    // wire cleared after the handshake.
    private static (Virtualization.NetworkHost Host, CapturingWire Wire, TcpConnection Connection) BareSynConnection(string peer, string own)
    {
        var (host, _, wire, vns) = HandMadePeer.Container(new StackSettings(StackProtocols.Tcp, new[] { 80 }), "fd00::20");
        var listener = vns.Stack.ListenTcp(80);
        host.Nic("e0").Device.Receive(TestFrames.Tcp("02:00:00:00:00:01", own, 80, peer, sequence: HandMadePeer.PeerIss));
        host.Pump();
        var synAck = TestFrames.Parse(wire.Frames.Last()).Extract<PacketDotNet.TcpPacket>();
        host.Nic("e0").Device.Receive(TestFrames.Tcp("02:00:00:00:00:01", own, 80, peer, syn: false, ack: true, sequence: HandMadePeer.PeerIss + 1, acknowledgment: synAck.SequenceNumber + 1));
        host.Pump();
        Assert.True(listener.TryAccept(out var connection));
        wire.Frames.Clear();
        return (host, wire, connection);
    }

    [Theory]
    [InlineData("192.168.10.1", "192.168.10.20", 536)]  // RFC 9293 3.7.1: 536 over IPv4
    [InlineData("fd00::1", "fd00::20", 1220)]           // 1,280 less IPv6's and TCP's headers
    public void A_syn_without_an_mss_option_gets_segments_of_the_default_size_not_the_mtus(string peer, string own, int mss)
    {
        // A peer (or a middlebox that stripped the option) that says nothing of its MSS takes
        // the default; the host sent it 1,460-byte segments with don't-fragment set.
        var (host, wire, connection) = BareSynConnection(peer, own);

        Assert.Equal(4000, connection.Send(new byte[4000]));
        host.Pump();
        var payloads = wire.Frames.Select(f => TestFrames.Parse(f).Extract<PacketDotNet.TcpPacket>()).Where(t => t.PayloadData.Length > 0).Select(t => t.PayloadData.Length).ToList();
        Assert.NotEmpty(payloads);
        Assert.All(payloads, length => Assert.True(length <= mss, $"a {length}-byte segment for an MSS of {mss}"));
        Assert.Equal(mss, payloads[0]);
    }

    [Fact]
    public void A_segment_too_big_for_the_path_goes_again_in_smaller_ones_and_later_ones_fit()
    {
        var c = HandMadePeer.Establish();
        c.Wire.Frames.Clear();
        Assert.Equal(6000, c.Connection.Send(new byte[6000]));
        c.Host.Pump();
        var first = DataSegments(c.Wire).First();
        var second = DataSegments(c.Wire)[1];
        Assert.Equal(1500, BinaryPrimitives.ReadUInt16BigEndian(first.AsSpan(14 + 2)));
        c.Wire.Frames.Clear();

        c.Send(RouterMessages.FragmentationNeeded(first, 1000));

        Assert.Equal(1000 - 40, c.Connection.SendMss);
        var again = DataSegments(c.Wire);
        Assert.NotEmpty(again);
        Assert.All(again, f => Assert.True(BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(14 + 2)) <= 1000));
        Assert.Equal(BinaryPrimitives.ReadUInt32BigEndian(first.AsSpan(14 + 20 + 4)), BinaryPrimitives.ReadUInt32BigEndian(again[0].AsSpan(14 + 20 + 4))); // from the first byte in flight
        Assert.Equal(1, c.Host.NetworkStack("web").Counters.PacketTooBigTaken);

        // The router's message about the next big segment, still in flight: nothing left to shrink,
        // but the path it names is confirmed, and the message taken (not "unsupported").
        c.Send(RouterMessages.FragmentationNeeded(second, 1000));
        Assert.Equal(2, c.Host.NetworkStack("web").Counters.PacketTooBigTaken);
        Assert.Equal(0, c.Host.NetworkStack("web").Counters.Dropped(Stacks.StackDropReason.Unsupported));
        Assert.Equal(1000, c.Host.NetworkStack("web").Stack.PathMtu(Stacks.NetworkAddress.Parse(HandMadePeer.Peer)));
    }

    [Fact]
    public void A_message_quoting_no_segment_in_flight_or_a_path_below_552_bytes_is_bounded()
    {
        var c = HandMadePeer.Establish();
        c.Wire.Frames.Clear(); // the handshake's
        Assert.Equal(3000, c.Connection.Send(new byte[3000]));
        c.Host.Pump();
        var first = DataSegments(c.Wire).First();
        var forged = (byte[])first.Clone();
        BinaryPrimitives.WriteUInt32BigEndian(forged.AsSpan(14 + 20 + 4), BinaryPrimitives.ReadUInt32BigEndian(first.AsSpan(14 + 20 + 4)) + 1_000_000);

        c.Send(RouterMessages.FragmentationNeeded(forged, 600)); // a blind forger's guess: not in flight
        Assert.Equal(1500 - 40, c.Connection.SendMss);
        Assert.Equal(1, c.Host.NetworkStack("web").Counters.Dropped(StackDropReason.Unsupported));

        c.Clock.Advance(TimeSpan.FromMilliseconds(1)); // the wire's rate put the next frame behind the last
        c.Send(RouterMessages.FragmentationNeeded(first, 2000)); // no smaller than the segment it quotes: not believed
        Assert.Equal(1500 - 40, c.Connection.SendMss);
        Assert.Equal(2, c.Host.NetworkStack("web").Counters.Dropped(StackDropReason.Unsupported));

        c.Wire.Frames.Clear();
        c.Clock.Advance(TimeSpan.FromMilliseconds(1));
        c.Send(RouterMessages.FragmentationNeeded(first, 68)); // RFC 791's minimum: taken as 552 (Linux's min_pmtu)…
        Assert.Equal(552 - 40, c.Connection.SendMss);
        // …and what goes now may be cut by the routers: no don't-fragment.
        var resent = DataSegments(c.Wire);
        Assert.NotEmpty(resent);
        Assert.All(resent, f => Assert.True(BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(14 + 2)) <= 552 && (f[14 + 6] & 0x40) == 0));
    }

    [Fact]
    public void A_timeout_after_a_path_mtu_go_back_still_cuts_the_threshold()
    {
        // The go-back a "fragmentation needed" sets off is one flight that reduced nothing: a
        // timeout on it must still set the slow-start threshold. It kept the threshold unset
        // (a timeout in a flight already reduced for keeps its threshold; the go-back's flight
        // was not), so slow start ran unbounded again — and an off-path forger needs only a
        // sequence number in flight for the message (found by review).
        var c = HandMadePeer.Establish();
        c.Wire.Frames.Clear();
        Assert.Equal(6000, c.Connection.Send(new byte[6000]));
        c.Host.Pump();
        var first = DataSegments(c.Wire).First();
        c.Send(RouterMessages.FragmentationNeeded(first, 1000));
        Assert.Equal(int.MaxValue, c.Connection.SlowStartThreshold);

        // The peer answers nothing: the retransmission timeout fires.
        c.Clock.Advance(TimeSpan.FromSeconds(1.5));
        c.Host.Pump();
        Assert.True(c.Connection.CongestionWindow <= c.Connection.SendMss, $"cwnd {c.Connection.CongestionWindow}: the timeout restarted the window");
        Assert.NotEqual(int.MaxValue, c.Connection.SlowStartThreshold);
    }

    [Theory]
    [InlineData("192.168.10.1", "192.168.10.20", 536)]
    [InlineData("fd00::1", "fd00::20", 1220)]
    public void A_bare_syns_connection_starts_with_ten_segments_of_its_size_not_fourteen_kilobytes(string peer, string own, int mss)
    {
        // RFC 6928: min(10·MSS, max(2·MSS, 14,600 bytes)). The window was set for 1,460-byte
        // segments before the SYN said nothing of its MSS: 27 segments of 536 bytes went at once
        // (found by review).
        var (host, wire, connection) = BareSynConnection(peer, own);

        Assert.Equal(40_000, connection.Send(new byte[40_000]));
        host.Pump(); // no ACK comes: the first flight is all that goes
        var segments = wire.Frames.Select(f => TestFrames.Parse(f).Extract<PacketDotNet.TcpPacket>()).Count(t => t.PayloadData.Length > 0);
        Assert.Equal(10, segments);
        Assert.Equal(10 * mss, connection.CongestionWindow);
    }

    [Fact]
    public void The_segments_sent_again_are_one_flight_whose_duplicate_acks_do_not_halve_the_window()
    {
        var c = HandMadePeer.Establish();
        c.Wire.Frames.Clear();
        Assert.Equal(6000, c.Connection.Send(new byte[6000]));
        c.Host.Pump();
        var segments = DataSegments(c.Wire);
        // The path shrinks under the flight's second segment: the first arrived, the peer acknowledges it.
        c.Clock.Advance(TimeSpan.FromMilliseconds(1));
        c.Send(RouterMessages.FragmentationNeeded(segments[1], 1000));
        var window = c.Connection.CongestionWindow;
        var threshold = c.Connection.SlowStartThreshold;
        var firstEnd = BinaryPrimitives.ReadUInt32BigEndian(segments[0].AsSpan(14 + 20 + 4)) + 1460;

        // The go-back resent the first segment too, which the peer had: its duplicate ACKs come.
        for (var i = 0; i < 4; i++)
        {
            c.Clock.Advance(TimeSpan.FromMilliseconds(1));
            c.Send(TestFrames.Tcp("02:00:00:00:00:01", "192.168.10.20", 80, HandMadePeer.Peer, syn: false, ack: true,
                sequence: HandMadePeer.Data, acknowledgment: firstEnd));
        }

        Assert.Equal(threshold, c.Connection.SlowStartThreshold); // not halved
        Assert.True(c.Connection.CongestionWindow >= window, $"cwnd {c.Connection.CongestionWindow} < {window}");
    }
}
