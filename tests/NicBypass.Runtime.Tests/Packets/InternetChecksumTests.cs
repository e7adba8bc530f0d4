using CsCheck;
using NicBypass.Runtime.Packets;

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
    public void A_known_header_sums_as_rfc_1071_says()
    {
        // RFC 1071 § 3's example words: 0001 f203 f4f5 f6f7 sum to ddf2 (with the carries folded).
        Assert.Equal(0xDDF2u, Fold(InternetChecksum.Add(0, new byte[] { 0x00, 0x01, 0xF2, 0x03, 0xF4, 0xF5, 0xF6, 0xF7 })));
    }
}
