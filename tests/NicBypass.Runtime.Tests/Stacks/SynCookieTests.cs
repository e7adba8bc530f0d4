using System.Buffers.Binary;
using System.Net;
using NicBypass.Runtime.Devices;
using NicBypass.Runtime.Stacks;
using NicBypass.Runtime.Virtualization;
using PacketDotNet;

namespace NicBypass.Runtime.Tests;

/// <summary>
/// SYN cookies (RFC 4987 3.6): past a full SYN queue a listener answers SYNs without keeping
/// anything, and the ACK that brings the cookie back makes the connection, with the segment size,
/// window scaling and SACK the SYN offered.
/// </summary>
public class SynCookieTests
{
    private static readonly SynCookieKey Key = new(0x0706050403020100UL, 0x0F0E0D0C0B0A0908UL);
    private static readonly NetworkAddress Client = NetworkAddress.Parse("192.168.10.1");
    private static readonly NetworkAddress Server = NetworkAddress.Parse("192.168.10.20");

    [Fact]
    public void SipHash_gives_the_reference_outputs()
    {
        // The SipHash-2-4 paper's test vectors: key 00..0f, messages 00.. of length 0 and 15.
        Assert.Equal(0x726fdb47dd0e0e31UL, SynCookie.SipHash(Key.K0, Key.K1, []));
        Assert.Equal(0xa129ca6149be45e5UL, SynCookie.SipHash(Key.K0, Key.K1, Enumerable.Range(0, 15).Select(i => (byte)i).ToArray()));
    }

    [Fact]
    public void A_cookie_names_its_segment_size_for_two_minutes_and_only_for_its_own_connection()
    {
        for (var index = 0; index < 4; index++)
        {
            var cookie = SynCookie.Make(Key, Client, 40000, Server, 80, 1000, 500, index);
            Assert.Equal(index, SynCookie.Check(Key, Client, 40000, Server, 80, 1000, cookie, 500));
            Assert.Equal(index, SynCookie.Check(Key, Client, 40000, Server, 80, 1000, cookie, 501)); // a minute later
            Assert.Equal(-1, SynCookie.Check(Key, Client, 40000, Server, 80, 1000, cookie, 502));    // two: too old
            Assert.Equal(-1, SynCookie.Check(Key, Client, 40000, Server, 80, 1000, cookie, 499));    // from the future
            Assert.Equal(-1, SynCookie.Check(Key, Client, 40001, Server, 80, 1000, cookie, 500));    // another port
            Assert.Equal(-1, SynCookie.Check(Key, NetworkAddress.Parse("192.168.10.2"), 40000, Server, 80, 1000, cookie, 500));
            Assert.Equal(-1, SynCookie.Check(Key, Client, 40000, Server, 80, 1000 + 0x100000, cookie, 500)); // another SYN's
            Assert.Equal(-1, SynCookie.Check(Key with { K1 = 1 }, Client, 40000, Server, 80, 1000, cookie, 500)); // another stack's
            Assert.Equal(-1, SynCookie.Check(Key, Client, 40000, Server, 80, 1000, cookie + 0x10000, 500)); // a guess near it
            // Both numbers moved on alike (an ACK of data and a FIN, after its connection closed):
            // it passed, and made a phantom connection (found by a helper's 1,000-connection burst).
            Assert.Equal(-1, SynCookie.Check(Key, Client, 40000, Server, 80, 1000 + 2049, cookie + 2049, 500));
        }
        // Across the counter's wrap (it keeps 8 bits in the cookie).
        var late = SynCookie.Make(Key, Client, 40000, Server, 80, 7, 0xFF, 2);
        Assert.Equal(2, SynCookie.Check(Key, Client, 40000, Server, 80, 7, late, 0x100));
    }

    [Theory]
    [InlineData(false, 9000, 3, 1460)]
    [InlineData(false, 1460, 3, 1460)]
    [InlineData(false, 1459, 2, 1440)]
    [InlineData(false, 1000, 0, 536)]
    [InlineData(true, 1440, 2, 1440)]
    [InlineData(true, 1220, 0, 1220)]
    public void The_segment_size_is_the_largest_a_cookie_can_name_that_the_peer_takes(bool v6, int peerMss, int index, int size)
    {
        Assert.Equal(index, SynCookie.SizeIndex(v6, peerMss));
        Assert.Equal(size, SynCookie.Size(v6, index));
    }

    [Theory]
    [InlineData(1_000_000u, 7, true)]
    [InlineData(1_000_000u, null, false)]
    [InlineData(64u, 14, true)]
    [InlineData(5u, 0, true)]
    public void The_timestamp_carries_window_scale_and_sack_and_is_never_ahead_of_the_clock(uint now, int? scale, bool sack)
    {
        var stamp = SynCookie.Timestamp(now, scale, sack);
        Assert.True((int)(now - stamp) is >= 0 and < 64);
        Assert.True(SynCookie.TryReadTimestamp(stamp, sackAllowed: true, out var readScale, out var readSack));
        Assert.Equal(scale, readScale);
        Assert.Equal(sack, readSack);
        Assert.Equal(!sack, SynCookie.TryReadTimestamp(stamp, sackAllowed: false, out _, out _)); // SACK this stack does not offer
        Assert.False(SynCookie.TryReadTimestamp(stamp | 0x20, sackAllowed: true, out _, out _));   // ECN, never offered
    }

    [Fact]
    public void A_flood_after_a_clients_syn_does_not_push_it_out_with_cookies_but_does_without()
    {
        foreach (var mode in new[] { SynCookieMode.OnOverflow, SynCookieMode.Off })
        {
            var c = Listening(new StackSettings(StackProtocols.Tcp, new[] { 80 }, SynBacklog: 4, SynCookies: mode));
            c.Send(Syn(50000, 7000));
            var synAck = LastSegment(c);
            Assert.True(synAck.Synchronize && synAck.Acknowledgment);
            for (var i = 0; i < 10; i++) c.Send(TestFrames.Tcp("02:00:00:00:00:01", "192.168.10.20", 80, $"10.9.0.{i + 1}"));

            c.Send(Ack(50000, 7001, (uint)synAck.SequenceNumber + 1));

            var counters = c.Stack.Counters;
            if (mode == SynCookieMode.OnOverflow)
            {
                Assert.True(c.Listener.TryAccept(out var connection), "the client's handshake completes");
                Assert.Equal(TcpState.Established, connection.State);
                Assert.Equal(4 - 1, c.Listener.HalfOpen); // the flood's first three; the rest got cookies
                Assert.Equal(10 - 3, counters.SynCookiesSent);
                Assert.Equal(0, counters.SynQueueOverflows);
            }
            else
            {
                Assert.False(c.Listener.TryAccept(out _)); // pushed out by the flood: its ACK is reset
                Assert.True(LastSegment(c).Reset);
                Assert.Equal(4, c.Listener.HalfOpen);
                Assert.Equal(10 - 3, counters.SynQueueOverflows);
                Assert.Equal(10 - 3, c.Listener.SynQueueDrops);
                Assert.Equal(10 - 3, c.Host.Report().Nics[0].Vnics[0].Stack!.SynQueueOverflows);
                Assert.Equal(0, counters.SynCookiesSent);
            }
            AssertBalanced(c);
        }
    }

    [Fact]
    public void Past_a_full_queue_the_handshake_keeps_nothing_and_the_ack_makes_the_connection_with_what_the_syn_offered()
    {
        var c = Listening(new StackSettings(StackProtocols.Tcp, new[] { 80 }, SynBacklog: 2));
        c.Send(Syn(1, 100));
        c.Send(Syn(2, 200));
        var connections = c.Stack.Stack.ConnectionCount;

        // MSS 1440, window scale 3, SACK-permitted, timestamps (each unlike this side's own 1460 and 7).
        c.Send(Syn(50000, 7000, mss: 1440, scale: 3, sack: true, stamp: 123456));
        var synAck = LastSegment(c);
        Assert.True(synAck.Synchronize && synAck.Acknowledgment);
        Assert.Equal(7001u, synAck.AcknowledgmentNumber);
        Assert.Equal(connections, c.Stack.Stack.ConnectionCount); // nothing kept
        Assert.Equal(2, c.Listener.HalfOpen);
        Assert.Equal(1, c.Stack.Counters.SynCookiesSent);
        var options = Options(synAck);
        Assert.Equal(1460, BinaryPrimitives.ReadUInt16BigEndian(options[2])); // our own MSS
        Assert.Equal(7, options[3][0]);            // our own window scale, as an ordinary SYN-ACK's
        Assert.True(options.ContainsKey(4));       // SACK-permitted
        var ourStamp = BinaryPrimitives.ReadUInt32BigEndian(options[8]);
        Assert.Equal(123456u, BinaryPrimitives.ReadUInt32BigEndian(options[8].AsSpan(4)));

        // The ACK echoes the stamp and brings the first 100 bytes; its window, 1,000 units of 2^3, is 8,000 bytes.
        var cookie = (uint)synAck.SequenceNumber;
        c.Send(WithOptions(Ack(50000, 7001, cookie + 1, payload: Enumerable.Range(0, 100).Select(i => (byte)i).ToArray(), window: 1000), Timestamps(123460, ourStamp)));

        Assert.True(c.Listener.TryAccept(out var connection));
        Assert.Equal(1, c.Stack.Counters.SynCookiesAccepted);
        Assert.Equal(TcpState.Established, connection.State);
        Assert.Equal(1440, connection.SendMss);    // the peer's, from the cookie's table
        Assert.Equal((true, 3, true, true), connection.Negotiated);
        var read = new byte[200];
        Assert.Equal(100, connection.Read(read));
        Assert.Equal(Enumerable.Range(0, 100).Select(i => (byte)i), read[..100]);

        // Window scaling is on with the peer's shift: more than 1,000 bytes go at once, and no more
        // than 8,000 (a shift of 7 would let the whole first window of 14,400 go); timestamps too.
        c.Wire.Frames.Clear();
        Assert.Equal(20_000, connection.Send(new byte[20_000]));
        c.Host.Pump();
        var sent = c.Wire.Frames.Select(f => TestFrames.Parse(f).Extract<TcpPacket>()).Where(t => t.PayloadData.Length > 0).ToList();
        Assert.InRange(sent.Sum(t => t.PayloadData.Length), 1001, 8000);
        Assert.All(sent, t => Assert.True(t.PayloadData.Length <= 1440 - 12));
        Assert.All(sent, t => Assert.True(Options(t).ContainsKey(8)));
        Assert.Equal(cookie + 1, (uint)sent[0].SequenceNumber);
        AssertBalanced(c);
    }

    [Fact]
    public void Without_timestamps_a_cookie_connection_goes_without_window_scaling_and_sack()
    {
        var c = Listening(new StackSettings(StackProtocols.Tcp, new[] { 80 }, SynCookies: SynCookieMode.Always));
        c.Send(Syn(50000, 7000, mss: 1000, scale: 7, sack: true));
        var synAck = LastSegment(c);
        var options = Options(synAck);
        Assert.Equal(new[] { 2 }, options.Keys.Order()); // MSS alone: nowhere to keep the others
        Assert.Equal(0, c.Stack.Stack.ConnectionCount);

        c.Send(Ack(50000, 7001, (uint)synAck.SequenceNumber + 1, window: 3000));

        Assert.True(c.Listener.TryAccept(out var connection));
        Assert.Equal(536, connection.SendMss); // the largest a cookie names under the peer's 1,000
        Assert.Equal((false, 0, false, false), connection.Negotiated);
        c.Wire.Frames.Clear();
        connection.Send(new byte[10_000]);
        c.Host.Pump();
        var sent = c.Wire.Frames.Select(f => TestFrames.Parse(f).Extract<TcpPacket>()).Where(t => t.PayloadData.Length > 0).ToList();
        Assert.Equal(5, sent.Count); // the window unscaled: five 536-byte segments fit in 3,000 bytes
        Assert.All(sent, t => Assert.Equal(536, t.PayloadData.Length));
        Assert.All(sent, t => Assert.Empty(Options(t)));
    }

    [Fact]
    public void An_ack_with_a_forged_or_stale_cookie_is_reset_and_makes_nothing()
    {
        var c = Listening(new StackSettings(StackProtocols.Tcp, new[] { 80 }, SynCookies: SynCookieMode.Always));
        c.Send(Syn(50000, 7000));
        var cookie = (uint)LastSegment(c).SequenceNumber;

        c.Send(Ack(50000, 7001, cookie + 1 + 0x10000)); // a guess near it
        Assert.True(LastSegment(c).Reset);
        c.Send(Ack(50001, 7001, cookie + 1)); // another port's
        Assert.True(LastSegment(c).Reset);
        Assert.Equal(2, c.Stack.Counters.SynCookiesRejected);

        c.Clock.Advance(TimeSpan.FromMinutes(3)); // the cookie is too old, and none went since: not even looked at
        c.Send(Ack(50000, 7001, cookie + 1));
        Assert.Equal(2, c.Stack.Counters.SynCookiesRejected);
        Assert.Equal(3, c.Stack.Counters.Dropped(StackDropReason.PortUnreachable)); // each reset as a stray ACK
        Assert.False(c.Listener.TryAccept(out _));
        Assert.Equal(0, c.Stack.Stack.ConnectionCount);
        Assert.Equal(0, c.Stack.Counters.SynCookiesAccepted);
        AssertBalanced(c);
    }

    [Fact]
    public void A_burst_of_a_thousand_connections_is_held_without_cookies_by_default()
    {
        // Linux holds 1,024 half-open connections (tcp_max_syn_backlog on any machine of size);
        // with 256, a user's burst of 1,000 connections at a host still warming up went to
        // cookies, and those whose cookie ACK and first data a full ring dropped were lost — with
        // state, the peer's retransmissions complete them.
        var c = Listening(new StackSettings(StackProtocols.Tcp, new[] { 80 }));
        for (var i = 0; i < 1000; i++)
        {
            c.Host.Nic("e0").Device.Receive(Syn((ushort)(20000 + i), 1000));
            if (i % 32 == 0) c.Host.Pump();
        }
        c.Host.Pump();
        Assert.Equal(1000, c.Listener.HalfOpen);
        Assert.Equal(0, c.Stack.Counters.SynCookiesSent);
    }

    [Fact]
    public void Our_own_client_connects_through_a_flooded_listener_and_transfers_with_scaling_sack_and_timestamps()
    {
        var harness = new StackHarness();
        var listener = harness.Db.Stack.ListenTcp(5432);
        var backlog = harness.Db.Settings.SynBacklog;
        for (var i = 0; i < backlog + 50; i++)
        {
            harness.Host.Nic("e1").Device.Receive(TestFrames.Tcp("02:00:00:00:00:03", "10.0.0.3", 5432, $"10.8.{i / 250}.{i % 250 + 1}"));
            if (i % 32 == 0) harness.Host.Pump();
        }
        harness.Host.Pump();
        Assert.Equal(backlog, listener.HalfOpen);
        Assert.Equal(50, harness.Db.Counters.SynCookiesSent);

        var client = harness.Web.Stack.ConnectTcp(NetworkEndpoint.Parse("10.0.0.3", 5432));
        TcpConnection? server = null;
        Assert.True(harness.RunUntil(() => listener.TryAccept(out server)), "the handshake completes through a cookie");
        Assert.Equal(51, harness.Db.Counters.SynCookiesSent);
        Assert.Equal(1, harness.Db.Counters.SynCookiesAccepted);
        Assert.True(harness.RunUntil(() => client.State == TcpState.Established));

        var data = StackHarness.Pattern(3_000_000, 5);
        var received = new MemoryStream();
        var buffer = new byte[65536];
        var sent = 0;
        Assert.True(harness.RunUntil(() =>
        {
            if (sent < data.Length) sent += client.Send(data.AsSpan(sent));
            int n;
            while ((n = server!.Read(buffer)) > 0) received.Write(buffer, 0, n);
            return received.Length == data.Length;
        }, 10));
        Assert.Equal(data, received.ToArray());
        Assert.Equal((true, 7, true, true), server!.Negotiated); // the client's shift, SACK and timestamps, from the cookie
        Assert.Equal((true, 7, true, true), client.Negotiated);
        Assert.Equal(1460, server.SendMss);
        harness.AssertBalanced();
    }

    [Fact]
    public void A_half_open_connection_frees_its_place_when_it_completes_is_reset_or_times_out()
    {
        var c = Listening(new StackSettings(StackProtocols.Tcp, new[] { 80 }, SynBacklog: 8, RetransmissionTimeout: TimeSpan.FromMilliseconds(100)));
        c.Send(Syn(50000, 7000));
        var completing = (uint)LastSegment(c).SequenceNumber;
        c.Send(Syn(50001, 8000));
        c.Send(Syn(50002, 9000)); // this one's peer never answers
        Assert.Equal(3, c.Listener.HalfOpen);

        c.Send(Ack(50000, 7001, completing + 1));
        Assert.Equal(2, c.Listener.HalfOpen);
        c.Send(TestFrames.Tcp("02:00:00:00:00:01", "192.168.10.20", 80, HandMadePeer.Peer, srcPort: 50001, syn: false, rst: true, sequence: 8001));
        Assert.Equal(1, c.Listener.HalfOpen);
        Assert.True(c.Host.RunUntil(() => c.Listener.HalfOpen == 0, TimeSpan.FromMinutes(2)), "the unanswered SYN-ACK gives up");
        Assert.Equal(1, c.Stack.Stack.ConnectionCount); // the completed one
    }

    [Fact]
    public void An_unanswered_syn_ack_goes_five_times_more_and_the_request_is_dropped_without_a_reset()
    {
        // Linux's tcp_synack_retries: 5, then the request is dropped and its place in the SYN
        // queue freed. The peer may still be retrying its SYN: a RST would fail its connect.
        var c = Listening(new StackSettings(StackProtocols.Tcp, new[] { 80 }, RetransmissionTimeout: TimeSpan.FromMilliseconds(100)));
        c.Wire.Frames.Clear();
        c.Send(Syn(50000, 7000));

        Assert.True(c.Host.RunUntil(() => c.Listener.HalfOpen == 0, TimeSpan.FromMinutes(5)));
        var segments = c.Wire.Frames.Select(f => TestFrames.Parse(f).Extract<TcpPacket>()).OfType<TcpPacket>().ToList();
        Assert.Equal(6, segments.Count);
        Assert.All(segments, s => Assert.True(s.Synchronize && s.Acknowledgment && !s.Reset));
        Assert.Equal(0, c.Stack.Stack.ConnectionCount);
    }

    [Fact]
    public void A_full_queue_with_cookies_off_pushes_out_only_a_connection_still_half_open()
    {
        var c = Listening(new StackSettings(StackProtocols.Tcp, new[] { 80 }, SynBacklog: 2, SynCookies: SynCookieMode.Off));
        c.Send(Syn(50000, 7000));
        var first = (uint)LastSegment(c).SequenceNumber;
        c.Send(Syn(50001, 8000));
        c.Send(Ack(50000, 7001, first + 1)); // the oldest completes: its place is free
        Assert.Equal(1, c.Listener.HalfOpen);

        c.Send(Syn(50002, 9000)); // room: nothing pushed out
        Assert.Equal(0, c.Listener.SynQueueDrops);
        c.Send(Syn(50003, 9500)); // full: the oldest half-open (50001) goes, not the established 50000
        Assert.Equal(1, c.Listener.SynQueueDrops);
        Assert.Equal(1, c.Stack.Counters.SynQueueOverflows);
        Assert.Equal(2, c.Listener.HalfOpen);
        Assert.True(c.Listener.TryAccept(out var established));
        Assert.Equal(50000, established.Remote.Port);
        Assert.Equal(TcpState.Established, established.State);
    }

    [Fact]
    public void A_cookie_ack_while_the_accept_queue_is_full_is_dropped_and_its_next_ack_makes_the_connection()
    {
        var c = Listening(new StackSettings(StackProtocols.Tcp, new[] { 80 }, SocketQueue: 1, SynCookies: SynCookieMode.Always));
        c.Send(Syn(50000, 7000));
        var a = (uint)LastSegment(c).SequenceNumber;
        c.Send(Syn(50001, 8000));
        var b = (uint)LastSegment(c).SequenceNumber;
        c.Send(Ack(50001, 8001, b + 1)); // b fills the accept queue

        c.Send(Ack(50000, 7001, a + 1));
        Assert.Equal(1, c.Stack.Counters.Dropped(StackDropReason.SocketFull));
        Assert.Equal(1, c.Stack.Stack.ConnectionCount);
        Assert.True(c.Listener.TryAccept(out var first));
        Assert.Equal(50001, first.Remote.Port);

        c.Send(Ack(50000, 7001, a + 1)); // the same ACK again, as a peer sends it on its timer
        Assert.True(c.Listener.TryAccept(out var second));
        Assert.Equal(50000, second.Remote.Port);
        Assert.Equal(2, c.Stack.Counters.SynCookiesAccepted);
        AssertBalanced(c);
    }

    [Fact]
    public void A_cookie_ack_with_a_fin_makes_a_connection_in_close_wait()
    {
        var c = Listening(new StackSettings(StackProtocols.Tcp, new[] { 80 }, SynCookies: SynCookieMode.Always));
        c.Send(Syn(50000, 7000));
        var cookie = (uint)LastSegment(c).SequenceNumber;

        c.Send(TestFrames.Tcp("02:00:00:00:00:01", "192.168.10.20", 80, HandMadePeer.Peer, srcPort: 50000, syn: false, ack: true, fin: true,
            sequence: 7001, acknowledgment: cookie + 1, payload: new byte[] { 9, 8, 7 }));

        Assert.True(c.Listener.TryAccept(out var connection));
        Assert.Equal(TcpState.CloseWait, connection.State);
        Assert.Equal(3, connection.Available);
        Assert.Equal(7001u + 3 + 1, (uint)LastSegment(c).AcknowledgmentNumber); // its data and FIN acknowledged
    }

    [Fact]
    public void Over_ipv6_a_client_connects_through_a_cookie_with_the_ipv6_segment_sizes()
    {
        var cookie = SynCookie.Make(Key, NetworkAddress.Parse("fd00::1"), 40000, NetworkAddress.Parse("fd00::3"), 80, 1000, 500, SynCookie.SizeIndex(true, 1440));
        Assert.Equal(2, SynCookie.Check(Key, NetworkAddress.Parse("fd00::1"), 40000, NetworkAddress.Parse("fd00::3"), 80, 1000, cookie, 500));
        Assert.Equal(0, SynCookie.SizeIndex(true, 1000)); // below the table: its smallest, 1,220
        // An IPv4-mapped look-alike of the same bits is another connection.
        Assert.Equal(-1, SynCookie.Check(Key, new NetworkAddress(NetworkAddress.Parse("fd00::1").Value, false), 40000, NetworkAddress.Parse("fd00::3"), 80, 1000, cookie, 500));

        var harness = new StackHarness();
        var listener = harness.Db.Stack.ListenTcp(5432);
        var backlog = harness.Db.Settings.SynBacklog;
        for (var i = 0; i < backlog + 5; i++)
        {
            harness.Host.Nic("e1").Device.Receive(Packets.Frames.TcpSyn(0x02AA_0000_0001UL, 0x02_00_00_00_00_03UL,
                new IPEndPoint(IPAddress.Parse($"fd00::8:{i + 1:x}"), 40000), new IPEndPoint(IPAddress.Parse("fd00::3"), 5432)));
            if (i % 32 == 0) harness.Host.Pump();
        }
        harness.Host.Pump();
        Assert.Equal(5, harness.Db.Counters.SynCookiesSent);

        var client = harness.Web.Stack.ConnectTcp(NetworkEndpoint.Parse("fd00::3", 5432));
        TcpConnection? server = null;
        Assert.True(harness.RunUntil(() => listener.TryAccept(out server)));
        Assert.True(server!.FromCookie);
        Assert.Equal(1440, server.SendMss);
        Assert.True(harness.RunUntil(() => client.State == TcpState.Established));
        var data = StackHarness.Pattern(200_000, 3);
        Assert.Equal(data, harness.SendAndReceive(client, server, data));
    }

    // --- a container listening on port 80 and a hand-made peer ---

    private sealed record Setup(NetworkHost Host, VirtualClock Clock, CapturingWire Wire, VirtualNetworkStack Stack, TcpListener Listener)
    {
        public void Send(byte[] frame)
        {
            Host.Nic("e0").Device.Receive(frame);
            Host.Pump();
        }
    }

    private static Setup Listening(StackSettings settings)
    {
        var (host, clock, wire, vns) = HandMadePeer.Container(settings);
        return new Setup(host, clock, wire, vns, vns.Stack.ListenTcp(80));
    }

    private static void AssertBalanced(Setup c)
    {
        var counters = c.Stack.Counters;
        Assert.Equal(counters.Received, counters.Delivered + counters.Answered + counters.DroppedTotal);
    }

    private static byte[] Syn(ushort port, uint sequence, int? mss = null, int? scale = null, bool sack = false, uint? stamp = null)
    {
        var options = new List<byte>();
        if (mss is { } m) options.AddRange([2, 4, (byte)(m >> 8), (byte)m]);
        if (stamp is { } s) options.AddRange(Timestamps(s, 0));
        if (scale is { } w) options.AddRange([1, 3, 3, (byte)w]);
        if (sack) options.AddRange([1, 1, 4, 2]);
        var frame = TestFrames.Tcp("02:00:00:00:00:01", "192.168.10.20", 80, HandMadePeer.Peer, srcPort: port, sequence: sequence);
        return options.Count == 0 ? frame : WithOptions(frame, options.ToArray());
    }

    private static byte[] Ack(ushort port, uint sequence, uint acknowledgment, byte[]? payload = null, ushort? window = null)
    {
        var frame = TestFrames.Tcp("02:00:00:00:00:01", "192.168.10.20", 80, HandMadePeer.Peer, srcPort: port, syn: false, ack: true,
            sequence: sequence, acknowledgment: acknowledgment, payload: payload);
        if (window is { } w)
        {
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(14 + 20 + 14), w);
            Reseal(frame);
        }
        return frame;
    }

    private static byte[] Timestamps(uint value, uint echo)
    {
        var option = new byte[12];
        option[0] = option[1] = 1;
        option[2] = 8;
        option[3] = 10;
        BinaryPrimitives.WriteUInt32BigEndian(option.AsSpan(4), value);
        BinaryPrimitives.WriteUInt32BigEndian(option.AsSpan(8), echo);
        return option;
    }

    // The frame with `options` (a multiple of 4 bytes) after its 20-byte TCP header.
    private static byte[] WithOptions(byte[] frame, byte[] options)
    {
        const int Ip = 14, Tcp = 14 + 20;
        frame = frame.AsSpan(0, Ip + BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(Ip + 2))).ToArray(); // no Ethernet padding
        var result = frame.Take(Tcp + 20).Concat(options).Concat(frame.Skip(Tcp + 20)).ToArray();
        BinaryPrimitives.WriteUInt16BigEndian(result.AsSpan(Ip + 2), (ushort)(result.Length - Ip));
        result[Tcp + 12] = (byte)((20 + options.Length) / 4 << 4);
        Reseal(result);
        return result;
    }

    private static void Reseal(byte[] frame)
    {
        const int Ip = 14, Tcp = 14 + 20;
        frame[Ip + 10] = frame[Ip + 11] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(Ip + 10), Packets.InternetChecksum.Compute(frame.AsSpan(Ip, 20)));
        frame[Tcp + 16] = frame[Tcp + 17] = 0;
        var end = Ip + BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(Ip + 2));
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(Tcp + 16),
            Packets.InternetChecksum.ComputeV4(frame.AsSpan(Ip + 12, 4), frame.AsSpan(Ip + 16, 4), 6, frame.AsSpan(Tcp, end - Tcp)));
    }

    private static TcpPacket LastSegment(Setup c) => TestFrames.Parse(c.Wire.Frames.Last()).Extract<TcpPacket>();

    // Option kind → its value bytes.
    private static Dictionary<int, byte[]> Options(TcpPacket tcp)
    {
        var result = new Dictionary<int, byte[]>();
        var options = tcp.Options;
        for (var i = 0; i < options.Length;)
        {
            if (options[i] == 0) break;
            if (options[i] == 1) { i++; continue; }
            result[options[i]] = options.AsSpan(i + 2, options[i + 1] - 2).ToArray();
            i += options[i + 1];
        }
        return result;
    }
}
