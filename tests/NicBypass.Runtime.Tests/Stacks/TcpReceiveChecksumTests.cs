using NicBypass.Runtime.Stacks;
using static NicBypass.Runtime.Tests.HandMadePeer;

namespace NicBypass.Runtime.Tests;

/// <summary>
/// A damaged TCP segment for an established connection is dropped as malformed before it changes
/// anything, and nothing of it is taken in: its intact retransmission reads as it was sent. And
/// payloads copied into a receive buffer that wraps at odd and even places read back whole.
/// (Written for a receive path that checked the checksum as it copied the payload into the
/// buffer — one pass; measured no faster, the buffer's memory being cold to the copy's stores,
/// and left out: docs/benchmarks.md, session 21.)
/// </summary>
public class TcpReceiveChecksumTests
{
    [Theory]
    [InlineData(0)]   // the first payload byte
    [InlineData(999)] // the last
    [InlineData(-1)]  // the checksum field itself
    public void A_damaged_in_order_segment_is_dropped_and_nothing_of_it_is_taken_in(int damaged)
    {
        var c = Establish();
        var stack = c.Connection;
        var payload = Enumerable.Range(0, 1000).Select(i => (byte)(i * 7)).ToArray();
        var frame = BlindSegment(c, Data, payload, psh: true);
        var bad = (byte[])frame.Clone();
        const int Tcp = 14 + 20;
        var at = damaged >= 0 ? Tcp + 20 + damaged : Tcp + 16; // a payload byte, or the checksum's first
        bad[at] ^= 0x40;
        var malformed = c.Host.NetworkStack("web").Counters.Dropped(StackDropReason.Malformed);

        c.Send(bad);

        Assert.Equal(malformed + 1, c.Host.NetworkStack("web").Counters.Dropped(StackDropReason.Malformed));
        Assert.Equal(0, stack.Read(new byte[2000]));
        c.Send(frame); // the retransmission, intact
        var read = new byte[2000];
        Assert.Equal(1000, stack.Read(read));
        Assert.Equal(payload, read.AsSpan(0, 1000).ToArray());
        Assert.Equal(Data + 1000, LastSegment(c).AcknowledgmentNumber);
    }

    [Fact]
    public void Segments_that_wrap_the_receive_buffer_after_an_odd_number_of_bytes_are_checked_and_taken_in_whole()
    {
        // A 6,000-byte buffer written and read in amounts of both parities: the payloads copied
        // into it wrap at odd and even places (the sum of the part after an odd one is byte-swapped).
        var c = Establish(new StackSettings(StackProtocols.Tcp, new[] { 80 }, TcpBuffer: 6000));
        var sent = new List<byte>();
        var got = new List<byte>();
        var sequence = Data;
        var read = new byte[6000];
        for (var i = 0; i < 40; i++)
        {
            var payload = Enumerable.Range(0, 777 + i).Select(j => (byte)(j * 13 + i)).ToArray();
            c.Send(BlindSegment(c, sequence, payload, psh: true));
            sequence += (uint)payload.Length;
            sent.AddRange(payload);
            var n = c.Connection.Read(read.AsSpan(0, 301));
            n += c.Connection.Read(read.AsSpan(n, payload.Length - n));
            got.AddRange(read.AsSpan(0, n).ToArray());
        }

        Assert.Equal(sent, got);
        Assert.Equal(0, c.Host.NetworkStack("web").Counters.Dropped(StackDropReason.Malformed));
    }
}
