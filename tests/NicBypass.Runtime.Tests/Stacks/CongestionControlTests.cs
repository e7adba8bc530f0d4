using System.Buffers.Binary;
using System.Net;
using NicBypass.Runtime.Packets;
using PacketDotNet;
using NicBypass.Runtime.Devices;
using NicBypass.Runtime.Stacks;

namespace NicBypass.Runtime.Tests;

/// <summary>
/// The sender's congestion control (RFC 5681, with RFC 3465's byte counting and RFC 6675's SACK
/// recovery): slow start up to the threshold, congestion avoidance past it, a threshold of half the
/// flight after a loss, one segment after a timeout, and the restart after idle.
/// </summary>
public class CongestionControlTests
{
    private const int Mss = 1460; // the harness's MTU of 1,500 less the IPv4 and TCP headers

    [Fact]
    public void Without_loss_the_window_slow_starts_from_ten_segments_and_the_threshold_stays_unset()
    {
        var harness = new StackHarness();
        var (client, server) = harness.Connect();
        Assert.Equal(10 * Mss, client.CongestionWindow); // RFC 6928

        var data = StackHarness.Pattern(200_000, 1);
        Assert.Equal(data, harness.SendAndReceive(client, server, data));

        Assert.Equal(int.MaxValue, client.SlowStartThreshold);
        // Slow start: every acknowledged byte grew the window (200 KB acknowledged, from 14.6 KB).
        Assert.True(client.CongestionWindow >= 10 * Mss + data.Length - 2 * Mss, $"cwnd {client.CongestionWindow}");
        harness.AssertBalanced();
    }

    [Fact]
    public void Three_duplicate_acks_halve_the_flight_into_the_threshold_and_the_window_then_grows_a_segment_per_window()
    {
        var harness = new StackHarness();
        var (client, server) = harness.Connect();
        harness.Cable.LoseWhen = LoseClientData(index => index == 5); // the sixth segment of the first window of ten

        var data = StackHarness.Pattern(200_000, 2);
        Assert.Equal(data, harness.SendAndReceive(client, server, data));
        Assert.Equal(1, harness.Cable.Lost);
        Assert.True(client.Retransmissions >= 1);
        // The flight when the third duplicate came was the first window and what its ACKs let out:
        // half of it, at least two segments (RFC 5681 (4)).
        var threshold = client.SlowStartThreshold;
        Assert.InRange(threshold, 2 * Mss, 20 * Mss);

        // Congestion avoidance from there: one segment per window's worth of acknowledged bytes —
        // at most 1 MB / cwnd segments for 1 MB, where slow start would have grown it by 1 MB.
        var before = client.CongestionWindow;
        Assert.True(before >= threshold, $"cwnd {before} below the threshold {threshold} after the recovery");
        var more = StackHarness.Pattern(1_000_000, 3);
        var received = new MemoryStream();
        var buffer = new byte[65536];
        var sent = 0;
        Assert.True(harness.RunUntil(() =>
        {
            if (sent < more.Length) sent += client.Send(more.AsSpan(sent));
            int n;
            while ((n = server.Read(buffer)) > 0) received.Write(buffer, 0, n);
            return received.Length == more.Length;
        }, seconds: 30));
        Assert.Equal(more, received.ToArray());
        var growth = client.CongestionWindow - before;
        Assert.True(growth > 0, "the window grew in avoidance");
        Assert.True(growth <= (more.Length / before + 1) * Mss, $"cwnd grew {growth} bytes from {before} over 1 MB: more than a segment per window");
        Assert.Equal(threshold, client.SlowStartThreshold); // no loss since: unchanged
        harness.AssertBalanced();
    }

    [Theory]
    [InlineData(CongestionControl.Reno, 6 * 1448 / 2)]            // RFC 5681 (4): half the flight of six
    [InlineData(CongestionControl.Cubic, (int)(6 * 1448 * 0.7))]   // RFC 9438 4.6: β_cubic of it
    public void A_loss_at_the_tail_restarts_from_a_threshold_of_beta_times_the_flight(CongestionControl control, int expected)
    {
        var settings = new StackSettings(StackProtocols.Tcp, new[] { 80 }, CongestionControl: control);
        var (host, _, cable, client, server) = TestHost.ConnectedPair("tail" + control, settings, TimeSpan.Zero);
        // Twenty full segments; the last six are lost, so no duplicate ACK follows them: only the
        // timers (the tail-loss probe, the retransmission timeout) find them, with six in flight.
        cable.LoseWhen = LoseData(80, index => index is >= 14 and < 20);

        var data = StackHarness.Pattern(20 * 1448, 4);
        Assert.Equal(data, TestHost.Stream(host, client, server, data));
        Assert.Equal(6, cable.Lost);
        Assert.True(client.Retransmissions >= 1);
        Assert.Equal(expected, client.SlowStartThreshold);

        // Past the threshold it grows in avoidance: 200 KB grow it by a few segments, not 200 KB.
        var threshold = client.SlowStartThreshold;
        var more = StackHarness.Pattern(200_000, 5);
        Assert.Equal(more, TestHost.Stream(host, client, server, more));
        Assert.InRange(client.CongestionWindow, threshold, threshold + (more.Length / threshold + 2) * Mss);
        Assert.Equal(threshold, client.SlowStartThreshold);
        host.AssertBalanced();
    }

    [Fact]
    public void Slow_start_overshooting_a_queue_its_acks_share_recovers_in_round_trips_not_seconds()
    {
        // Slow start overshoots a 1 Gbit/s hairpin with a 200-frame queue and a 20 ms round trip,
        // and the ACKs share the queue (a cable looped back to its NIC): hundreds of segments and
        // ACKs are lost. It took the timeout, and then a SACK recovery started by the go-back's
        // duplicate ACKs froze the window at a few segments until the whole old flight was
        // acknowledged: 5.5 s for 30 MB. Proportional rate reduction (which, not the window,
        // paces a recovery's sends now) and lost retransmissions found by order repair it without
        // the timeout.
        var (host, clock, cable, client, server) = Bottleneck(hairpin: true);
        var data = StackHarness.Pattern(30 << 20, 11);
        var start = clock.Nanoseconds;
        Assert.Equal(data, TestHost.Stream(host, client, server, data));
        Assert.True(cable.Overflowed > 100, $"{cable.Overflowed} frames overflowed the queue");
        var seconds = (clock.Nanoseconds - start) / 1e9;
        Assert.True(seconds < 0.9, $"30 MB took {seconds:0.00} s of virtual time (with the timeout and a frozen window: 5.5 s; with the timeout alone: 2.1 s)");
        host.AssertBalanced();
    }

    [Fact]
    public void Slow_start_overshooting_a_short_queue_is_repaired_without_a_timeout_and_without_sending_anything_twice_needlessly()
    {
        // A 1 Gbit/s link with a 200-frame queue and a 20 ms round trip (one direction each way):
        // slow start overshoots by a thousand segments, every other one of a burst lost. The
        // recovery must send what the peer lacks — all of it, at the pace the ACKs allow
        // (proportional rate reduction), again when a retransmission is lost too (the peer SACKs
        // what was sent after it) — and the peer must hold what arrives around a thousand holes.
        var (host, clock, cable, client, server) = Bottleneck(hairpin: false);
        var data = StackHarness.Pattern(8 << 20, 13);
        var start = clock.Nanoseconds;
        var smallest = int.MaxValue;
        Assert.Equal(data, TestHost.Stream(host, client, server, data, () => smallest = Math.Min(smallest, client.CongestionWindow)));
        Assert.True(cable.Overflowed > 500, $"{cable.Overflowed} frames overflowed the queue");
        Assert.True(smallest > 10 * 1448, $"the window fell to {smallest}: a timeout");
        Assert.Equal(cable.Overflowed, client.Retransmissions); // each lost segment sent again once: nothing twice needlessly
        Assert.Equal(0, host.NetworkStack("server").Counters.Dropped(StackDropReason.OutOfOrder));
        var seconds = (clock.Nanoseconds - start) / 1e9;
        Assert.True(seconds < 0.3, $"8 MB took {seconds:0.000} s of virtual time");
        host.AssertBalanced();
    }

    [Fact]
    public void A_retransmission_lost_again_behind_a_partial_ack_is_sent_again_without_waiting_for_the_timeout()
    {
        // Two holes in one flight; the second one's retransmission is lost too. After the first
        // is filled (a partial ACK), SND.UNA stands at the second, whose retransmission left long
        // ago: the peer SACKing data sent after it says it was lost again (RACK's rule, by order),
        // and it goes once more — before, only the 200 ms retransmission timeout found it.
        var settings = new StackSettings(StackProtocols.Tcp, new[] { 80 });
        var (host, clock, cable, client, server) = TestHost.ConnectedPair("lostagain", settings, TimeSpan.FromMilliseconds(1));
        cable.LoseWhen = LoseSends(80, (index, count) => index == 30 && count == 0 || index == 34 && count < 2);
        var data = StackHarness.Pattern(2 << 20, 14);
        var start = clock.Nanoseconds;
        var smallest = int.MaxValue;
        Assert.Equal(data, TestHost.Stream(host, client, server, data, () => smallest = Math.Min(smallest, client.CongestionWindow)));
        Assert.Equal(3, cable.Lost);
        Assert.True(smallest > 1460, "no retransmission timeout");
        var milliseconds = (clock.Nanoseconds - start) / 1e6;
        Assert.True(milliseconds < 150, $"2 MB took {milliseconds:0.0} ms of virtual time");
        host.AssertBalanced();
    }

    [Theory]
    [InlineData(CongestionControl.Reno)]
    [InlineData(CongestionControl.Cubic)]
    public void In_a_recovery_new_data_keeps_flowing_in_proportion_to_what_the_peer_takes(CongestionControl control)
    {
        // One segment lost from a large flight. For the round trip until its retransmission is
        // acknowledged, every ACK SACKs a segment the peer took; proportional rate reduction
        // (RFC 6937) sends a share of them anew (the pipe falls to the threshold smoothly) — before,
        // the flight (SACKed bytes and all) filled the window and nothing new went until the end.
        var settings = new StackSettings(StackProtocols.Tcp, new[] { 80 }, CongestionControl: control);
        var sends = new Dictionary<uint, int>();
        var (host, _, cable, client, server) = TestHost.ConnectedPair("prr" + control, settings, TimeSpan.FromMilliseconds(5));
        uint lostEnd = 0, highestBefore = 0;
        bool recovering = false, recovered = false;
        var fresh = 0;
        uint lostStart = 0;
        cable.Tap = (_, memory) =>
        {
            var frame = memory.Span;
            if (frame.Length < 54 || BinaryPrimitives.ReadUInt16BigEndian(frame.Slice(12)) != 0x0800 || frame[23] != 6) return;
            var ipHeader = (frame[14] & 0x0F) * 4;
            var tcp = frame.Slice(14 + ipHeader);
            var payload = BinaryPrimitives.ReadUInt16BigEndian(frame.Slice(16)) - ipHeader - (tcp[12] >> 4) * 4;
            if (BinaryPrimitives.ReadUInt16BigEndian(tcp.Slice(0)) == 80)
            {
                if (recovering && !Before(BinaryPrimitives.ReadUInt32BigEndian(tcp.Slice(8)), lostEnd)) { recovering = false; recovered = true; }
                return;
            }
            if (payload <= 0) return;
            var sequence = BinaryPrimitives.ReadUInt32BigEndian(tcp.Slice(4));
            if (lostEnd != 0 && sequence == lostStart && !recovering && !recovered) recovering = true; // the fast retransmit (the cable loses before its tap sees)
            if (recovering && After(sequence, highestBefore)) fresh++;
            if (!recovering && !recovered) highestBefore = After(sequence, highestBefore) || highestBefore == 0 ? sequence : highestBefore;
        };
        cable.LoseWhen = frame =>
        {
            if (frame.Length < 54 || BinaryPrimitives.ReadUInt16BigEndian(frame.Slice(12)) != 0x0800 || frame[23] != 6) return false;
            var ipHeader = (frame[14] & 0x0F) * 4;
            var tcp = frame.Slice(14 + ipHeader);
            var payload = BinaryPrimitives.ReadUInt16BigEndian(frame.Slice(16)) - ipHeader - (tcp[12] >> 4) * 4;
            if (payload <= 0 || BinaryPrimitives.ReadUInt16BigEndian(tcp.Slice(2)) != 80) return false;
            var sequence = BinaryPrimitives.ReadUInt32BigEndian(tcp.Slice(4));
            if (sends.TryGetValue(sequence, out var count)) { sends[sequence] = count + 1; return false; }
            sends[sequence] = 1;
            if (sends.Count != 300) return false;
            lostStart = sequence;
            lostEnd = sequence + (uint)payload;
            return true;
        };
        var data = StackHarness.Pattern(4 << 20, 15);
        Assert.Equal(data, TestHost.Stream(host, client, server, data));
        Assert.Equal(1, cable.Lost);
        Assert.True(recovered, "the retransmission was acknowledged");
        // The ACKs of the recovery's round trip let dozens go anew, where none went — and no
        // more than the peer took meanwhile: at most the flight behind the lost segment (a burst
        // up to the peer's window overflowed a bottleneck and ended in the timeout).
        var behind = (int)((highestBefore - lostEnd) / 1448) + 1;
        Assert.True(fresh >= 20, $"{fresh} new segments went during the recovery");
        Assert.True(fresh <= behind, $"{fresh} new segments went during the recovery, {behind} were in flight behind the loss");

        host.AssertBalanced();
    }

    [Fact]
    public void The_go_back_after_a_timeout_sends_again_only_what_the_peer_has_not_sacked_since()
    {
        // Nine holes, each lost the first six times it goes, leave the timeout to find them; the
        // peer holds everything between them and keeps saying so. After the timeout no data
        // segment may repeat bytes that an ACK which had reached the sender since the timeout
        // reported held (the scoreboard is forgotten at the timeout: the peer may renege, RFC
        // 2018 8). The go-back in the recovery its duplicate ACKs start sent such data, uncounted
        // by the rate reduction, and holes twice (found by review).
        const long latency = 1_000_000;
        var settings = new StackSettings(StackProtocols.Tcp, new[] { 80 });
        var (host, clock, cable, client, server) = TestHost.ConnectedPair("skip", settings, TimeSpan.FromTicks(latency / 100));
        long timedOutAt = -1;
        var sacked = new List<(long At, uint Start, uint End)>(); // blocks the peer sent, and when they reached the sender
        int resentSacked = 0, afterTimeout = 0, lastWindow = client.CongestionWindow;
        cable.Tap = (_, memory) =>
        {
            var frame = memory.Span;
            if (frame.Length < 54 || BinaryPrimitives.ReadUInt16BigEndian(frame.Slice(12)) != 0x0800 || frame[23] != 6) return;
            var ipHeader = (frame[14] & 0x0F) * 4;
            var tcp = frame.Slice(14 + ipHeader);
            var headerLength = (tcp[12] >> 4) * 4;
            var payload = BinaryPrimitives.ReadUInt16BigEndian(frame.Slice(16)) - ipHeader - headerLength;
            var now = clock.Nanoseconds;
            // Each timeout forgets what was SACKed before it: counted from the latest.
            if (client.CongestionWindow <= 1460 && lastWindow > 1460 && client.Unacknowledged > 0) timedOutAt = now;
            lastWindow = client.CongestionWindow;
            if (BinaryPrimitives.ReadUInt16BigEndian(tcp) == 80)
            {
                for (var i = 20; i + 1 < headerLength;)
                {
                    if (tcp[i] == 1) { i++; continue; }
                    if (tcp[i] == 0) break;
                    for (var b = i + 2; tcp[i] == 5 && b + 8 <= i + tcp[i + 1]; b += 8)
                        sacked.Add((now + latency, BinaryPrimitives.ReadUInt32BigEndian(tcp.Slice(b)), BinaryPrimitives.ReadUInt32BigEndian(tcp.Slice(b + 4))));
                    i += tcp[i + 1];
                }
                return;
            }
            if (payload <= 0 || timedOutAt < 0) return;
            afterTimeout++;
            var sequence = BinaryPrimitives.ReadUInt32BigEndian(tcp.Slice(4));
            if (sacked.Any(s => s.At > timedOutAt && s.At <= now && !Before(sequence, s.Start) && !Before(s.End, sequence + (uint)payload))) resentSacked++;
        };
        cable.LoseWhen = LoseSends(80, (index, count) => index is >= 20 and <= 100 && index % 10 == 0 && count < 6);
        var data = StackHarness.Pattern(200 * 1448, 12);
        Assert.Equal(data, TestHost.Stream(host, client, server, data));
        Assert.True(timedOutAt >= 0, "the timeout fired");
        Assert.True(afterTimeout > 9, $"{afterTimeout} data segments after the timeout");
        Assert.True(resentSacked == 0, $"{resentSacked} of {afterTimeout} data segments after the timeout repeated bytes already SACKed");
        host.AssertBalanced();
    }

    [Theory]
    [InlineData(CongestionControl.Cubic)]
    [InlineData(CongestionControl.Reno)]
    public void The_window_does_not_grow_while_the_peers_window_holds_the_flight_back(CongestionControl control)
    {
        // The peer's buffer holds eight segments: after a loss the flight is the peer's window,
        // never the congestion window. CUBIC's window is a function of time: it grew regardless
        // (7 → 172 segments in 10 s, found by review) and burst when the peer's window opened
        // (RFC 9438 5.8, Linux's tcp_is_cwnd_limited).
        var settings = new StackSettings(StackProtocols.Tcp, new[] { 80 }, TcpBuffer: 8 * 1448, TcpBufferLimit: 8 * 1448, CongestionControl: control);
        var (host, _, cable, client, server) = TestHost.ConnectedPair("rwnd" + control, settings, TimeSpan.FromMilliseconds(5));
        cable.LoseWhen = LoseData(80, index => index == 5);
        var data = StackHarness.Pattern(2 << 20, 19);
        Assert.Equal(data, TestHost.Stream(host, client, server, data));
        Assert.Equal(1, cable.Lost);
        Assert.True(client.CongestionWindow <= 16 * 1448, $"cwnd {client.CongestionWindow / 1448} segments behind a peer's window of 8");
        host.AssertBalanced();
    }

    [Fact]
    public void In_a_recovery_an_ack_that_reports_nothing_taken_sends_nothing()
    {
        // RFC 9937 (proportional rate reduction's update) and Linux's tcp_cwnd_reduction: the
        // sending in a recovery is clocked by what the peer takes. A duplicate ACK that reports
        // nothing new released a segment all the same (the reduction bound's extra one, found by
        // review): here it would be new data, the application has plenty.
        var (host, _, wire, vns) = HandMadePeer.Container(new StackSettings(StackProtocols.Tcp, new[] { 80 }));
        var listener = vns.Stack.ListenTcp(80);
        const string mac = "02:00:00:00:00:01", own = "192.168.10.20";
        var synOptions = new byte[] { 2, 4, 1460 >> 8, 1460 & 0xFF, 4, 2, 1, 1 }; // MSS 1,460, SACK permitted
        host.Nic("e0").Device.Receive(TestFrames.Tcp(mac, own, 80, HandMadePeer.Peer, sequence: HandMadePeer.PeerIss, options: synOptions));
        host.Pump();
        var synAck = TestFrames.Parse(wire.Frames.Last()).Extract<PacketDotNet.TcpPacket>();
        var iss = synAck.SequenceNumber;
        byte[] Ack(uint acknowledged, uint sackStart = 0, uint sackEnd = 0) => TestFrames.Tcp(mac, own, 80, HandMadePeer.Peer, syn: false, ack: true,
            sequence: HandMadePeer.PeerIss + 1, acknowledgment: acknowledged, options: sackEnd == 0 ? null : SackOption(sackStart, sackEnd));
        host.Nic("e0").Device.Receive(Ack(iss + 1));
        host.Pump();
        Assert.True(listener.TryAccept(out var connection));
        wire.Frames.Clear();

        Assert.Equal(40 * 1460, connection.Send(new byte[40 * 1460]));
        host.Pump(); // the first window: ten segments
        uint Segment(int i) => iss + 1 + (uint)(i * 1460);
        // The second is lost: the peer acknowledges the first, then SACKs the third to the eighth.
        host.Nic("e0").Device.Receive(Ack(Segment(1)));
        host.Nic("e0").Device.Receive(Ack(Segment(1), Segment(2), Segment(8)));
        host.Pump();
        Assert.True(connection.Retransmissions >= 1, "the recovery began: the second segment went again");
        var before = DataFrames(wire);

        // The same ACK again (a duplicate that reports nothing new): nothing goes.
        host.Nic("e0").Device.Receive(Ack(Segment(1), Segment(2), Segment(8)));
        host.Pump();
        Assert.True(before == DataFrames(wire), $"{DataFrames(wire) - before} data segments went on an ACK that reported nothing taken ({before} before; cwnd {connection.CongestionWindow}, ssthresh {connection.SlowStartThreshold}, retransmissions {connection.Retransmissions})");

        // One that reports the ninth taken lets something go.
        host.Nic("e0").Device.Receive(Ack(Segment(1), Segment(2), Segment(9)));
        host.Pump();
        Assert.True(DataFrames(wire) > before, "an ACK that reported a segment taken let one go");
    }

    [Fact]
    public void A_hole_the_watch_sent_again_is_not_taken_for_lost_by_the_record_of_its_earlier_copy()
    {
        // The hole at SND.UNA goes by fast retransmit, then once more when the watch finds it
        // unacknowledged. Data sent between the two, SACKed, says nothing of the watch's copy —
        // but the fast retransmit's record, kept beside the watch's, said it lost again, and the
        // hole went a fourth time at once (found by review).
        var (host, clock, wire, vns) = HandMadePeer.Container(new StackSettings(StackProtocols.Tcp, new[] { 80 }));
        var listener = vns.Stack.ListenTcp(80);
        const string mac = "02:00:00:00:00:01", own = "192.168.10.20";
        host.Nic("e0").Device.Receive(TestFrames.Tcp(mac, own, 80, HandMadePeer.Peer, sequence: HandMadePeer.PeerIss, options: new byte[] { 2, 4, 1460 >> 8, 1460 & 0xFF, 4, 2, 1, 1 }));
        host.Pump();
        var iss = TestFrames.Parse(wire.Frames.Last()).Extract<TcpPacket>().SequenceNumber;
        byte[] Ack(uint acknowledged, uint sackStart = 0, uint sackEnd = 0) => TestFrames.Tcp(mac, own, 80, HandMadePeer.Peer, syn: false, ack: true,
            sequence: HandMadePeer.PeerIss + 1, acknowledgment: acknowledged, options: sackEnd == 0 ? null : SackOption(sackStart, sackEnd));
        uint Segment(int i) => iss + 1 + (uint)(i * 1460);
        host.Nic("e0").Device.Receive(Ack(iss + 1));
        host.Pump();
        Assert.True(listener.TryAccept(out var connection));
        Assert.Equal(60 * 1460, connection.Send(new byte[60 * 1460]));
        host.Pump();
        int Sends(uint sequence) => wire.Frames.Count(f => TestFrames.Parse(f).Extract<TcpPacket>() is { PayloadData.Length: > 0 } t && t.SequenceNumber == sequence);

        host.Nic("e0").Device.Receive(Ack(Segment(1)));
        host.Nic("e0").Device.Receive(Ack(Segment(1), Segment(2), Segment(6))); // the second is lost: recovery, fast retransmit
        host.Nic("e0").Device.Receive(Ack(Segment(1), Segment(2), Segment(9)));  // more taken: new data goes
        host.Pump();
        Assert.Equal(2, Sends(Segment(1)));
        var sentAfter = wire.Frames.Select(f => TestFrames.Parse(f).Extract<TcpPacket>()).Where(t => t.PayloadData.Length > 0).Max(t => t.SequenceNumber);

        clock.Advance(TimeSpan.FromMilliseconds(50)); // the watch: the hole's copy not acknowledged within a round trip and more
        host.Pump();
        Assert.Equal(3, Sends(Segment(1)));

        // The peer SACKs the new data sent after the fast retransmit (not after the watch's copy).
        host.Nic("e0").Device.Receive(Ack(Segment(1), Segment(2), sentAfter + 1460));
        host.Pump();
        Assert.Equal(3, Sends(Segment(1)));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Data_sent_before_a_retransmission_the_peer_took_is_lost_if_still_out(bool echoesRetransmission)
    {
        // RACK by order (RFC 8985 6.2): the last segment of a flight is lost and the hole before
        // it goes again; the peer's cumulative ACK takes the retransmission and stops below the
        // last segment. Sent before the retransmission, it would have come first on a path that
        // keeps order: it is lost, and goes again at once. It used to wait for the retransmission
        // timeout (an echo through a 6 kB queue against Linux: 200 ms stalls, the peer's ACKs
        // carrying its own data and nothing more). When the ACK echoes the original's timestamp,
        // a late original filled the hole, not the retransmission: nothing follows from it.
        var peer = new TimestampPeer();
        var original = peer.FirstWindow();
        peer.Clock.Advance(TimeSpan.FromMilliseconds(5)); // the round trip: 5 ms
        peer.Receive(peer.Ack(peer.At(1), original));
        peer.Receive(peer.Ack(peer.At(1), original, (peer.At(2), peer.At(6)))); // the second is lost: recovery, fast retransmit
        Assert.Equal(2, peer.Sends(peer.At(1)));
        var retransmission = peer.Stamp(peer.At(1), 1);
        Assert.True(retransmission > original, "the retransmission carries a later timestamp");

        // The peer takes the second (and the held third to ninth); the tenth never came.
        peer.Clock.Advance(TimeSpan.FromMilliseconds(5));
        peer.Receive(peer.Ack(peer.At(9), echoesRetransmission ? retransmission : original));
        Assert.Equal(echoesRetransmission ? 2 : 1, peer.Sends(peer.At(9)));
    }

    [Fact]
    public void A_late_original_echoed_within_the_retransmissions_millisecond_does_not_make_the_flight_lost()
    {
        // Timestamps count milliseconds: a late original's echo can equal its retransmission's.
        // An ACK that comes sooner after the retransmission than the least round trip answers
        // the original (RACK's min_RTT rule, Linux's tcp_rack_advance); the segments sent after
        // it are only in flight, not lost. Without the rule three went again at once (found by review).
        var peer = new TimestampPeer();
        var original = peer.FirstWindow();
        peer.Clock.Advance(TimeSpan.FromMilliseconds(5)); // the round trip: 5 ms
        peer.Receive(peer.Ack(peer.At(1), original));
        peer.Receive(peer.Ack(peer.At(1), original, (peer.At(2), peer.At(6))));
        Assert.Equal(2, peer.Sends(peer.At(1)));
        var retransmission = peer.Stamp(peer.At(1), 1);

        peer.Clock.Advance(TimeSpan.FromMicroseconds(200)); // the original, late: same millisecond
        peer.Receive(peer.Ack(peer.At(6), retransmission));
        Assert.All(Enumerable.Range(6, 4), i => Assert.Equal(1, peer.Sends(peer.At(i))));
    }

    [Fact]
    public void A_lost_tail_above_the_threshold_goes_at_once()
    {
        // The second segment and the fourth to tenth are lost; the third, SACKed, starts the
        // repair (the reorder timer). The ACK that takes the second's retransmission says the
        // tail was lost — but the pipe counted it as in flight still (above the threshold, so
        // proportional rate reduction let nothing go) until the lost data was read after the
        // pipe: the tail waited for the timeout (found by review).
        var peer = new TimestampPeer();
        var original = peer.FirstWindow();
        peer.Clock.Advance(TimeSpan.FromMilliseconds(5));
        peer.Receive(peer.Ack(peer.At(1), original));
        peer.Receive(peer.Ack(peer.At(1), original, (peer.At(2), peer.At(3))));
        peer.Clock.Advance(TimeSpan.FromMilliseconds(3)); // the reorder timer: the second is lost
        peer.Host.Pump();
        Assert.Equal(2, peer.Sends(peer.At(1)));
        var retransmission = peer.Stamp(peer.At(1), 1);

        peer.Clock.Advance(TimeSpan.FromMilliseconds(5));
        peer.Receive(peer.Ack(peer.At(3), retransmission));
        Assert.True(Enumerable.Range(3, 7).Sum(i => peer.Sends(peer.At(i)) - 1) > 0, "the lost tail goes at once");
    }

    [Fact]
    public void A_holes_copy_sent_before_one_the_peer_took_is_lost_too()
    {
        // Two holes go again together; both copies are lost. The watch sends the first once
        // more, and the peer takes that copy: the second hole's copy, sent before it, was lost
        // as well (RACK by time, RFC 8985 6.2) and goes at once. By order alone it waited: what
        // the peer SACKed was all sent before it (found by review).
        var peer = new TimestampPeer();
        var original = peer.FirstWindow();
        peer.Clock.Advance(TimeSpan.FromMilliseconds(5));
        peer.Receive(peer.Ack(peer.At(1), original));
        peer.Receive(peer.Ack(peer.At(1), original, (peer.At(4), peer.At(7))));                   // the second to fourth missing: recovery, the second goes
        peer.Receive(peer.Ack(peer.At(1), original, (peer.At(2), peer.At(3)), (peer.At(4), peer.At(8)))); // the third came: the fourth goes
        Assert.Equal(2, peer.Sends(peer.At(1)));
        Assert.Equal(2, peer.Sends(peer.At(3)));

        peer.Clock.Advance(TimeSpan.FromMilliseconds(7)); // the watch: the hole at SND.UNA once more
        peer.Host.Pump();
        Assert.Equal(3, peer.Sends(peer.At(1)));
        var third = peer.Stamp(peer.At(1), 2);

        peer.Clock.Advance(TimeSpan.FromMilliseconds(5));
        peer.Receive(peer.Ack(peer.At(3), third, (peer.At(4), peer.At(8))));
        Assert.Equal(3, peer.Sends(peer.At(3)));
    }

    [Fact]
    public void A_lost_fin_behind_a_hole_goes_again_at_once()
    {
        // The second segment and the FIN are lost. The ACK that takes the second's retransmission
        // stops at the FIN, sent before it: lost, and sent again at once. It waited for the
        // timeout: the hole scan sent only data (found by review).
        var peer = new TimestampPeer();
        var original = peer.FirstWindow();
        peer.Connection.Close();
        peer.Host.Pump();
        Assert.Equal(1, peer.Fins());
        peer.Clock.Advance(TimeSpan.FromMilliseconds(5));
        peer.Receive(peer.Ack(peer.At(1), original));
        peer.Receive(peer.Ack(peer.At(1), original, (peer.At(2), peer.At(10)))); // the second is lost: recovery
        Assert.Equal(2, peer.Sends(peer.At(1)));
        var retransmission = peer.Stamp(peer.At(1), 1);

        peer.Clock.Advance(TimeSpan.FromMilliseconds(5));
        peer.Receive(peer.Ack(peer.At(10), retransmission));
        Assert.Equal(2, peer.Fins());
    }

    // A container on a hand-made peer's port 80 that offered MSS 1,460, SACK and timestamps.
    private sealed class TimestampPeer
    {
        private const string Mac = "02:00:00:00:00:01", Own = "192.168.10.20";
        private const int Segment = Mss - 12; // the timestamps take 12 bytes of each
        private readonly CapturingWire _wire;
        private readonly uint _iss;

        public TimestampPeer()
        {
            (Host, Clock, _wire, var vns) = HandMadePeer.Container(new StackSettings(StackProtocols.Tcp, new[] { 80 }));
            var listener = vns.Stack.ListenTcp(80);
            // MSS 1,460, SACK permitted, timestamps (value 1, no echo).
            var synOptions = new byte[] { 2, 4, 1460 >> 8, 1460 & 0xFF, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0 };
            Receive(TestFrames.Tcp(Mac, Own, 80, HandMadePeer.Peer, sequence: HandMadePeer.PeerIss, options: synOptions));
            var synAck = _wire.Frames.Last();
            _iss = TestFrames.Parse(synAck).Extract<TcpPacket>().SequenceNumber;
            Receive(Ack(_iss + 1, CongestionControlTests.Stamp(synAck)));
            Assert.True(listener.TryAccept(out var connection));
            Connection = connection;
        }

        public Virtualization.NetworkHost Host { get; }
        public VirtualClock Clock { get; }
        public TcpConnection Connection { get; }

        public uint At(int segment) => _iss + 1 + (uint)(segment * Segment);

        // Ten segments, all sent (paced): the first one's timestamp.
        public uint FirstWindow()
        {
            Assert.Equal(10 * Segment, Connection.Send(new byte[10 * Segment]));
            Assert.True(Host.RunUntil(() => DataFrames(_wire) == 10, TimeSpan.FromMilliseconds(50)), "the first window, all of it: ten segments (paced)");
            return Stamp(At(1), 0);
        }

        // Timestamps (value 2, the given echo), then any SACK blocks: NOP, NOP, kind 5, each [start, end).
        public byte[] Ack(uint acknowledged, uint echo, params (uint Start, uint End)[] blocks)
        {
            var options = new List<byte> { 1, 1, 8, 10, 0, 0, 0, 2 };
            options.AddRange(BitConverter.GetBytes(BinaryPrimitives.ReverseEndianness(echo)));
            if (blocks.Length > 0) options.AddRange(new byte[] { 1, 1, 5, (byte)(2 + 8 * blocks.Length) });
            foreach (var (start, end) in blocks)
            {
                options.AddRange(BitConverter.GetBytes(BinaryPrimitives.ReverseEndianness(start)));
                options.AddRange(BitConverter.GetBytes(BinaryPrimitives.ReverseEndianness(end)));
            }
            return TestFrames.Tcp(Mac, Own, 80, HandMadePeer.Peer, syn: false, ack: true,
                sequence: HandMadePeer.PeerIss + 1, acknowledgment: acknowledged, options: options.ToArray());
        }

        public void Receive(byte[] frame)
        {
            Host.Nic("e0").Device.Receive(frame);
            Host.Pump();
        }

        private IEnumerable<byte[]> Copies(uint sequence) =>
            _wire.Frames.Where(f => TestFrames.Parse(f).Extract<TcpPacket>() is { PayloadData.Length: > 0 } t && t.SequenceNumber == sequence);

        public int Sends(uint sequence) => Copies(sequence).Count();

        public int Fins() => _wire.Frames.Count(f => TestFrames.Parse(f).Extract<TcpPacket>() is { Finished: true });

        // The timestamp of the nth copy of the segment at `sequence`.
        public uint Stamp(uint sequence, int nth) => CongestionControlTests.Stamp(Copies(sequence).ElementAt(nth));
    }

    // The timestamp value (RFC 7323) of a TCP segment in an Ethernet frame.
    private static uint Stamp(byte[] frame)
    {
        var tcp = TestFrames.Parse(frame).Extract<TcpPacket>();
        var options = tcp.Options;
        for (var i = 0; i < options.Length;)
        {
            if (options[i] == 0) break;
            if (options[i] == 1) { i++; continue; }
            if (options[i] == 8) return BinaryPrimitives.ReadUInt32BigEndian(options.AsSpan(i + 2));
            i += options[i + 1];
        }
        throw new InvalidOperationException("no timestamps");
    }

    // A VM connected to a container's port 80 across a 1 Gbit/s cable, 10 ms each way, with a
    // queue of 200 frames: a hairpin of one NIC (data and ACKs share the queue), or two NICs (a
    // queue each way).
    private static (Virtualization.NetworkHost Host, VirtualClock Clock, SimulatedCable Cable, TcpConnection Client, TcpConnection Server) Bottleneck(bool hairpin)
    {
        var clock = new VirtualClock();
        var (host, _) = TestHost.Build($$"""
            host bottleneck {
                cpus 2
                nic e0 { model simnic-10g; rx-rings 2; ring-size 1024 }
                nic e1 { model simnic-10g; rx-rings 2; ring-size 1024 }
                vm client on e0 { mac 02:00:00:00:00:01; ip 10.0.0.1 }
                container server on {{(hairpin ? "e0" : "e1")}} { mac 02:00:00:00:00:02; ip 10.0.0.2; protocols tcp; ports 80 }
            }
            """, clock);
        var cable = hairpin ? SimulatedCable.Hairpin(host.Nic("e0").Device) : SimulatedCable.Connect(host.Nic("e0").Device, host.Nic("e1").Device);
        host.AddCable(cable.WithLatency(TimeSpan.FromMilliseconds(10), clock).WithRate(1_000_000_000, clock, queueLimit: 200));
        var listener = host.NetworkStack("server").Stack.ListenTcp(80);
        var client = host.VirtualMachine("client").Stack.ConnectTcp(NetworkEndpoint.Parse("10.0.0.2", 80));
        TcpConnection? server = null;
        Assert.True(host.RunUntil(() => listener.TryAccept(out server), TimeSpan.FromSeconds(1)), "the handshake completes");
        return (host, clock, cable, client, server!);
    }

    private static int DataFrames(CapturingWire wire) => wire.Frames.Count(f => TestFrames.Parse(f).Extract<TcpPacket>() is { PayloadData.Length: > 0 });

    // NOP, NOP, a SACK block [start, end).
    private static byte[] SackOption(uint start, uint end)
    {
        var option = new byte[12];
        option[0] = option[1] = 1;
        option[2] = 5;
        option[3] = 10;
        BinaryPrimitives.WriteUInt32BigEndian(option.AsSpan(4), start);
        BinaryPrimitives.WriteUInt32BigEndian(option.AsSpan(8), end);
        return option;
    }

    [Fact]
    public void A_timeout_in_a_recovery_keeps_the_threshold_the_recovery_set()
    {
        // One segment lost again and again: the recovery cannot repair it and the timeout fires.
        // The flight then still counts everything the recovery's reduction was for; recomputing
        // the threshold from it put the threshold back above what the path had just shown it
        // holds (0.7 of a flight inflated by slow start), and the next flight overflowed again.
        // Linux's tcp_enter_loss keeps it; so does this stack.
        var settings = new StackSettings(StackProtocols.Tcp, new[] { 80 });
        var (host, _, cable, client, server) = TestHost.ConnectedPair("keep", settings, TimeSpan.FromMilliseconds(1));
        cable.LoseWhen = LoseSends(80, (index, count) => index == 60 && count < 12);
        var thresholds = new List<int>();
        var smallest = int.MaxValue;
        var data = StackHarness.Pattern(1 << 20, 16);
        Assert.Equal(data, TestHost.Stream(host, client, server, data, () =>
        {
            smallest = Math.Min(smallest, client.CongestionWindow);
            if (client.SlowStartThreshold != int.MaxValue && (thresholds.Count == 0 || thresholds[^1] != client.SlowStartThreshold)) thresholds.Add(client.SlowStartThreshold);
        }));
        Assert.True(smallest <= 1460, "the timeout fired");
        Assert.Single(thresholds); // set once, by the recovery; the timeouts kept it
        host.AssertBalanced();
    }

    [Fact]
    public void Without_sack_two_losses_in_one_flight_halve_the_window_once_and_the_stream_arrives_whole()
    {
        // Both ends without SACK (Linux's tcp_sack=0): three duplicate ACKs send everything from
        // the oldest unacknowledged byte again. The go-back's copies of what the peer already
        // holds bring duplicate ACKs of their own; they and the flight's second loss are repaired
        // without halving the window a second time (RFC 6582's recover).
        var settings = new StackSettings(StackProtocols.Tcp, new[] { 80 }, SelectiveAcknowledgment: false);
        var sackOffered = 0;
        var (host, _, cable, client, server) = TestHost.ConnectedPair("nosack", settings, TimeSpan.FromMilliseconds(1),
            cable => cable.Tap = (_, frame) => sackOffered += TestHost.SynOptions(frame.Span, 4).Count);
        Assert.Equal(0, sackOffered); // neither SYN offered SACK
        var thresholds = new List<int>();
        cable.LoseWhen = LoseData(80, index => index is 40 or 45); // two segments of one flight (the window is past 40 by then)

        var data = StackHarness.Pattern(1 << 20, 9);
        var received = TestHost.Stream(host, client, server, data, () =>
        {
            if (client.SlowStartThreshold != int.MaxValue && (thresholds.Count == 0 || thresholds[^1] != client.SlowStartThreshold)) thresholds.Add(client.SlowStartThreshold);
        });
        Assert.Equal(data, received);
        Assert.Equal(2, cable.Lost);
        Assert.True(client.Retransmissions >= 1);
        Assert.Single(thresholds); // halved once, for the one flight both losses were in
    }

    [Fact]
    public void Without_sack_a_fast_retransmit_sends_only_the_lost_segment_and_a_partial_ack_the_next_one()
    {
        // NewReno (RFC 6582), as Linux's Reno recovery: three duplicate ACKs send the segment at
        // SND.UNA again, alone; the partial ACK its arrival brings sends the flight's second loss;
        // new data goes on meanwhile as the duplicate ACKs say segments left. Going back to SND.UNA
        // instead resent what the peer held — a window's worth for two lost segments.
        var settings = new StackSettings(StackProtocols.Tcp, new[] { 80 }, SelectiveAcknowledgment: false);
        var resent = new Dictionary<uint, int>();
        var (host, _, cable, client, server) = TestHost.ConnectedPair("newreno", settings, TimeSpan.FromMilliseconds(1),
            cable => cable.Tap = (_, frame) =>
            {
                var span = frame.Span;
                if (span.Length < 54 || span[14 + 9] != 6 || BinaryPrimitives.ReadUInt16BigEndian(span.Slice(14 + 20 + 2)) != 80) return;
                var payload = BinaryPrimitives.ReadUInt16BigEndian(span.Slice(16)) - 20 - (span[14 + 20 + 12] >> 4) * 4;
                if (payload <= 0) return;
                var sequence = BinaryPrimitives.ReadUInt32BigEndian(span.Slice(14 + 20 + 4));
                resent[sequence] = resent.GetValueOrDefault(sequence) + 1;
            });
        cable.LoseWhen = LoseData(80, index => index is 40 or 45); // two segments of one flight (the window is past 40 by then)
        var timeouts = host.NetworkStack("a").Counters.RetransmissionTimeouts;

        var data = StackHarness.Pattern(1 << 20, 10);
        Assert.Equal(data, TestHost.Stream(host, client, server, data));

        // The cable's tap sees what crossed it (not what it lost): no segment crossed twice.
        var twice = resent.Count(kv => kv.Value > 1);
        Assert.True(twice == 0, $"{twice} segments crossed twice: copies of what the peer held");
        Assert.Equal(2, client.Retransmissions); // the two lost ones, once each
        Assert.Equal(timeouts, host.NetworkStack("a").Counters.RetransmissionTimeouts); // no timeout
        Assert.Equal(2, cable.Lost);
    }

    [Fact]
    public void Without_sack_a_lost_fast_retransmission_goes_again_after_a_round_trip_not_the_timeout()
    {
        // The segment at SND.UNA is lost, and so is its fast retransmission: no ACK covers it
        // within a round trip and a reordering window, so it goes a third time (the watch a SACK
        // recovery keeps) — without SACK it waited for the 200 ms timeout and its go-back.
        var settings = new StackSettings(StackProtocols.Tcp, new[] { 80 }, SelectiveAcknowledgment: false);
        var (host, _, cable, client, server) = TestHost.ConnectedPair("newreno-watch", settings, TimeSpan.FromMilliseconds(1));
        cable.LoseWhen = LoseSends(80, (index, count) => index == 40 && count <= 1);
        var timeouts = host.NetworkStack("a").Counters.RetransmissionTimeouts;

        var data = StackHarness.Pattern(1 << 20, 11);
        Assert.Equal(data, TestHost.Stream(host, client, server, data));

        Assert.Equal(2, cable.Lost);
        Assert.Equal(2, client.Retransmissions);
        Assert.Equal(timeouts, host.NetworkStack("a").Counters.RetransmissionTimeouts);
    }

    [Fact]
    public void The_tail_loss_probe_sends_a_new_segment_past_a_full_congestion_window()
    {
        // RFC 8985 7.3, as Linux's tcp_send_loss_probe: unsent data and a peer's window that takes
        // it make the probe a new segment, even with the congestion window full; it used to send
        // the last segment again.
        var peer = new TimestampPeer();
        Assert.Equal(30 * (Mss - 12), peer.Connection.Send(new byte[20 * (Mss - 12)]) + peer.Connection.Send(new byte[10 * (Mss - 12)]));
        Assert.True(peer.Host.RunUntil(() => peer.Sends(peer.At(9)) == 1, TimeSpan.FromMilliseconds(50)));
        var first = peer.Stamp(peer.At(0), 0);
        peer.Clock.Advance(TimeSpan.FromMilliseconds(5));
        peer.Receive(peer.Ack(peer.At(1), first)); // a round trip measured; slow start sends two more
        Assert.True(peer.Host.RunUntil(() => peer.Sends(peer.At(11)) == 1, TimeSpan.FromMilliseconds(20)));
        Assert.Equal(0, peer.Sends(peer.At(12))); // the congestion window is full
        var retransmissions = peer.Connection.Retransmissions;

        peer.Clock.Advance(TimeSpan.FromMilliseconds(30)); // past the probe's time (2 round trips, at least 10 ms), before the timeout
        peer.Host.Pump();

        Assert.Equal(1, peer.Sends(peer.At(12))); // the probe: new data
        Assert.Equal(1, peer.Sends(peer.At(11))); // not the last again
        Assert.Equal(retransmissions, peer.Connection.Retransmissions);
    }

    [Fact]
    public void No_tail_loss_probe_goes_while_a_timeouts_go_back_is_under_way()
    {
        // After a timeout the flight goes again from SND.UNA, a congestion window at a time; an
        // ACK of the first copy re-armed the probe, and the probe's segment "past the window"
        // was then the go-back's next ones at once (found by review). Linux probes only in its
        // Open state: not until the timeout's flight is acknowledged.
        var peer = new TimestampPeer();
        peer.FirstWindow();
        Assert.Equal(20 * (Mss - 12), peer.Connection.Send(new byte[20 * (Mss - 12)])); // more to send, behind the window
        peer.Clock.Advance(TimeSpan.FromMilliseconds(5));
        peer.Receive(peer.Ack(peer.At(1), peer.Stamp(peer.At(0), 0))); // a round trip measured (5 ms); two new segments go
        Assert.True(peer.Host.RunUntil(() => peer.Sends(peer.At(11)) == 1, TimeSpan.FromMilliseconds(20)));
        // Nothing more comes back: the probe, then the timeout, whose go-back resends At(1).
        Assert.True(peer.Host.RunUntil(() => peer.Sends(peer.At(1)) == 2, TimeSpan.FromSeconds(2)));
        peer.Clock.Advance(TimeSpan.FromMilliseconds(5));
        peer.Receive(peer.Ack(peer.At(2), peer.Stamp(peer.At(1), 1))); // the go-back's first copy taken
        int Sent() => Enumerable.Range(0, 31).Sum(i => peer.Sends(peer.At(i)));
        Assert.False(peer.Host.RunUntil(() => false, TimeSpan.FromMilliseconds(2))); // 2 ms on: the go-back's paced pair goes
        var sent = Sent();

        peer.Clock.Advance(TimeSpan.FromMilliseconds(30)); // past a probe's time (2 round trips), before the timeout again
        peer.Host.Pump();

        // Nothing past what the window let the go-back send after that ACK.
        Assert.Equal(sent, Sent());
    }

    [Fact]
    public void A_window_with_room_for_less_than_a_segment_counts_as_none_for_early_retransmit()
    {
        // Three segments out, the peer's window 700 bytes past them: silly window avoidance sends
        // nothing new, so the first segment's loss brings two duplicates, not three. Early
        // Retransmit (RFC 5827) goes on the second; it waited for a third that could not come,
        // then for the tail-loss probe and the timeout.
        var c = HandMadePeer.Establish();
        const int mss = 1460;
        Assert.Equal(20 * mss, c.Connection.Send(new byte[20 * mss]));
        c.Host.Pump();
        uint At(int i) => c.OurNext + (uint)(i * mss);
        byte[] Ack(int segment, ushort window) => Runtime.Packets.Frames.Tcp(0x02AA_0000_0001UL, HandMadePeer.Mac,
            new System.Net.IPEndPoint(System.Net.IPAddress.Parse(HandMadePeer.Peer), 40000), new System.Net.IPEndPoint(System.Net.IPAddress.Parse("192.168.10.20"), 80),
            TcpSegmentFlags.Ack, HandMadePeer.Data, At(segment), window: window);
        int Sends(int i) => c.Wire.Frames.Count(f => TestFrames.Parse(f).Extract<PacketDotNet.TcpPacket>() is { PayloadData.Length: > 0 } t && t.SequenceNumber == At(i));
        Assert.Equal(1, Sends(9));
        Assert.Equal(0, Sends(10));

        const ushort window = 3 * mss + 700;
        c.Send(Ack(7, window));   // 7 segments taken; 7, 8 and 9 out, 700 bytes of room past them
        Assert.Equal(0, Sends(10)); // nothing new: less than a segment
        c.Send(Ack(7, window));   // 8 arrived, 7 did not
        c.Send(Ack(7, window));   // 9 arrived

        Assert.Equal(2, Sends(7));
    }

    [Fact]
    public void A_lost_syn_restarts_the_window_but_leaves_the_threshold_unset()
    {
        var harness = new StackHarness();
        harness.Cable.Lose = frame => frame == 0; // the SYN
        var (client, server) = harness.Connect();
        Assert.True(client.Retransmissions >= 1, "the SYN went again");
        Assert.Equal(int.MaxValue, client.SlowStartThreshold);

        // So the transfer slow-starts as on any path: a handshake's loss says nothing of its capacity.
        var data = StackHarness.Pattern(200_000, 8);
        Assert.Equal(data, harness.SendAndReceive(client, server, data));
        Assert.Equal(int.MaxValue, client.SlowStartThreshold);
        Assert.True(client.CongestionWindow > 100 * Mss, $"cwnd {client.CongestionWindow}");
        harness.AssertBalanced();
    }

    [Fact]
    public void A_sender_idle_for_longer_than_the_retransmission_timeout_restarts_from_the_initial_window()
    {
        var harness = new StackHarness();
        var (client, server) = harness.Connect();
        harness.Cable.LoseWhen = LoseClientData(index => index == 5); // a threshold to keep
        var data = StackHarness.Pattern(250_000, 6);
        Assert.Equal(data, harness.SendAndReceive(client, server, data, seconds: 30));
        Assert.True(harness.RunUntil(() => client.Unacknowledged == 0));
        var grown = client.CongestionWindow;
        var threshold = client.SlowStartThreshold;
        Assert.True(grown > 12 * Mss && grown > threshold, $"cwnd {grown}, ssthresh {threshold}");

        // At once: the window is as it was, and a small write's ACK does not shrink it.
        var small = StackHarness.Pattern(100, 7);
        Assert.Equal(small, harness.SendAndReceive(client, server, small));
        Assert.True(harness.RunUntil(() => client.Unacknowledged == 0));
        Assert.True(client.CongestionWindow >= grown, $"cwnd {client.CongestionWindow} after no idle, was {grown}");
        grown = client.CongestionWindow;

        // Two seconds with nothing to send (the timeout is 200 ms to 1 s here): the ACK clock is gone.
        var until = harness.Clock.GetUtcNow() + TimeSpan.FromSeconds(2);
        harness.RunUntil(() => harness.Clock.GetUtcNow() >= until, seconds: 3);
        Assert.True(client.RetransmissionTimeout < TimeSpan.FromSeconds(2), $"RTO {client.RetransmissionTimeout}");
        Assert.Equal(small, harness.SendAndReceive(client, server, small));
        // Ten segments again (RFC 5681 4.1); the threshold keeps ¾ of the window it had (Linux).
        Assert.Equal(Math.Max(threshold, grown / 4 * 3), client.SlowStartThreshold);
        Assert.True(client.SlowStartThreshold > 10 * Mss);
        Assert.Equal(10 * Mss + small.Length, client.CongestionWindow); // in slow start again: grown by the 100 bytes acknowledged (RFC 5681 (2))
        harness.AssertBalanced();
    }

    private const string SackTopology = """
        host s {
            nic e0 { model simnic-10g; rx-rings 2 }
            container web on e0 { mac 02:00:00:00:00:01; ip 192.168.10.20; protocols tcp; ports 80 }
        }
        """;

    [Theory]
    [InlineData(false)] // each advertises a larger window (Linux's receive buffer tuning)
    [InlineData(true)]  // each carries data (an echo's reply riding on it)
    public void With_sack_three_acks_reporting_new_data_above_a_hole_retransmit_it_though_they_change_the_window_or_carry_data(bool carryData)
    {
        var (host, wires, connection, first) = SackFlight(6);
        Assert.Equal(6, DataSegments(wires).Count(s => !Before(s.Sequence, first)));

        // The first segment is lost: the next three arrive, each reported by an ACK of its own.
        for (var k = 1; k <= 3; k++)
        {
            host.Send("e0", PeerSegment(TcpSegmentFlags.Ack | (carryData ? TcpSegmentFlags.Psh : 0), PeerIss + 1 + (uint)(carryData ? 10 * (k - 1) : 0), first,
                window: carryData ? (ushort)65535 : (ushort)(60_000 + 1000 * k), options: SackBlock(first + Mss, first + (uint)(Mss * (k + 1))),
                payload: carryData ? new byte[10] : null));
        }

        // Fast retransmit, at once (the clock did not move: no retransmission timeout).
        Assert.Equal(1, connection.Retransmissions);
        Assert.Equal(2, DataSegments(wires).Count(s => s.Sequence == first));
    }

    [Theory]
    [InlineData(2, 1, true)]  // two out, the second SACKed: one ACK is enough (Early Retransmit, RFC 5827)
    [InlineData(3, 2, true)]  // three out: two
    [InlineData(3, 1, false)]
    [InlineData(6, 2, false)] // four or more out: three, as ever
    public void A_small_flight_with_nothing_more_to_send_retransmits_after_fewer_duplicate_acks(int segments, int acks, bool retransmitted)
    {
        var (host, wires, connection, first) = SackConnection();
        connection.Send(new byte[segments * Mss]); // all the application has: nothing new can follow
        host.Pump();

        for (var k = 1; k <= acks; k++)
        {
            host.Send("e0", PeerSegment(TcpSegmentFlags.Ack, PeerIss + 1, first, window: (ushort)(60_000 + k), options: SackBlock(first + Mss, first + (uint)(Mss * (k + 1)))));
        }

        Assert.Equal(retransmitted ? 1 : 0, connection.Retransmissions); // at once: the clock did not move
        Assert.Equal(retransmitted ? 2 : 1, DataSegments(wires).Count(s => s.Sequence == first));
    }

    [Fact]
    public void A_syn_ack_carries_timestamps_only_when_the_syn_offered_them()
    {
        var (host, wires, _, _) = SackConnection(); // its SYN offers MSS and SACK, no timestamps
        var synAck = wires["e0"].Frames.Select(f => TestFrames.Parse(f).Extract<TcpPacket>()).First(t => t is { Synchronize: true, Acknowledgment: true });

        Assert.DoesNotContain(OptionKinds(synAck.Options), kind => kind == 8); // RFC 7323 3.2
        Assert.Contains(OptionKinds(synAck.Options), kind => kind == 4);       // SACK, which it offered, is answered
    }

    [Fact]
    public void After_a_zero_window_probe_a_pure_ack_says_the_windows_end_not_the_probes_next_byte()
    {
        var (host, wires, connection, first) = SackConnection();
        host.Send("e0", PeerSegment(TcpSegmentFlags.Ack, PeerIss + 1, first, window: 0)); // the peer's window closes
        connection.Send(new byte[1000]);
        Assert.True(host.RunUntil(() => DataSegments(wires).Any(s => s.Sequence == first && s.Length == 1), TimeSpan.FromSeconds(5))); // the probe

        // The peer's data, its window still shut: the ACK of it must stay inside the peer's window.
        wires["e0"].Frames.Clear();
        host.Send("e0", PeerSegment(TcpSegmentFlags.Ack | TcpSegmentFlags.Psh, PeerIss + 1, first, window: 0, payload: new byte[10]));

        var ack = wires["e0"].Frames.Select(f => TestFrames.Parse(f).Extract<TcpPacket>()).Last(t => t.PayloadData.Length == 0);
        Assert.Equal(PeerIss + 11, ack.AcknowledgmentNumber);
        Assert.Equal(first, ack.SequenceNumber); // SND.UNA + the peer's window (0): not first + 1, past it
    }

    private static IEnumerable<byte> OptionKinds(byte[] options)
    {
        for (var i = 0; i < options.Length;)
        {
            var kind = options[i];
            if (kind == 0) yield break;
            yield return kind;
            i += kind == 1 ? 1 : Math.Max(2, (int)options[i + 1]);
        }
    }

    [Fact]
    public void Two_lost_of_three_with_the_third_sacked_go_again_after_the_reordering_window_not_the_timeout()
    {
        // Too few ACKs for any count (one), too little SACKed for IsLost (one segment): RACK's
        // reordering window says the first hole was lost a quarter round trip (at least 1 ms) on.
        var (host, wires, connection, first) = SackFlight(3); // all the application has
        var clock = (VirtualClock)host.Time;
        var start = clock.Nanoseconds;

        host.Send("e0", PeerSegment(TcpSegmentFlags.Ack, PeerIss + 1, first, options: SackBlock(first + 2 * Mss, first + 3 * Mss)));
        Assert.Equal(0, connection.Retransmissions); // not yet: it may only be reordered

        Assert.True(host.RunUntil(() => connection.Retransmissions > 0, TimeSpan.FromSeconds(5)));
        Assert.InRange(clock.Nanoseconds - start, 1_000_000, 50_000_000); // about 1 ms on, far before a 200 ms timeout
        Assert.Equal(2, DataSegments(wires).Count(s => s.Sequence == first));
    }

    [Fact]
    public void In_a_recovery_an_ack_with_news_after_a_partial_ack_sends_the_next_hole()
    {
        var (host, wires, connection, first) = SackFlight(12); // ten go (the first window), two wait
        uint At(int segment) => first + (uint)(segment * Mss);

        host.Send("e0", PeerSegment(TcpSegmentFlags.Ack, PeerIss + 1, first, options: SackBlock(At(1), At(4)))); // 0 lost: recovery, 0 again
        host.Send("e0", PeerSegment(TcpSegmentFlags.Ack, PeerIss + 1, At(4)));                                  // partial: 4 missing, nothing above known yet
        host.Send("e0", PeerSegment(TcpSegmentFlags.Ack, PeerIss + 1, At(4), options: SackBlock(At(5), At(6)))); // now 5 is held: 4 was lost

        Assert.Equal(2, connection.Retransmissions);
        Assert.Equal(2, DataSegments(wires).Count(s => s.Sequence == At(4)));
    }

    [Fact]
    public void A_lost_retransmission_in_a_recovery_goes_again_after_a_round_trip_not_the_timeout()
    {
        var (host, wires, connection, first) = SackFlight(6);
        var clock = (VirtualClock)host.Time;

        host.Send("e0", PeerSegment(TcpSegmentFlags.Ack, PeerIss + 1, first, options: SackBlock(first + Mss, first + 4 * Mss))); // recovery: 0 again
        Assert.Equal(1, connection.Retransmissions);
        var retransmittedAt = clock.Nanoseconds;

        // That retransmission is lost too: nothing more comes from the peer.
        Assert.True(host.RunUntil(() => connection.Retransmissions > 1, TimeSpan.FromSeconds(5)));
        Assert.InRange(clock.Nanoseconds - retransmittedAt, 1_000_000, 100_000_000); // a round trip and a reordering window: not a timeout
        Assert.Equal(3, DataSegments(wires).Count(s => s.Sequence == first));
    }

    [Fact]
    public void A_hole_filled_within_the_reordering_window_is_not_sent_again()
    {
        var (host, wires, connection, first) = SackFlight(4);

        host.Send("e0", PeerSegment(TcpSegmentFlags.Ack, PeerIss + 1, first, options: SackBlock(first + 3 * Mss, first + 4 * Mss)));
        // The first two were only late; the third is still out, the fourth held.
        host.Send("e0", PeerSegment(TcpSegmentFlags.Ack, PeerIss + 1, first + 2 * Mss, options: SackBlock(first + 3 * Mss, first + 4 * Mss)));
        host.RunUntil(() => false, TimeSpan.FromMilliseconds(50));

        Assert.Equal(0, connection.Retransmissions); // the cumulative ACK disarmed the window's timer
    }

    [Fact]
    public void The_watch_sends_a_lost_retransmission_again_once_then_leaves_it_to_the_timeout()
    {
        var (host, wires, connection, first) = SackFlight(6);

        host.Send("e0", PeerSegment(TcpSegmentFlags.Ack, PeerIss + 1, first, options: SackBlock(first + Mss, first + 4 * Mss)));
        host.RunUntil(() => false, TimeSpan.FromMilliseconds(150)); // no answer at all, short of the 200 ms timeout

        Assert.Equal(3, DataSegments(wires).Count(s => s.Sequence == first)); // sent, repaired, watched once: not once a millisecond
    }

    [Fact]
    public void In_a_recovery_a_partial_ack_and_what_follows_never_send_a_repaired_hole_twice()
    {
        var (host, wires, connection, first) = SackFlight(10);
        uint At(int segment) => first + (uint)(segment * Mss);

        host.Send("e0", PeerSegment(TcpSegmentFlags.Ack, PeerIss + 1, first, options: SackBlock(At(1), At(5))));                           // 0 lost: recovery
        host.Send("e0", PeerSegment(TcpSegmentFlags.Ack, PeerIss + 1, first, options: SackBlocks((At(6), At(8)), (At(1), At(5)))));        // 5 lost too: it goes
        host.Send("e0", PeerSegment(TcpSegmentFlags.Ack, PeerIss + 1, At(5), options: SackBlock(At(6), At(8))));                          // partial: 0 arrived
        host.Send("e0", PeerSegment(TcpSegmentFlags.Ack, PeerIss + 1, At(5), options: SackBlock(At(6), At(9))));                          // news above

        Assert.Equal(2, DataSegments(wires).Count(s => s.Sequence == At(5))); // once, and once again: not rewound to it
        Assert.Equal(2, connection.Retransmissions);
    }

    [Fact]
    public void When_the_watch_sends_the_first_hole_again_the_scan_keeps_its_place_past_later_holes()
    {
        var (host, wires, connection, first) = SackFlight(10);
        uint At(int segment) => first + (uint)(segment * Mss);

        host.Send("e0", PeerSegment(TcpSegmentFlags.Ack, PeerIss + 1, first, options: SackBlock(At(1), At(5))));                    // 0 lost: recovery
        host.Send("e0", PeerSegment(TcpSegmentFlags.Ack, PeerIss + 1, first, options: SackBlocks((At(6), At(8)), (At(1), At(5))))); // 5 lost too: it goes
        host.RunUntil(() => false, TimeSpan.FromMilliseconds(50));                                                                // the watch: 0 once more
        host.Send("e0", PeerSegment(TcpSegmentFlags.Ack, PeerIss + 1, first, options: SackBlocks((At(6), At(9)), (At(1), At(5))))); // news above

        Assert.Equal(3, DataSegments(wires).Count(s => s.Sequence == first));
        Assert.Equal(2, DataSegments(wires).Count(s => s.Sequence == At(5))); // not sent a third time by a rewound scan
    }

    [Fact]
    public void A_lost_tail_is_found_by_a_probe_two_round_trips_on_not_by_the_timeout()
    {
        // Three segments, the application's last; the last two are lost and nothing comes back
        // to say so. The probe (the last one again, two round trips on) brings a SACK of it, and
        // the hole before it goes at once (RFC 8985 7).
        var harness = new StackHarness();
        harness.Host.AddCable(harness.Cable.WithLatency(TimeSpan.FromMilliseconds(2), harness.Clock));
        var (client, server) = harness.Connect();
        harness.Cable.LoseWhen = LoseClientData(index => index is 1 or 2);
        var start = harness.Clock.Nanoseconds;

        var data = StackHarness.Pattern(3 * 1448, 7);
        Assert.Equal(data, harness.SendAndReceive(client, server, data));

        var took = (harness.Clock.Nanoseconds - start) / 1e6;
        Assert.True(took < 100, $"{took:0.0} ms: the 200 ms timeout, not the probe"); // about 4 ms of round trips and a probe's 10
        Assert.True(client.Retransmissions >= 2, $"{client.Retransmissions}"); // the probe, and the hole
    }

    [Fact]
    public void Answers_to_zero_window_probes_are_not_duplicate_acks()
    {
        var (host, wires, connection, first) = SackConnection();
        host.Send("e0", PeerSegment(TcpSegmentFlags.Ack, PeerIss + 1, first, window: 0));
        connection.Send(new byte[1000]);
        for (var probe = 1; probe <= 3; probe++)
        {
            Assert.True(host.RunUntil(() => DataSegments(wires).Count(s => s.Sequence == first && s.Length == 1) >= probe, TimeSpan.FromSeconds(30)));
            host.Send("e0", PeerSegment(TcpSegmentFlags.Ack, PeerIss + 1, first, window: 0)); // the window still shut
        }

        Assert.Equal(int.MaxValue, connection.SlowStartThreshold); // no loss was taken for one
    }

    [Fact]
    public void One_ack_sacking_three_segments_above_a_hole_retransmits_it_at_once()
    {
        // RFC 6675's IsLost: more than two segments' bytes SACKed above SND.UNA, in one ACK.
        var (host, wires, connection, first) = SackFlight(6);

        host.Send("e0", PeerSegment(TcpSegmentFlags.Ack, PeerIss + 1, first, options: SackBlock(first + 2 * Mss, first + 5 * Mss)));

        Assert.Equal(1, connection.Retransmissions);
        Assert.Equal(2, DataSegments(wires).Count(s => s.Sequence == first));
    }

    [Fact]
    public void Two_holes_in_five_segments_reported_by_three_acks_the_first_carrying_data_retransmit_the_first_hole_at_once()
    {
        // Linux's ACKs of an echo, as a capture showed them: a data segment SACKing the second
        // segment, a pure ACK extending that, a pure ACK adding the fifth (the first and fourth lost).
        var (host, wires, connection, first) = SackFlight(5);

        host.Send("e0", PeerSegment(TcpSegmentFlags.Ack | TcpSegmentFlags.Psh, PeerIss + 1, first, window: 8000, options: SackBlock(first + Mss, first + 2 * Mss), payload: new byte[100]));
        host.Send("e0", PeerSegment(TcpSegmentFlags.Ack, PeerIss + 101, first, window: 8000, options: SackBlock(first + Mss, first + 3 * Mss)));
        host.Send("e0", PeerSegment(TcpSegmentFlags.Ack, PeerIss + 101, first, window: 8000, options: SackBlocks((first + 4 * Mss, first + 5 * Mss), (first + Mss, first + 3 * Mss))));

        Assert.Equal(1, connection.Retransmissions);
        Assert.Equal(2, DataSegments(wires).Count(s => s.Sequence == first));
    }

    // NOP, NOP, then the SACK blocks (RFC 2018).
    private static byte[] SackBlocks(params (uint Left, uint Right)[] blocks)
    {
        var option = new byte[4 + 8 * blocks.Length];
        option[0] = option[1] = 1;
        option[2] = 5;
        option[3] = (byte)(2 + 8 * blocks.Length);
        for (var i = 0; i < blocks.Length; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(option.AsSpan(4 + 8 * i), blocks[i].Left);
            BinaryPrimitives.WriteUInt32BigEndian(option.AsSpan(8 + 8 * i), blocks[i].Right);
        }
        return option;
    }

    [Fact]
    public void With_sack_window_updates_that_report_nothing_new_are_not_duplicate_acks()
    {
        var (host, wires, connection, first) = SackFlight(6);

        for (var k = 1; k <= 4; k++)
        {
            // The same block each time, the window growing: one report of new data, then updates.
            host.Send("e0", PeerSegment(TcpSegmentFlags.Ack, PeerIss + 1, first, window: (ushort)(60_000 + 1000 * k), options: SackBlock(first + Mss, first + 2 * Mss)));
        }

        Assert.Equal(0, connection.Retransmissions);
        Assert.Equal(1, DataSegments(wires).Count(s => s.Sequence == first));
    }

    private const uint PeerIss = 1000;
    private static readonly IPEndPoint PeerEnd = new(IPAddress.Parse("192.168.10.1"), 40000), WebEnd = new(IPAddress.Parse("192.168.10.20"), 80);

    private static byte[] PeerSegment(TcpSegmentFlags flags, uint sequence, uint acknowledgment, ushort window = 65535, byte[]? options = null, byte[]? payload = null) =>
        Frames.Tcp(0x02AA_0000_0001UL, 0x0200_0000_0001UL, PeerEnd, WebEnd, flags, sequence, acknowledgment, payload, window: window, options: options);

    // NOP, NOP, then one SACK block (RFC 2018).
    private static byte[] SackBlock(uint left, uint right) => SackBlocks((left, right));

    // SackConnection, and a flight of `segments` full segments sent on it: all the application has.
    private static (Runtime.Virtualization.NetworkHost Host, Dictionary<string, CapturingWire> Wires, TcpConnection Connection, uint First) SackFlight(int segments)
    {
        var (host, wires, connection, first) = SackConnection();
        connection.Send(new byte[segments * Mss]);
        host.Pump();
        return (host, wires, connection, first);
    }

    // A connection the peer opened offering SACK (and MSS 1460, no timestamps); returns the
    // sequence number of the first byte the container will send.
    private static (Runtime.Virtualization.NetworkHost Host, Dictionary<string, CapturingWire> Wires, TcpConnection Connection, uint First) SackConnection()
    {
        var (host, wires) = TestHost.Build(SackTopology, new VirtualClock());
        var listener = host.NetworkStack("web").Stack.ListenTcp(80);
        host.Send("e0", PeerSegment(TcpSegmentFlags.Syn, PeerIss, 0, options: [2, 4, 0x05, 0xB4, 4, 2])); // MSS 1460, SACK permitted
        var synAck = TestFrames.Parse(wires["e0"].Frames.Last()).Extract<TcpPacket>();
        Assert.True(synAck.Synchronize && synAck.Acknowledgment);
        var first = synAck.SequenceNumber + 1;
        host.Send("e0", PeerSegment(TcpSegmentFlags.Ack, PeerIss + 1, first));
        Assert.True(listener.TryAccept(out var connection));
        return (host, wires, connection, first);
    }

    private static IEnumerable<(uint Sequence, int Length)> DataSegments(Dictionary<string, CapturingWire> wires) =>
        wires["e0"].Frames.Select(f => TestFrames.Parse(f).Extract<TcpPacket>()).Where(t => t is { PayloadData.Length: > 0 }).Select(t => (t.SequenceNumber, t.PayloadData.Length));

    private static bool Before(uint a, uint b) => (int)(a - b) < 0;

    private static bool After(uint a, uint b) => (int)(a - b) > 0;

    // Loses the data segments web (the client) sends to db:5432 whose index, in the order they
    // are first sent, `lose` picks; a segment sent again with the same sequence number goes through.
    private static FramePredicate LoseClientData(Func<int, bool> lose) => LoseData(5432, lose);

    // The same for data sent to `port`.
    private static FramePredicate LoseData(int port, Func<int, bool> lose) => LoseSends(port, (index, count) => count == 0 && lose(index));

    // Loses the data segments sent to `port` that `lose` picks by their index (in the order first
    // sent) and how many times that sequence number went before.
    private static FramePredicate LoseSends(int port, Func<int, int, bool> lose)
    {
        var sends = new Dictionary<uint, (int Index, int Count)>();
        return frame =>
        {
            if (frame.Length < 54 || BinaryPrimitives.ReadUInt16BigEndian(frame.Slice(12)) != 0x0800 || frame[23] != 6) return false;
            var ipHeader = (frame[14] & 0x0F) * 4;
            var tcp = frame.Slice(14 + ipHeader);
            var payload = BinaryPrimitives.ReadUInt16BigEndian(frame.Slice(16)) - ipHeader - (tcp[12] >> 4) * 4;
            if (payload <= 0 || BinaryPrimitives.ReadUInt16BigEndian(tcp.Slice(2)) != port) return false;
            var sequence = BinaryPrimitives.ReadUInt32BigEndian(tcp.Slice(4));
            var (index, count) = sends.TryGetValue(sequence, out var seen) ? seen : (sends.Count, 0);
            sends[sequence] = (index, count + 1);
            return lose(index, count);
        };
    }
}
