using System.Buffers.Binary;
using NicBypass.Runtime.Packets;
using NicBypass.Runtime.Stacks;

namespace NicBypass.Runtime.Tests;

/// <summary>
/// IPv4 options in a packet to a stack: Record Route and Timestamp come back in the echo reply
/// updated with this host (RFC 1122 3.2.2.6, as Linux's ip_options_echo writes them), options at
/// fault get a Parameter Problem pointing at the byte (as Linux's ip_options_compile), and only
/// the first fragment of a reply carries the options that are not copied (RFC 791 3.1).
/// </summary>
public class Ipv4OptionEchoTests
{
    private const string Topology = """
        host s {
            nic e0 { model simnic-10g; rx-rings 2 }
            container web on e0 { mac 02:00:00:00:00:01; ip 192.168.10.20/24; protocols udp tcp; ports 53 }
        }
        """;

    private static readonly byte[] Peer = [192, 168, 10, 1];
    private static readonly byte[] Web = [192, 168, 10, 20];
    private static readonly byte[] Other = [192, 168, 10, 99];

    // The reply's IP options, after an echo request carrying `options` was sent to the container
    // 12,345 ms after midnight UT; the whole reply frame too.
    private static (byte[] Options, byte[] Reply, NetworkStack Stack) Echo(byte[] options)
    {
        var clock = new VirtualClock();
        clock.Advance(TimeSpan.FromMilliseconds(12_345));
        var (host, wires) = TestHost.Build(Topology, clock);
        host.Send("e0", TestFrames.Ping("02:00:00:00:00:01", "192.168.10.20")); // the peer learned: the answer leaves at once
        wires["e0"].Frames.Clear();

        host.Send("e0", Frames.WithIpv4Options(TestFrames.Ping("02:00:00:00:00:01", "192.168.10.20"), options));

        var reply = Assert.Single(wires["e0"].Frames, f => f.Length > 14 + 9 && f[14 + 9] == IpProtocol.Icmp);
        Assert.True(Ipv4Header.TryRead(reply.AsSpan(14), out var ip) && ip.HeaderChecksumValid);
        Assert.True(ip.Payload[0] == 0, $"type {ip.Payload[0]} pointer {ip.Payload[4]} header {Convert.ToHexString(reply.AsSpan(14, ip.HeaderLength))}"); // an echo reply
        Assert.Equal(0, reply[14 + 6] & 0x40); // without don't-fragment, as Linux's ICMP
        Assert.Equal(0, InternetChecksum.Compute(ip.Payload));
        return (reply.AsSpan(34, ip.HeaderLength - 20).ToArray(), reply, host.NetworkStack("web").Stack);
    }

    [Fact]
    public void Record_route_comes_back_with_this_host_recorded_as_the_request_came_in_and_as_the_reply_went_out()
    {
        // ping -R: the sender recorded itself going out; nine slots (39 bytes, Linux's).
        var request = RecordRoute(9, Peer);

        var (options, _, _) = Echo(request);

        Assert.Equal(40, options.Length);
        Assert.Equal(new byte[] { 7, 39, 4 + 3 * 4 }, options[..3]);
        Assert.Equal([.. Peer, .. Web, .. Web], options[3..15]);
        Assert.All(options[15..39], b => Assert.Equal(0, b)); // the empty slots
        Assert.Equal(0, options[39]);                          // padded with end-of-options
    }

    [Fact]
    public void A_record_route_with_room_for_one_more_gets_this_host_once_and_a_full_one_comes_back_as_it_came()
    {
        var (oneMore, _, _) = Echo(RecordRoute(2, Peer));
        Assert.Equal([7, 11, 12, .. Peer, .. Web, 0], oneMore);

        var (full, _, _) = Echo(RecordRoute(1, Peer));
        Assert.Equal([7, 7, 8, .. Peer, 0], full);
    }

    [Fact]
    public void A_timestamp_option_is_stamped_in_and_out_with_milliseconds_since_midnight()
    {
        // Flag 0: timestamps only, 4 slots.
        var (options, _, _) = Echo([68, 20, 5, 0, .. new byte[16]]);

        Assert.Equal(20, options.Length);
        Assert.Equal(new byte[] { 68, 20, 13, 0 }, options[..4]);
        foreach (var at in new[] { 4, 8 }) Assert.InRange(BinaryPrimitives.ReadUInt32BigEndian(options.AsSpan(at)), 12_345u, 12_346u);
        Assert.All(options[12..], b => Assert.Equal(0, b));
    }

    [Fact]
    public void A_timestamp_asking_for_addresses_gets_this_host_with_each_stamp()
    {
        var (options, _, _) = Echo([68, 28, 5, 1, .. new byte[24]]);

        Assert.Equal(new byte[] { 68, 28, 21, 1 }, options[..4]);
        Assert.Equal(Web, options[4..8]);
        Assert.Equal(Web, options[12..16]);
        Assert.InRange(BinaryPrimitives.ReadUInt32BigEndian(options.AsSpan(8)), 12_345u, 12_346u);
        Assert.InRange(BinaryPrimitives.ReadUInt32BigEndian(options.AsSpan(16)), 12_345u, 12_346u);
    }

    [Fact]
    public void A_prespecified_timestamp_is_stamped_only_in_the_slots_that_name_this_host()
    {
        // Flag 3: this host, then another: stamped as it came in, not as the reply went out.
        var (options, _, _) = Echo([68, 20, 5, 3, .. Web, 0, 0, 0, 0, .. Other, 0, 0, 0, 0]);
        Assert.Equal(new byte[] { 68, 20, 13, 3 }, options[..4]);
        Assert.InRange(BinaryPrimitives.ReadUInt32BigEndian(options.AsSpan(8)), 12_345u, 12_346u);
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32BigEndian(options.AsSpan(16)));

        // Another host first: nobody here stamps, and the pointer stays.
        var (untouched, _, _) = Echo([68, 20, 5, 3, .. Other, 0, 0, 0, 0, .. Web, 0, 0, 0, 0]);
        Assert.Equal([68, 20, 5, 3, .. Other, 0, 0, 0, 0, .. Web, 0, 0, 0, 0], untouched);
    }

    [Fact]
    public void A_full_timestamp_counts_this_host_in_its_overflow()
    {
        var (options, _, _) = Echo([68, 8, 9, 0x20, 0, 0, 0, 1]);

        Assert.Equal([68, 8, 9, 0x30, 0, 0, 0, 1], options);
    }

    [Fact]
    public void Both_options_come_back_record_route_first_and_an_option_not_echoed_is_left_out()
    {
        // A router alert, then a timestamp, then a record route: Linux echoes only the two, in that order.
        var (options, _, _) = Echo([0x94, 4, 0, 0, 68, 12, 5, 0, .. new byte[8], .. RecordRoute(1, Peer)]);

        Assert.Equal(20, options.Length);
        Assert.Equal([7, 7, 8, .. Peer], options[..7]);
        Assert.Equal(new byte[] { 68, 12, 13, 0 }, options[7..11]);
        Assert.Equal(0, options[19]);
    }

    [Theory]
    [InlineData(new byte[] { 7, 7, 3, 0, 0, 0, 0, 0 }, 22)]          // record route pointing before its first slot
    [InlineData(new byte[] { 7, 6, 4, 0, 0, 0, 0, 0 }, 22)]          // a slot it has no room for
    [InlineData(new byte[] { 68, 8, 4, 0, 0, 0, 0, 0 }, 22)]         // timestamp pointing before its first slot
    [InlineData(new byte[] { 68, 8, 5, 1, 0, 0, 0, 0 }, 22)]         // address and timestamp in a 4-byte slot
    [InlineData(new byte[] { 68, 8, 9, 0xF0, 0, 0, 0, 0 }, 23)]      // full, its overflow count at 15
    [InlineData(new byte[] { 68, 3, 5, 0 }, 21)]                     // timestamp shorter than its header
    [InlineData(new byte[] { 7, 40, 4, 0 }, 20)]                     // running past the header
    [InlineData(new byte[] { 7, 3, 4, 7, 3, 4, 0, 0 }, 23)]          // a second record route
    public void Options_at_fault_get_a_parameter_problem_pointing_at_the_byte_and_no_echo(byte[] options, int pointer)
    {
        var (host, wires) = TestHost.Build(Topology);
        host.Send("e0", TestFrames.Ping("02:00:00:00:00:01", "192.168.10.20"));
        wires["e0"].Frames.Clear();
        var stack = host.NetworkStack("web");

        var request = Frames.WithIpv4Options(TestFrames.Ping("02:00:00:00:00:01", "192.168.10.20"), options);
        host.Send("e0", request);

        var problem = Assert.Single(wires["e0"].Frames);
        Assert.True(Ipv4Header.TryRead(problem.AsSpan(14), out var ip));
        Assert.Equal(Peer, ip.Destination.ToArray());
        Assert.Equal(new byte[] { 12, 0 }, ip.Payload[..2].ToArray());
        Assert.Equal(pointer, ip.Payload[4]);
        Assert.Equal(0, problem[14 + 6] & 0x40); // without don't-fragment, as Linux's ICMP
        Assert.Equal(request.AsSpan(14, 20 + options.Length + 8).ToArray(), ip.Payload[8..].ToArray()); // the header and 8 bytes quoted
        Assert.Equal(1, stack.Counters.Dropped(StackDropReason.Malformed));
        Assert.Equal(1, stack.Counters.ParameterProblemsSent);
        Assert.Equal(1, stack.Counters.EchoRepliesSent); // the first ping's only
    }

    [Theory]
    [InlineData(new byte[] { 0x83, 7, 4, 10, 0, 0, 9, 7, 7, 3, 0, 0, 0, 0, 0 }, 29, StackDropReason.Malformed)] // a source route, then a record route at fault
    [InlineData(new byte[] { 0x83, 7, 3, 10, 0, 0, 9, 0 }, 22, StackDropReason.Malformed)]                    // a source route pointing before its first slot
    [InlineData(new byte[] { 0x83, 2, 0x89, 2 }, 21, StackDropReason.Malformed)]                              // a source route too short for its pointer
    [InlineData(new byte[] { 0x94, 3, 0, 0 }, 21, StackDropReason.Malformed)]                                 // a router alert shorter than 4
    [InlineData(new byte[] { 0x83, 7, 4, 10, 0, 0, 9, 0 }, -1, StackDropReason.Unsupported)]                  // a source route alone: refused, silently
    public void Every_option_is_checked_before_a_source_route_is_refused(byte[] options, int pointer, StackDropReason reason)
    {
        // As Linux's ip_options_compile, then its accept_source_route = 0 check.
        var (host, wires) = TestHost.Build(Topology);
        host.Send("e0", TestFrames.Ping("02:00:00:00:00:01", "192.168.10.20"));
        wires["e0"].Frames.Clear();

        host.Send("e0", Frames.WithIpv4Options(TestFrames.Ping("02:00:00:00:00:01", "192.168.10.20"), options));

        Assert.Equal(1, host.NetworkStack("web").Counters.Dropped(reason));
        if (pointer < 0) Assert.Empty(wires["e0"].Frames);
        else Assert.Equal(pointer, Ipv4Payload(Assert.Single(wires["e0"].Frames))[4]);
    }

    [Fact]
    public void A_timestamp_with_room_to_point_at_a_slot_it_cannot_hold_gets_no_reply()
    {
        // Ten bytes: stamped as it came in, its pointer (9) then points at a slot of two bytes —
        // Linux's ip_options_echo fails and no reply goes; dropped as malformed.
        var (host, wires) = TestHost.Build(Topology);
        host.Send("e0", TestFrames.Ping("02:00:00:00:00:01", "192.168.10.20"));
        wires["e0"].Frames.Clear();

        host.Send("e0", Frames.WithIpv4Options(TestFrames.Ping("02:00:00:00:00:01", "192.168.10.20"), [68, 10, 5, 0, 0, 0, 0, 0, 0, 0]));

        Assert.Empty(wires["e0"].Frames);
        Assert.Equal(1, host.NetworkStack("web").Counters.Dropped(StackDropReason.Malformed));
        Assert.Equal(1, host.NetworkStack("web").Counters.EchoRepliesSent); // the first ping's only
    }

    [Fact]
    public void No_parameter_problem_goes_about_a_fragment_past_the_first_or_an_icmp_error()
    {
        // RFC 1122 3.2.2 (Linux's __icmp_send): never about a non-initial fragment, nor about an
        // ICMP error message; both still dropped as malformed.
        var (host, wires) = TestHost.Build(Topology);
        host.Send("e0", TestFrames.Ping("02:00:00:00:00:01", "192.168.10.20"));
        wires["e0"].Frames.Clear();
        var badRoute = new byte[] { 7, 7, 3, 0, 0, 0, 0, 0 };

        // Into the stack itself: the IP layer's rule, whatever its VNIC makes of such frames.
        var stack = host.NetworkStack("web").Stack;
        var later = Fragmenter.Piece(TestFrames.Ping("02:00:00:00:00:01", "192.168.10.20", dataLength: 3000), 1480, 2960);
        stack.Receive(Frames.WithIpv4Options(later, badRoute));
        host.Pump();
        Assert.Equal(1, host.NetworkStack("web").Counters.Dropped(StackDropReason.Malformed));
        var unreachable = TestFrames.Ping("02:00:00:00:00:01", "192.168.10.20");
        unreachable[34] = 3; // destination unreachable, its checksum left wrong: the options are read first
        stack.Receive(Frames.WithIpv4Options(unreachable, badRoute));
        host.Pump();

        Assert.Empty(wires["e0"].Frames);
        Assert.Equal(2, host.NetworkStack("web").Counters.Dropped(StackDropReason.Malformed));
        Assert.Equal(0, host.NetworkStack("web").Counters.ParameterProblemsSent);
    }

    private static byte[] Ipv4Payload(byte[] frame)
    {
        Assert.True(Ipv4Header.TryRead(frame.AsSpan(14), out var ip));
        return ip.Payload.ToArray();
    }

    [Fact]
    public void A_broadcast_frame_with_options_at_fault_gets_no_parameter_problem()
    {
        var (host, wires) = TestHost.Build(Topology);
        var request = Frames.WithIpv4Options(TestFrames.Ping("02:00:00:00:00:01", "192.168.10.20"), [7, 7, 3, 0, 0, 0, 0, 0]);
        request.AsSpan(0, 6).Fill(0xFF);

        host.Send("e0", request);

        Assert.DoesNotContain(wires["e0"].Frames, f => f.Length > 23 && f[14 + 9] == IpProtocol.Icmp);
        Assert.Equal(1, host.NetworkStack("web").Counters.Dropped(StackDropReason.Malformed));
        Assert.Equal(0, host.NetworkStack("web").Counters.ParameterProblemsSent);
    }

    [Fact]
    public void The_fragments_after_the_first_carry_no_operations_where_the_first_has_record_route()
    {
        var clock = new VirtualClock();
        var (host, wires) = TestHost.Build(Topology, clock);
        host.Send("e0", TestFrames.Ping("02:00:00:00:00:01", "192.168.10.20"));
        wires["e0"].Frames.Clear();

        // 3,000 bytes of data, in fragments; the first carries the record route (ping -R -s 3000).
        var pieces = Fragmenter.Split(TestFrames.Ping("02:00:00:00:00:01", "192.168.10.20", dataLength: 3000), 1400).ToList();
        pieces[0] = Frames.WithIpv4Options(pieces[0], RecordRoute(9, Peer));
        foreach (var piece in pieces) host.Send("e0", piece);

        var fragments = wires["e0"].Frames.Where(f => f[14 + 9] == IpProtocol.Icmp).ToList();
        Assert.Equal(3, fragments.Count);
        foreach (var fragment in fragments)
        {
            Assert.Equal(0x4F, fragment[14]); // 60 bytes of header in each
            Assert.Equal(0, InternetChecksum.Compute(fragment.AsSpan(14, 60)));
            Assert.True(fragment.Length <= 14 + 1500);
        }
        Assert.Equal([7, 39, 16, .. Peer, .. Web, .. Web], fragments[0][34..49]);
        Assert.Equal(0x2000, BinaryPrimitives.ReadUInt16BigEndian(fragments[0].AsSpan(20))); // more fragments, offset 0
        Assert.Equal(1, host.NetworkStack("web").Counters.DatagramsFragmented);
        foreach (var later in fragments.Skip(1))
        {
            Assert.All(later[34..73], b => Assert.Equal(1, b)); // the 39 bytes of record route: no-operations
            Assert.Equal(0, later[73]);                          // the padding's end-of-options kept
        }
    }

    // A Record Route option of `slots` slots with `recorded` in the first (the sender's own, as ping -R writes it).
    private static byte[] RecordRoute(int slots, byte[] recorded)
    {
        var option = new byte[3 + 4 * slots];
        option[0] = 7;
        option[1] = (byte)option.Length;
        option[2] = 8;
        recorded.CopyTo(option, 3);
        return option;
    }
}
