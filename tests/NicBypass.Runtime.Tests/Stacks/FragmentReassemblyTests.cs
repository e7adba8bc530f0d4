using System.Buffers.Binary;
using NicBypass.Runtime.Stacks;
using PacketDotNet;

namespace NicBypass.Runtime.Tests;

/// <summary>
/// IP reassembly (RFC 791, RFC 815, RFC 8200 4.5, RFC 5722) at a stack, fed fragments by hand
/// through the NIC: order, overlaps, duplicates, time-outs answered with Time Exceeded, the bounds,
/// and the fragments' accounting (received = delivered + answered + dropped + joined + held).
/// </summary>
public class FragmentReassemblyTests
{
    private const string Single = """
        host s {
            nic e0 { model simnic-10g; rx-rings 2 }
            container web on e0 { mac 02:00:00:00:00:01; ip 192.168.10.20; ip fd00::20; protocols udp; ports 53 }
            vm other on e0 { mac 02:00:00:00:00:02; ip 192.168.10.30; ip fd00::30 }
        }
        """;

    private const string Web = "02:00:00:00:00:01";

    private static byte[] Payload(int length) => StackHarness.Pattern(length, length);

    // A datagram of `length` bytes of payload to web's port 53, from the test peer.
    private static byte[] Datagram(bool v6, int length) => TestFrames.Udp(Web, v6 ? "fd00::20" : "192.168.10.20", 53, Payload(length));

    // The most data an IPv4 or IPv6 fragment carries within a 1,500-byte MTU (a multiple of 8).
    private static int Cut(bool v6) => v6 ? 1448 : 1480;

    private static void AssertAccounted(StackCounters c) =>
        Assert.True(c.Received == c.Delivered + c.Answered + c.DroppedTotal + c.FragmentsJoined + c.FragmentsHeld,
            $"received {c.Received} != delivered {c.Delivered} + answered {c.Answered} + dropped {c.DroppedTotal} + joined {c.FragmentsJoined} + held {c.FragmentsHeld}");

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Fragments_arriving_out_of_order_are_reassembled_and_delivered_whole(bool v6)
    {
        var (host, _) = TestHost.Build(Single);
        var web = host.NetworkStack("web");
        var socket = web.Stack.BindUdp(53);
        var whole = Datagram(v6, 4000);
        var data = Fragmenter.DataLength(whole); // 4,008: the UDP header and the payload

        var cut = Cut(v6);
        host.Send("e0", Fragmenter.Piece(whole, 2 * cut, data), Fragmenter.Piece(whole, 0, cut));
        Assert.Equal(0, socket.Received);
        Assert.Equal(2, web.Counters.FragmentsHeld);
        host.Send("e0", Fragmenter.Piece(whole, cut, 2 * cut));

        var buffer = new byte[65536];
        Assert.True(socket.TryReceive(buffer, out var from, out var length));
        Assert.Equal(4000, length);
        Assert.Equal(Payload(4000), buffer[..length]);
        Assert.Equal(40000, from.Port);
        Assert.Equal(3, web.Counters.Received);
        Assert.Equal(1, web.Counters.Delivered);
        Assert.Equal(2, web.Counters.FragmentsJoined);
        Assert.Equal(0, web.Counters.FragmentsHeld);
        Assert.Equal(1, web.Counters.DatagramsReassembled);
        Assert.Equal(0, web.Stack.DatagramsReassembling);
        AssertAccounted(web.Counters);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Overlapping_fragments_discard_the_whole_datagram(bool v6)
    {
        var (host, _) = TestHost.Build(Single);
        var web = host.NetworkStack("web");
        var socket = web.Stack.BindUdp(53);
        var whole = Datagram(v6, 4000);
        var data = Fragmenter.DataLength(whole);

        // RFC 5722 (and Linux for IPv4): the second overlaps the first by 8 bytes.
        var cut = Cut(v6);
        host.Send("e0", Fragmenter.Piece(whole, 0, cut), Fragmenter.Piece(whole, cut - 8, 2 * cut - 8));
        Assert.Equal(2, web.Counters.Dropped(StackDropReason.Fragment));
        Assert.Equal(0, web.Stack.DatagramsReassembling);
        // What comes after starts a new datagram, which never completes.
        host.Send("e0", Fragmenter.Piece(whole, 2 * cut, data));

        Assert.Equal(0, socket.Received);
        Assert.Equal(1, web.Counters.FragmentsHeld);
        AssertAccounted(web.Counters);
    }

    [Fact]
    public void A_duplicate_fragment_is_dropped_on_its_own_and_the_datagram_still_completes()
    {
        var (host, _) = TestHost.Build(Single);
        var web = host.NetworkStack("web");
        var socket = web.Stack.BindUdp(53);
        var whole = Datagram(false, 2000);

        host.Send("e0", Fragmenter.Piece(whole, 0, 1480), Fragmenter.Piece(whole, 0, 1480), Fragmenter.Piece(whole, 1480, Fragmenter.DataLength(whole)));

        Assert.Equal(1, socket.Received);
        Assert.Equal(1, web.Counters.Dropped(StackDropReason.Fragment));
        AssertAccounted(web.Counters);
    }

    [Fact]
    public void A_last_fragment_contradicting_the_datagrams_end_discards_it()
    {
        var (host, _) = TestHost.Build(Single);
        var web = host.NetworkStack("web");
        var whole = Datagram(false, 4000);

        // A last fragment ending at 2,960, then one with more to come reaching past that end.
        host.Send("e0", Fragmenter.Piece(whole, 1480, 2960, more: false), Fragmenter.Piece(whole, 2960, 4008 - 8, more: true));

        Assert.Equal(2, web.Counters.Dropped(StackDropReason.Fragment));
        Assert.Equal(0, web.Stack.DatagramsReassembling);
        AssertAccounted(web.Counters);
    }

    [Theory]
    [InlineData(false, 30, 11)]
    [InlineData(true, 60, 3)]
    public void A_datagram_missing_a_fragment_times_out_with_a_time_exceeded_quoting_its_first(bool v6, int seconds, int type)
    {
        var clock = new VirtualClock();
        var (host, wires) = TestHost.Build(Single, clock);
        var web = host.NetworkStack("web");
        var ping = Packets.Frames.EchoRequest(0x02AA_0000_0001UL, 0x0200_0000_0001UL, v6 ? TestFrames.PeerIp6 : TestFrames.PeerIp,
            System.Net.IPAddress.Parse(v6 ? "fd00::20" : "192.168.10.20"), id: 77, dataLength: 3000);
        host.Send("e0", Fragmenter.Piece(ping, 0, 1232, id: 0xBEEF));
        wires["e0"].Frames.Clear();
        var start = clock.Nanoseconds;

        // The deadline is a timer the scheduler knows: virtual time jumps to it.
        Assert.True(host.RunUntil(() => web.Counters.Dropped(StackDropReason.ReassemblyTimeout) == 1, TimeSpan.FromSeconds(seconds + 10)));

        Assert.InRange((clock.Nanoseconds - start) / 1e9, seconds, seconds + 0.01);
        Assert.Equal(1, web.Counters.TimeExceededSent);
        var error = TestFrames.Parse(wires["e0"].Frames.Single(f => v6 ? f[14 + 6] == 58 && f[14 + 40] == type : f[14 + 9] == 1 && f[14 + 20] == type));
        var body = v6 ? error.Extract<IcmpV6Packet>().Bytes : error.Extract<IcmpV4Packet>().Bytes;
        Assert.Equal(1, body[1]); // code 1: fragment reassembly time exceeded
        var quoted = body.AsSpan(8);
        if (v6)
        {
            Assert.Equal(44, quoted[6]);                                              // the first fragment's header, then …
            Assert.Equal(0xBEEFu, BinaryPrimitives.ReadUInt32BigEndian(quoted.Slice(44))); // … its fragment header
            Assert.Equal(58, quoted[40]);
        }
        else
        {
            Assert.Equal(0xBEEF, BinaryPrimitives.ReadUInt16BigEndian(quoted.Slice(4)));
            Assert.Equal(20 + 8, quoted.Length); // the header and 8 bytes of data (RFC 792)
        }
        Assert.Equal(0, web.Counters.FragmentsHeld);
        AssertAccounted(web.Counters);
    }

    [Fact]
    public void A_datagram_whose_first_fragment_never_came_times_out_silently()
    {
        var clock = new VirtualClock();
        var (host, wires) = TestHost.Build(Single, clock);
        var web = host.NetworkStack("web");
        var whole = Datagram(false, 4000);
        host.Send("e0", Fragmenter.Piece(whole, 1480, 2960), Fragmenter.Piece(whole, 2960, Fragmenter.DataLength(whole)));
        wires["e0"].Frames.Clear();

        Assert.True(host.RunUntil(() => web.Counters.Dropped(StackDropReason.ReassemblyTimeout) == 2, TimeSpan.FromSeconds(40)));

        Assert.Equal(0, web.Counters.TimeExceededSent);
        Assert.DoesNotContain(wires["e0"].Frames, f => TestFrames.Parse(f).Extract<IcmpV4Packet>() is not null);
        AssertAccounted(web.Counters);
    }

    [Fact]
    public void A_full_reassembly_pushes_out_its_oldest_datagram()
    {
        var clock = new VirtualClock();
        var (host, _) = TestHost.Build(Single, clock);
        var web = host.NetworkStack("web");
        var whole = Datagram(false, 4000);
        for (var id = 0; id <= ReassemblyQueue.MaxDatagrams; id++)
        {
            host.Send("e0", Fragmenter.Piece(whole, 0, 1480, id: (uint)(100 + id)));
            clock.Advance(TimeSpan.FromMilliseconds(1)); // the wire carries it meanwhile: it lands at the next pump
            host.Pump();
        }

        Assert.Equal(1, web.Counters.Dropped(StackDropReason.ReassemblyFull));
        Assert.Equal(ReassemblyQueue.MaxDatagrams, web.Stack.DatagramsReassembling);
        // The oldest (id 100) was pushed out: its rest starts over; the newest completes.
        host.Send("e0", Fragmenter.Piece(whole, 1480, 2960, id: 100 + ReassemblyQueue.MaxDatagrams), Fragmenter.Piece(whole, 2960, Fragmenter.DataLength(whole), id: 100 + ReassemblyQueue.MaxDatagrams));
        clock.Advance(TimeSpan.FromMilliseconds(1));
        host.Pump();
        Assert.Equal(1, web.Counters.Dropped(StackDropReason.PortUnreachable)); // delivered whole: no socket on 53 here
        AssertAccounted(web.Counters);
    }

    [Fact]
    public void More_fragments_than_a_datagram_may_have_discard_it()
    {
        var (host, _) = TestHost.Build(Single);
        var web = host.NetworkStack("web");
        var whole = Datagram(false, 4000);
        var pieces = Enumerable.Range(0, ReassemblyQueue.MaxFragments + 1).Select(i => Fragmenter.Piece(whole, i * 8, i * 8 + 8)).ToArray();

        host.Send("e0", pieces);

        Assert.Equal(ReassemblyQueue.MaxFragments + 1, web.Counters.Dropped(StackDropReason.ReassemblyFull));
        Assert.Equal(0, web.Stack.DatagramsReassembling);
        AssertAccounted(web.Counters);
    }

    [Fact]
    public void Malformed_fragments_are_dropped_without_being_held()
    {
        var (host, _) = TestHost.Build(Single);
        var web = host.NetworkStack("web");
        var whole = Datagram(false, 4000);
        var ragged = Fragmenter.Piece(whole, 0, 1475, more: true);   // more to come, but not a multiple of 8 bytes
        var ofDeath = Fragmenter.Piece(whole, 0, 16, more: false);    // moved to offset 65,528: past 65,535 (the ping of death)
        BinaryPrimitives.WriteUInt16BigEndian(ofDeath.AsSpan(14 + 6), 65528 >> 3);
        Fragmenter.ResealIpv4(ofDeath);

        host.Send("e0", ragged, ofDeath);

        Assert.Equal(2, web.Counters.Dropped(StackDropReason.Malformed));
        Assert.Equal(0, web.Counters.FragmentsHeld);
        AssertAccounted(web.Counters);
    }

    [Fact]
    public void A_large_ping_to_a_vm_and_a_container_is_reassembled_and_answered_in_fragments()
    {
        var (host, wires) = TestHost.Build(Single);
        var ping = TestFrames.Ping(Web, "192.168.10.20", id: 9, dataLength: 3000);
        var toVm = TestFrames.Ping("02:00:00:00:00:02", "192.168.10.30", id: 10, dataLength: 3000);

        host.Send("e0", Fragmenter.Split(ping, 1480).Concat(Fragmenter.Split(toVm, 1480)).ToArray());

        var replies = wires["e0"].Frames.Select(TestFrames.Parse).Select(p => p.Extract<IPv4Packet>()).ToList();
        Assert.Equal(6, replies.Count); // 3,008 bytes of ICMP in three fragments each way
        Assert.All(replies, ip => Assert.True(ip.ValidIPChecksum));
        Assert.All(replies, ip => Assert.True(ip.TotalLength <= 1500));
        Assert.Equal(2, replies.Count(ip => (ip.FragmentFlags & 1) == 0)); // one last fragment per reply
        Assert.Equal(1, host.NetworkStack("web").Counters.EchoRepliesSent);
        Assert.Equal(1, host.NetworkStack("web").Counters.DatagramsFragmented);
        Assert.Equal(1, host.VirtualMachine("other").Counters.EchoRepliesSent);
        // The replies reassemble to the echo of the request (PacketDotNet does not reassemble: by hand).
        var reply = Fragmenter.Reassemble(wires["e0"].Frames.Where(f => f.AsSpan(14 + 12, 4).SequenceEqual(new byte[] { 192, 168, 10, 20 })));
        Assert.Equal(ping.AsSpan(14 + 20 + 8).ToArray(), reply.AsSpan(8).ToArray());
        Assert.Equal(0, reply[0]); // an echo reply
        Assert.Equal(0, Packets.InternetChecksum.Compute(reply));
    }
}

/// <summary>Cuts IPv4 and IPv6 frames into fragments by hand (PacketDotNet builds none), and joins them back.</summary>
internal static class Fragmenter
{
    private static bool IsV6(byte[] frame) => BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(12)) == 0x86DD;

    /// <summary>The bytes after the IP header (what fragments carry between them).</summary>
    public static int DataLength(byte[] frame) =>
        IsV6(frame) ? BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(14 + 4)) : BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(14 + 2)) - 20;

    /// <summary>The fragment of <paramref name="frame"/> carrying its data from <paramref name="start"/> to <paramref name="end"/> (more to come unless it reaches the end).</summary>
    public static byte[] Piece(byte[] frame, int start, int end, bool? more = null, uint id = 0x4321)
    {
        var data = DataLength(frame);
        var last = more is null ? end >= data : !more.Value;
        if (IsV6(frame))
        {
            var piece = new byte[14 + 40 + 8 + (end - start)];
            frame.AsSpan(0, 14 + 40).CopyTo(piece);
            BinaryPrimitives.WriteUInt16BigEndian(piece.AsSpan(14 + 4), (ushort)(8 + end - start));
            piece[14 + 6] = 44;
            piece[14 + 40] = frame[14 + 6];
            BinaryPrimitives.WriteUInt16BigEndian(piece.AsSpan(14 + 42), (ushort)(start | (last ? 0 : 1)));
            BinaryPrimitives.WriteUInt32BigEndian(piece.AsSpan(14 + 44), id);
            frame.AsSpan(14 + 40 + start, end - start).CopyTo(piece.AsSpan(14 + 48));
            return piece;
        }
        var v4 = new byte[Math.Max(60, 14 + 20 + (end - start))];
        frame.AsSpan(0, 14 + 20).CopyTo(v4);
        BinaryPrimitives.WriteUInt16BigEndian(v4.AsSpan(14 + 2), (ushort)(20 + end - start));
        BinaryPrimitives.WriteUInt16BigEndian(v4.AsSpan(14 + 4), (ushort)id);
        BinaryPrimitives.WriteUInt16BigEndian(v4.AsSpan(14 + 6), (ushort)((last ? 0 : 0x2000) | start >> 3));
        frame.AsSpan(14 + 20 + start, end - start).CopyTo(v4.AsSpan(14 + 20));
        ResealIpv4(v4);
        return v4;
    }

    /// <summary>All of <paramref name="frame"/> in fragments of at most <paramref name="each"/> bytes of data, in order.</summary>
    public static IEnumerable<byte[]> Split(byte[] frame, int each)
    {
        var data = DataLength(frame);
        for (var start = 0; start < data; start += each) yield return Piece(frame, start, Math.Min(data, start + each));
    }

    public static void ResealIpv4(byte[] frame)
    {
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(14 + 10), 0);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(14 + 10), Packets.InternetChecksum.Compute(frame.AsSpan(14, 20)));
    }

    /// <summary>The data of IPv4 fragments (option-less headers), joined by their offsets.</summary>
    public static byte[] Reassemble(IEnumerable<byte[]> fragments)
    {
        var pieces = fragments.Select(f => (Offset: (BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(14 + 6)) & 0x1FFF) * 8,
            Data: f.AsSpan(14 + 20, BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(14 + 2)) - 20).ToArray())).ToList();
        var whole = new byte[pieces.Max(p => p.Offset + p.Data.Length)];
        foreach (var (offset, data) in pieces) data.CopyTo(whole, offset);
        return whole;
    }
}
