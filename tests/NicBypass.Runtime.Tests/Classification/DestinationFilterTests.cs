using System.Net;
using NicBypass.Runtime.Accounting;
using NicBypass.Runtime.Classification;
using NicBypass.Runtime.Packets;
using NicBypass.Runtime.Stacks;

namespace NicBypass.Runtime.Tests;

/// <summary>The per-rule IP/protocol/port check, on its fast path (option-less IPv4) and off it.</summary>
public class DestinationFilterTests
{
    private const ClassifierMatch IpAndPort = ClassifierMatch.DestinationIp | ClassifierMatch.Port;

    private static DestinationFilter Filter(int[] ports, params string[] ips) =>
        DestinationFilter.Create(new ClassifierRule(0x020000000001, 0, 0, new TrafficCounters(), ips.Select(IPAddress.Parse).ToArray(), ports, StackProtocols.Udp), IpAndPort)!;

    private static bool Accepts(DestinationFilter filter, byte[] frame) =>
        EthernetHeader.TryRead(frame, out var header) && filter.Accepts(frame, header);

    [Theory]
    [InlineData(new[] { 53 })]                       // one port: the fast path
    [InlineData(new[] { 53, 67, 68, 123, 161, 514 })] // more ports than the fast path packs
    public void Declared_and_ephemeral_ports_pass_and_the_rest_do_not(int[] ports)
    {
        var filter = Filter(ports, "10.0.0.1");
        foreach (var port in ports) Assert.True(Accepts(filter, TestFrames.Udp("02:00:00:00:00:01", "10.0.0.1", (ushort)port, new byte[8])));
        Assert.True(Accepts(filter, TestFrames.Udp("02:00:00:00:00:01", "10.0.0.1", 50000, new byte[8])));    // the stack's own connections
        Assert.False(Accepts(filter, TestFrames.Udp("02:00:00:00:00:01", "10.0.0.1", 54, new byte[8])));
        Assert.False(Accepts(filter, TestFrames.Udp("02:00:00:00:00:01", "10.0.0.2", 53, new byte[8])));       // another address
        Assert.False(Accepts(filter, TestFrames.Tcp("02:00:00:00:00:01", "10.0.0.1", 53, "10.0.0.9")));        // TCP is not declared
        Assert.True(Accepts(filter, TestFrames.Ping("02:00:00:00:00:01", "10.0.0.1")));                        // ICMP has no port
    }

    [Fact]
    public void Ipv4_with_options_and_later_fragments_are_judged_by_the_general_path()
    {
        var filter = Filter(new[] { 53 }, "10.0.0.1");

        Assert.False(Accepts(filter, WithOptions(TestFrames.Udp("02:00:00:00:00:01", "10.0.0.1", 54, new byte[8]))));
        Assert.True(Accepts(filter, WithOptions(TestFrames.Udp("02:00:00:00:00:01", "10.0.0.1", 53, new byte[8]))));
        var fragment = TestFrames.Udp("02:00:00:00:00:01", "10.0.0.1", 54, new byte[8]);
        fragment[14 + 7] = 1; // fragment offset 8: a later fragment carries no UDP header
        Assert.True(Accepts(filter, fragment));
    }

    [Fact]
    public void Several_addresses_of_both_families_are_all_matched()
    {
        var filter = Filter(new[] { 53 }, "10.0.0.1", "10.0.0.2", "fd00::5");

        Assert.True(Accepts(filter, TestFrames.Udp("02:00:00:00:00:01", "10.0.0.2", 53, new byte[8])));
        Assert.True(Accepts(filter, TestFrames.Udp("02:00:00:00:00:01", "fd00::5", 53, new byte[8])));
        Assert.False(Accepts(filter, TestFrames.Udp("02:00:00:00:00:01", "fd00::6", 53, new byte[8])));
        Assert.False(Accepts(filter, TestFrames.Udp("02:00:00:00:00:01", "fd00::5", 54, new byte[8])));
    }

    [Fact]
    public void Ports_are_read_inside_the_datagram_not_in_the_frames_padding()
    {
        var filter = Filter(new[] { 53 }, "10.0.0.1");
        // A UDP header cut to 2 bytes (IP total length 22) in a frame padded to 60 bytes: the
        // padding is not a port, so the frame is matched on what could be read and the stack judges it.
        var frame = new byte[60];
        TestFrames.Udp("02:00:00:00:00:01", "10.0.0.1", 53, Array.Empty<byte>()).AsSpan(0, 14 + 22).CopyTo(frame);
        frame[14 + 2] = 0;
        frame[14 + 3] = 22;

        Assert.True(Accepts(filter, frame));
        Assert.True(Accepts(Filter(new[] { 53, 67, 68, 123, 161 }, "10.0.0.1"), frame)); // the general path too
    }

    [Fact]
    public void Only_ephemeral_ports_declared_still_refuses_the_others()
    {
        var filter = Filter(new[] { 50000 }, "10.0.0.1");

        Assert.False(Accepts(filter, TestFrames.Udp("02:00:00:00:00:01", "10.0.0.1", 0, new byte[8])));
        Assert.False(Accepts(filter, TestFrames.Udp("02:00:00:00:00:01", "10.0.0.1", 53, new byte[8])));
        Assert.True(Accepts(filter, TestFrames.Udp("02:00:00:00:00:01", "10.0.0.1", 50000, new byte[8])));
    }

    // The same IPv4 datagram with a 4-byte options field (a NOP and an end-of-options, padded).
    private static byte[] WithOptions(byte[] frame)
    {
        var result = new byte[frame.Length + 4];
        frame.AsSpan(0, 34).CopyTo(result);
        result[14] = 0x46;
        result[14 + 3] += 4; // total length
        result[34] = 1;      // NOP, then end of options
        frame.AsSpan(34).CopyTo(result.AsSpan(38));
        return result;
    }
}
