using System.Buffers.Binary;
using CsCheck;
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

    [Fact]
    public void Any_cut_in_any_order_with_duplicates_reassembles_the_datagram_exactly()
    {
        // A datagram of 1 to 12,000 bytes, cut into pieces of 8 to the MTU's worth (multiples of
        // 8 but the last), sent shuffled with some sent twice: the datagram arrives, whole. Each
        // duplicate is dropped (`fragment`) while its datagram is being reassembled; one that
        // comes after it completed starts the datagram again, as in Linux — held, or, if the
        // duplicates make it whole, delivered once more, whole too.
        Gen.Select(Gen.Int[1, 12_000], Gen.Bool, Gen.Int[1, 1_000_000], Gen.Int[0, 3])
            .Sample((length, v6, seed, duplicates) =>
            {
                var (host, _) = TestHost.Build(Single);
                var web = host.NetworkStack("web");
                var socket = web.Stack.BindUdp(53);
                var payload = StackHarness.Pattern(length, seed);
                var whole = TestFrames.Udp(Web, v6 ? "fd00::20" : "192.168.10.20", 53, payload);
                var data = Fragmenter.DataLength(whole);
                var random = new Random(seed);
                var pieces = new List<byte[]>();
                for (var start = 0; start < data;)
                {
                    var end = Math.Min(data, start + 8 * random.Next(1, Cut(v6) / 8 + 1));
                    pieces.Add(Fragmenter.Piece(whole, start, end, more: end < data));
                    start = end;
                }
                var sent = pieces.Concat(Enumerable.Range(0, Math.Min(duplicates, pieces.Count)).Select(i => pieces[random.Next(pieces.Count)]))
                    .OrderBy(_ => random.Next()).ToArray();

                host.Send("e0", sent);

                var buffer = new byte[65536];
                if (pieces.Count == 1)
                {
                    // One piece with nothing more to come is no fragment: each copy is a datagram of its own.
                    Assert.Equal(sent.Length, socket.Pending);
                    return;
                }
                var datagrams = 0;
                while (socket.TryReceive(buffer, out _, out var got))
                {
                    Assert.Equal(payload, buffer[..got]);
                    datagrams++;
                }
                Assert.True(datagrams >= 1, $"{pieces.Count} pieces, {sent.Length - pieces.Count} duplicates: nothing arrived");
                Assert.Equal(sent.Length - pieces.Count,
                    web.Counters.Dropped(StackDropReason.Fragment) + web.Counters.FragmentsHeld + (datagrams - 1) * pieces.Count);
                AssertAccounted(web.Counters);
            }, iter: 300);
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
    public void The_datagram_begun_first_is_pushed_out_whatever_its_family()
    {
        var clock = new VirtualClock();
        var (host, _) = TestHost.Build(Single, clock);
        var web = host.NetworkStack("web");
        var socket = web.Stack.BindUdp(53);
        var v4 = Datagram(false, 4000);
        // An IPv6 datagram begun first (its time runs out later: 60 s), then IPv4 ones (30 s).
        host.Send("e0", Fragmenter.Piece(Datagram(true, 4000), 0, 1448, id: 7));
        for (var id = 0; id < ReassemblyQueue.MaxDatagrams; id++)
        {
            clock.Advance(TimeSpan.FromMilliseconds(1));
            host.Pump();
            host.Send("e0", Fragmenter.Piece(v4, 0, 1480, id: (uint)(100 + id)));
        }
        clock.Advance(TimeSpan.FromMilliseconds(1));
        host.Pump();

        // The IPv6 one went; the first IPv4 one is still there, and completes.
        Assert.Equal(1, web.Counters.Dropped(StackDropReason.ReassemblyFull));
        host.Send("e0", Fragmenter.Piece(v4, 1480, 2960, id: 100), Fragmenter.Piece(v4, 2960, Fragmenter.DataLength(v4), id: 100));
        clock.Advance(TimeSpan.FromMilliseconds(1));
        host.Pump();
        Assert.Equal(1, socket.Received);
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
        var empty = Fragmenter.Piece(whole, 16, 16, more: false);    // no data at all (Linux drops it)

        host.Send("e0", ragged, ofDeath, empty);

        Assert.Equal(3, web.Counters.Dropped(StackDropReason.Malformed));
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

    [Fact]
    public void Malformed_ipv6_fragments_are_answered_with_a_parameter_problem()
    {
        // TCP served too: a first fragment's ports are checked now (IPv6 as IPv4), and a TCP one
        // to a UDP-only container is the VNIC's no-match before the stack could answer it.
        var (host, wires) = TestHost.Build(Single.Replace("protocols udp", "protocols tcp udp"));
        var web = host.NetworkStack("web");
        var whole = Datagram(true, 4000);
        var ragged = Fragmenter.Piece(whole, 0, 1445, more: true);     // not a multiple of 8: code 0, at the payload length
        // RFC 7112: a first fragment without the whole TCP header (16 of its 20 bytes): code 3.
        var headless = Fragmenter.Piece(TestFrames.Tcp(Web, "fd00::20", 53, "fd00::1", payload: new byte[100]), 0, 16, more: true);

        host.Send("e0", ragged, headless);

        var problems = wires["e0"].Frames.Select(TestFrames.Parse).Select(p => p.Extract<IcmpV6Packet>()).Where(p => p is { Type: IcmpV6Type.ParameterProblem }).ToList();
        Assert.Equal(2, problems.Count);
        Assert.Equal(0, problems[0].Code);
        Assert.Equal(4, BinaryPrimitives.ReadInt32BigEndian(problems[0].Bytes.AsSpan(4)));
        Assert.Equal(3, problems[1].Code);
        Assert.Equal(2, web.Counters.Dropped(StackDropReason.Malformed));
        AssertAccounted(web.Counters);
    }

    [Fact]
    public void An_ipv4_datagram_whose_options_and_data_pass_65535_bytes_is_dropped_whole()
    {
        var (host, _) = TestHost.Build(Single);
        var web = host.NetworkStack("web");
        var whole = Datagram(false, 40);
        // A first fragment with a 24-byte header (4 bytes of options), then data to 65,512 bytes:
        // 24 + 65,512 = 65,536.
        var first = Fragmenter.Piece(whole, 0, 48, more: true);
        var withOptions = new byte[first.Length + 4];
        first.AsSpan(0, 14 + 20).CopyTo(withOptions);
        withOptions[14] = 0x46;
        first.AsSpan(14 + 20).CopyTo(withOptions.AsSpan(14 + 24));
        BinaryPrimitives.WriteUInt16BigEndian(withOptions.AsSpan(14 + 2), 24 + 48);
        BinaryPrimitives.WriteUInt16BigEndian(withOptions.AsSpan(14 + 10), 0);
        BinaryPrimitives.WriteUInt16BigEndian(withOptions.AsSpan(14 + 10), Packets.InternetChecksum.Compute(withOptions.AsSpan(14, 24)));
        var filler = new byte[14 + 20 + 65512];
        whole.AsSpan(0, 14 + 20).CopyTo(filler);
        BinaryPrimitives.WriteUInt16BigEndian(filler.AsSpan(14 + 2), 20 + 65512); // a frame to cut the rest from (its length field is only read here)
        var rest = new List<byte[]>();
        for (var start = 48; start < 65512; start += 1480) rest.Add(Fragmenter.Piece(filler, start, Math.Min(65512, start + 1480)));

        host.Send("e0", withOptions);
        foreach (var piece in rest) host.Send("e0", piece);

        Assert.Equal(rest.Count + 1, web.Counters.Dropped(StackDropReason.Malformed));
        Assert.Equal(0, web.Counters.FragmentsHeld);
        Assert.Equal(0, web.Stack.DatagramsReassembling);
        AssertAccounted(web.Counters);
    }

    [Fact]
    public void No_time_exceeded_answers_a_datagram_that_came_in_link_layer_broadcasts_or_an_icmp_error()
    {
        var clock = new VirtualClock();
        var (host, wires) = TestHost.Build(Single, clock);
        var web = host.NetworkStack("web");
        var broadcast = Fragmenter.Piece(Datagram(false, 4000), 0, 1480, id: 1);
        Packets.EthernetHeader.WriteMac(broadcast, 0xFFFF_FFFF_FFFFUL);
        var error = Fragmenter.Piece(TestFrames.Ping(Web, "192.168.10.20", dataLength: 3000), 0, 1480, id: 2);
        error[14 + 20] = 3; // a destination unreachable, not an echo
        host.Send("e0", broadcast, error);
        wires["e0"].Frames.Clear();

        Assert.True(host.RunUntil(() => web.Counters.Dropped(StackDropReason.ReassemblyTimeout) == 2, TimeSpan.FromSeconds(40)));

        Assert.Equal(0, web.Counters.TimeExceededSent);
        AssertAccounted(web.Counters);
    }

    [Fact]
    public void Ipv6_fragments_of_a_datagram_with_destination_options_join_whatever_their_next_header()
    {
        var (host, _) = TestHost.Build(Single);
        var web = host.NetworkStack("web");
        var socket = web.Stack.BindUdp(53);
        // The fragmentable part starts with an 8-byte destination options header (PadN), then UDP.
        var plain = Datagram(true, 3000);
        var withOptions = new byte[plain.Length + 8];
        plain.AsSpan(0, 14 + 40).CopyTo(withOptions);
        withOptions[14 + 6] = 60;
        withOptions[14 + 40] = 17;
        withOptions[14 + 42] = 1; // PadN, 4 bytes
        withOptions[14 + 43] = 4;
        plain.AsSpan(14 + 40).CopyTo(withOptions.AsSpan(14 + 48));
        BinaryPrimitives.WriteUInt16BigEndian(withOptions.AsSpan(14 + 4), (ushort)(plain.Length - 14 - 40 + 8));
        var pieces = Fragmenter.Split(withOptions, 1448).ToArray();
        pieces[1][14 + 40] = 17; // RFC 8200 4.5: only the first fragment's next header counts

        host.Send("e0", pieces);

        Assert.Equal(1, socket.Received);
        AssertAccounted(web.Counters);
    }

    [Fact]
    public void A_socket_holds_a_bounded_number_of_bytes_of_large_datagrams()
    {
        var (host, _) = TestHost.Build(Single);
        var web = host.NetworkStack("web");
        var socket = web.Stack.BindUdp(53);
        var whole = Datagram(false, 60_000);
        var count = UdpSocket.MaxLargeBytes / 60_000 + 1;
        for (var id = 0; id < count; id++)
        {
            foreach (var piece in Fragmenter.Split(whole, 1480).Select((p, i) => Fragmenter.Piece(whole, i * 1480, Math.Min(Fragmenter.DataLength(whole), i * 1480 + 1480), id: (uint)id)))
            {
                host.Nic("e0").Device.Receive(piece);
            }
            host.Pump();
        }

        Assert.Equal(count - 1, socket.Pending);
        Assert.Equal(1, web.Counters.Dropped(StackDropReason.SocketFull));
        var buffer = new byte[65536];
        Assert.True(socket.TryReceive(buffer, out _, out var length));
        Assert.Equal(Payload(60_000), buffer[..length]);
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
