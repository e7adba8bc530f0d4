using CsCheck;
using NicBypass.Runtime.Packets;
using NicBypass.Runtime.Stacks;

namespace NicBypass.Runtime.Tests;

/// <summary>The Internet checksum (RFC 1071) against the plain definition: 16-bit big-endian words, end-around carry.</summary>
public class InternetChecksumTests
{
    private static uint Reference(uint sum, byte[] data)
    {
        ulong total = sum;
        for (var i = 0; i + 1 < data.Length; i += 2) total += (uint)(data[i] << 8 | data[i + 1]);
        if (data.Length % 2 == 1) total += (uint)data[^1] << 8;
        while (total >> 16 != 0) total = (total & 0xFFFF) + (total >> 16);
        return (uint)total;
    }

    // Both fold to 16 bits the same way: a non-zero sum never folds to 0.
    private static uint Fold(uint sum)
    {
        while (sum >> 16 != 0) sum = (sum & 0xFFFF) + (sum >> 16);
        return sum;
    }

    [Fact]
    public void The_sum_matches_the_plain_definition_for_every_length_and_starting_sum()
    {
        Gen.Select(Gen.Byte.Array[0, 9100], Gen.UInt, Gen.Int[0, 3]).Sample((data, start, shape) =>
        {
            if (shape == 0) Array.Fill(data, (byte)0xFF); // carries in every word
            if (shape == 1) Array.Clear(data);
            var sum = shape == 2 ? 0u : start;
            Assert.Equal(Reference(sum, data), Fold(InternetChecksum.Add(sum, data)));
            Assert.Equal((ushort)~Reference(0, data), InternetChecksum.Compute(data));
        }, iter: 3_000);
    }

    [Fact]
    public void Copying_and_summing_in_one_pass_copies_the_bytes_and_sums_as_the_plain_definition()
    {
        Gen.Select(Gen.Byte.Array[0, 9100], Gen.UInt, Gen.Int[0, 64]).Sample((data, start, slack) =>
        {
            var into = new byte[data.Length + slack];
            Assert.Equal(Reference(start, data), Fold(InternetChecksum.CopyAndAdd(start, data, into)));
            Assert.True(into.AsSpan(0, data.Length).SequenceEqual(data));
            Assert.True(into.AsSpan(data.Length).IndexOfAnyExcept((byte)0) < 0); // nothing past the source's length
        }, iter: 2_000);
        Assert.Throws<ArgumentException>(() => InternetChecksum.CopyAndAdd(0, new byte[3], new byte[2]));
    }

    [Fact]
    public void A_sum_split_after_an_odd_number_of_bytes_is_put_back_together_byte_swapped()
    {
        Gen.Select(Gen.Byte.Array[1, 3000], Gen.Int[0, 3000]).Sample((data, at) =>
        {
            at = Math.Min(at, data.Length);
            var first = InternetChecksum.Add(0, data.AsSpan(0, at));
            var rest = InternetChecksum.Add(0, data.AsSpan(at));
            var whole = InternetChecksum.Combine(first, at % 2 == 0 ? rest : InternetChecksum.AtOddOffset(rest));
            Assert.Equal(Reference(0, data), Fold(whole));
        }, iter: 2_000);
    }

    [Fact]
    public void A_send_buffer_peeked_and_summed_across_its_wrap_gives_the_bytes_and_their_sum()
    {
        // A TCP send buffer wraps: a segment's payload is two runs, the second after an odd
        // number of bytes as often as not. The copy and the sum match a plain peek and sum.
        Gen.Select(Gen.Int[1, 4096], Gen.Int[0, 4095], Gen.Byte.Array[1, 4096], Gen.Int[0, 4096]).Sample((capacity, consumed, data, offset) =>
        {
            var ring = new ByteRing(capacity);
            consumed %= capacity;
            ring.Write(new byte[consumed]); // move the start round the ring
            ring.Discard(consumed);
            var held = ring.Write(data);
            offset = held == 0 ? 0 : offset % held;
            var length = held - offset;
            var expected = new byte[length];
            ring.Peek(offset, expected);
            var copied = new byte[length];
            Assert.Equal(Reference(7, expected), Fold(ring.PeekAndAdd(offset, copied, 7)));
            Assert.Equal(expected, copied);
        }, iter: 2_000);
    }

    [Theory]
    [InlineData(0xFF)] // every word 0xFFFF: the largest a lane takes a vector
    [InlineData(0x00)] // every word 0: the most negative, biased
    [InlineData(-1)]   // random
    public void Sums_past_the_vector_blocks_lane_limit_match_the_plain_definition(int fill)
    {
        // More than the 512 KiB a run of vectors sums before its lanes are emptied, and a tail.
        var data = new byte[(1 << 20) + 1234 + 1];
        if (fill >= 0) Array.Fill(data, (byte)fill);
        else new Random(7).NextBytes(data);
        Assert.Equal(Reference(0, data), Fold(InternetChecksum.Add(0, data)));
        var into = new byte[data.Length];
        Assert.Equal(Reference(0, data), Fold(InternetChecksum.CopyAndAdd(0, data, into)));
        Assert.Equal(data, into);
    }

    [Fact]
    public void A_known_header_sums_as_rfc_1071_says()
    {
        // RFC 1071 § 3's example words: 0001 f203 f4f5 f6f7 sum to ddf2 (with the carries folded).
        Assert.Equal(0xDDF2u, Fold(InternetChecksum.Add(0, new byte[] { 0x00, 0x01, 0xF2, 0x03, 0xF4, 0xF5, 0xF6, 0xF7 })));
    }
}
