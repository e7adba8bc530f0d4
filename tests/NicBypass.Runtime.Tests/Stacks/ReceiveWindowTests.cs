using System.Buffers.Binary;
using NicBypass.Runtime.Devices;
using NicBypass.Runtime.Stacks;

namespace NicBypass.Runtime.Tests;

/// <summary>
/// The window a receiver offers does not shrink (RFC 9293 3.8.6: a receiver SHOULD NOT move its
/// right edge left; RFC 7323 2.4: the scale's rounding can): each ACK's right edge (its
/// acknowledgment number plus the scaled window) is at or past the last one's, as Linux's
/// tcp_select_window keeps it, while the buffer holds it.
/// </summary>
public class ReceiveWindowTests
{
    [Fact]
    public void The_right_edge_the_receiver_offers_never_moves_left_while_its_application_lags()
    {
        // Rings deep enough for the burst (the harness's 256 drop some): every retransmission
        // would then be a segment the receiver refused.
        var harness = new StackHarness(topology: StackHarness.Topology.Replace("ring-size 256", "ring-size 4096"));
        harness.Host.AddCable(harness.Cable.WithLatency(TimeSpan.FromMicroseconds(50), harness.Clock));
        var edges = new List<(uint Ack, uint Edge, int Window)>();
        var scale = -1;
        harness.Cable.Tap = (to, frame) =>
        {
            // db (on e1) to web (on e0): the receiver's ACKs.
            if (!ReferenceEquals(to, harness.Host.Nic("e0").Device)) return;
            var span = frame.Span;
            if (BinaryPrimitives.ReadUInt16BigEndian(span.Slice(12)) != 0x0800 || span[23] != 6) return;
            var tcp = span.Slice(14 + (span[14] & 0x0F) * 4);
            var flags = tcp[13];
            var window = BinaryPrimitives.ReadUInt16BigEndian(tcp.Slice(14));
            if ((flags & 0x02) != 0)
            {
                scale = WindowScaleOption(tcp);
                return;
            }
            if ((flags & 0x10) == 0 || scale < 0) return;
            var ack = BinaryPrimitives.ReadUInt32BigEndian(tcp.Slice(8));
            edges.Add((ack, ack + ((uint)window << scale), window << scale));
        };
        var (client, server) = harness.Connect();
        Assert.Equal(7, scale); // a 6 MiB buffer limit needs 7 bits

        // 3 MB sent in pieces of 1,000 bytes, the application reading at most 7,000 bytes at each
        // event: the window's right edge moves by amounts the scale does not divide.
        var data = StackHarness.Pattern(3_000_000, 3);
        var received = new byte[data.Length];
        int sent = 0, got = 0;
        Assert.True(harness.RunUntil(() =>
        {
            while (sent < data.Length && client.Send(data.AsSpan(sent, Math.Min(1000, data.Length - sent))) is var n && n > 0) sent += n;
            got += server.Read(received.AsSpan(got, Math.Min(7000, data.Length - got)));
            return got == data.Length;
        }, seconds: 60), $"{got} of {data.Length} bytes");
        Assert.Equal(data, received);

        Assert.True(edges.Count > 100, $"{edges.Count} ACKs seen");
        var retreats = new List<string>();
        for (var i = 1; i < edges.Count; i++)
        {
            var moved = (int)(edges[i].Edge - edges[i - 1].Edge);
            if (moved < 0) retreats.Add($"ACK {i}: ack {edges[i].Ack}, window {edges[i].Window}, edge moved {moved}");
        }
        Assert.True(retreats.Count == 0, $"{retreats.Count} of {edges.Count} ACKs moved the right edge left: {string.Join("; ", retreats.Take(5))}");
        Assert.Equal(0, client.Retransmissions); // and never past what the buffer took: nothing sent into it was refused
        harness.AssertBalanced();
    }

    [Fact]
    public void A_small_buffer_with_a_large_scale_still_offers_what_it_has()
    {
        // (Review) 1,024 bytes of buffer under the scale a 6 MiB limit needs (7: units of 128
        // bytes): the room kept for rounding the edge up must not take the whole window, or the
        // peer crawls a byte a persist probe.
        var (host, clock, _, client, server) = TestHost.ConnectedPair("small",
            new StackSettings(StackProtocols.Tcp, new[] { 80 }, TcpBuffer: 1024), TimeSpan.FromMilliseconds(1));
        var data = StackHarness.Pattern(32 * 1024, 5);
        var start = clock.Nanoseconds;

        Assert.Equal(data, TestHost.Stream(host, client, server, data));

        // 896 bytes (7 units) at a time over a 2 ms round trip, delayed ACKs and all: 0.35 s (0.33 s
        // offering all 8 units). With the reserve taking the whole window it stalled: after a
        // minute, 1,321 bytes.
        Assert.True(clock.Nanoseconds - start < 1_000_000_000, $"32 KB took {(clock.Nanoseconds - start) / 1e6:N0} ms of virtual time");
    }

    [Fact]
    public void A_small_buffer_whose_whole_window_is_one_unit_of_a_large_scale_still_opens()
    {
        // (Review of session 33's silly window avoidance) 1,050 bytes under a 20 MiB limit's scale
        // (9: units of 512 bytes): the whole window the buffer can offer is one unit, less than
        // the half buffer the rule waited for, and the window stayed shut for good.
        var (host, clock, _, client, server) = TestHost.ConnectedPair("unit",
            new StackSettings(StackProtocols.Tcp, new[] { 80 }, TcpBuffer: 1050, TcpBufferLimit: 20 * 1024 * 1024), TimeSpan.FromMilliseconds(1));
        var data = StackHarness.Pattern(16 * 1024, 7);
        var start = clock.Nanoseconds;

        Assert.Equal(data, TestHost.Stream(host, client, server, data));
        Assert.True(clock.Nanoseconds - start < 5_000_000_000, $"16 KB took {(clock.Nanoseconds - start) / 1e6:N0} ms of virtual time");
    }

    // The shift in a SYN's window scale option (kind 3), or -1.
    private static int WindowScaleOption(ReadOnlySpan<byte> tcp)
    {
        var options = tcp.Slice(20, (tcp[12] >> 4) * 4 - 20);
        for (var i = 0; i < options.Length;)
        {
            if (options[i] == 0) break;
            if (options[i] == 1) { i++; continue; }
            if (options[i] == 3) return options[i + 2];
            i += Math.Max(2, (int)options[i + 1]);
        }
        return -1;
    }
}
