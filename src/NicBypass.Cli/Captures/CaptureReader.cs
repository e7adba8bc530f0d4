using System.Buffers.Binary;

namespace NicBypass.Cli.Captures;

/// <summary>
/// Reads pcap (microsecond and nanosecond, either byte order) and pcapng (section header,
/// interface description, enhanced and simple packet blocks; other blocks skipped) captures.
/// A damaged file ends in a <see cref="CaptureFormatException"/> that says which frame or block
/// and at which byte offset — never in a crash.
/// </summary>
public static class CaptureReader
{
    public const int LinkTypeEthernet = 1;

    /// <summary>The longest pcapng block read (16 MB): no length read from the file allocates more.</summary>
    public const uint MaxBlockLength = 16 * 1024 * 1024;

    public static IEnumerable<CaptureFrame> Read(Stream stream)
    {
        var head = new byte[4];
        if (ReadExactly(stream, head) < 4) throw new CaptureFormatException("the file is too short to be a capture (no pcap or pcapng header)");
        var magic = BinaryPrimitives.ReadUInt32LittleEndian(head);
        return magic switch
        {
            0xA1B2C3D4 or 0xD4C3B2A1 or 0xA1B23C4D or 0x4D3CB2A1 or 0xA1B2CD34 or 0x34CDB2A1 => ReadPcap(stream, head),
            0x0A0D0D0A => ReadPcapNg(stream, head),
            _ => throw new CaptureFormatException($"unknown capture format (first bytes {Convert.ToHexStringLower(head)}, in the file's order); expected pcap or pcapng"),
        };
    }

    private static IEnumerable<CaptureFrame> ReadPcap(Stream stream, byte[] head)
    {
        var magic = BinaryPrimitives.ReadUInt32LittleEndian(head);
        var little = magic is 0xA1B2C3D4 or 0xA1B23C4D or 0xA1B2CD34;
        var nano = magic is 0xA1B23C4D or 0x4D3CB2A1;
        // "Modified" pcap (Kuznetsov's patched libpcap; libpcap reads it, editcap writes it):
        // each record header carries 8 more bytes (interface index, protocol, packet type, pad).
        var modified = magic is 0xA1B2CD34 or 0x34CDB2A1;
        var header = new byte[20];
        var got = ReadExactly(stream, header);
        if (got < 20) throw new CaptureFormatException($"pcap: the global header at byte 0 is cut short: {4 + got} of its 24 bytes");
        // The link type is the low 16 bits; above them a capture may say its frames end with an
        // FCS (libpcap's LT_FCS_LENGTH_PRESENT, bit 26, and its length in 16-bit words in bits
        // 28-31: LT_FCS_DATALINK_EXT), which the wire's frame does not hold: cut off (tcpdump
        // reads such a capture as Ethernet; it was skipped whole). Bit 27 is reserved: a capture
        // with only it set says nothing of an FCS (found by a new user's drive: it was read as the flag).
        var field = U32(header.AsSpan(16), little);
        var linkType = (int)(field & 0xFFFF);
        var fcs = (field & 0x0400_0000) != 0 ? (int)(field >> 28) * 2 : 0;
        var record = new byte[modified ? 24 : 16];
        long offset = 24;
        for (var index = 1; ; index++)
        {
            var n = ReadExactly(stream, record);
            if (n == 0) yield break;
            if (n < record.Length) throw new CaptureFormatException($"pcap: frame {index} at byte {offset}: the record header is cut short");
            var seconds = U32(record, little);
            var fraction = U32(record.AsSpan(4), little);
            var captured = U32(record.AsSpan(8), little);
            var original = U32(record.AsSpan(12), little);
            if (captured > 262_144) throw new CaptureFormatException($"pcap: frame {index} at byte {offset}: captured length {captured} is implausible");
            var data = ReadClaimed(stream, (int)captured) ?? throw new CaptureFormatException($"pcap: frame {index} at byte {offset}: the frame data is cut short");
            offset += record.Length + captured;
            if (fcs > 0 && captured == original && data.Length > fcs)
            {
                data = data.AsSpan(0, data.Length - fcs).ToArray();
                original -= (uint)fcs;
            }
            else if (fcs > 0 && original > captured && original >= fcs)
            {
                original -= (uint)fcs; // cut by the snaplen: the FCS is past what was kept, but its length is not the frame's
            }
            yield return new CaptureFrame(seconds * 1_000_000_000L + fraction * (nano ? 1L : 1000L), data, (int)Math.Min(original, int.MaxValue), linkType);
        }
    }

    private static IEnumerable<CaptureFrame> ReadPcapNg(Stream stream, byte[] head)
    {
        var little = true;
        var interfaces = new List<(int LinkType, long UnitsPerSecond, int Fcs)>();
        long offset = 0;
        var first = true;
        var blockHead = new byte[8];
        for (var blockIndex = 1; ; blockIndex++)
        {
            int n;
            if (first)
            {
                head.CopyTo(blockHead, 0);
                n = 4 + ReadExactly(stream, blockHead.AsSpan(4));
                first = false;
            }
            else
            {
                n = ReadExactly(stream, blockHead);
            }
            if (n == 0) yield break;
            if (n < 8) throw new CaptureFormatException($"pcapng: block {blockIndex} at byte {offset}: the block header is cut short");
            var type = BinaryPrimitives.ReadUInt32LittleEndian(blockHead);
            var body = Array.Empty<byte>();
            if (type == 0x0A0D0D0A)
            {
                // Section header: its byte-order magic decides how the rest of the section reads.
                var bom = new byte[4];
                if (ReadExactly(stream, bom) < 4) throw new CaptureFormatException($"pcapng: block {blockIndex} at byte {offset}: the section header is cut short");
                little = BinaryPrimitives.ReadUInt32LittleEndian(bom) switch
                {
                    0x1A2B3C4D => true,
                    0x4D3C2B1A => false,
                    var other => throw new CaptureFormatException($"pcapng: block {blockIndex} at byte {offset}: unknown byte-order magic {other:x8}"),
                };
                var total = U32(blockHead.AsSpan(4), little);
                if (total < 28 || total % 4 != 0 || total > MaxBlockLength) throw new CaptureFormatException($"pcapng: block {blockIndex} at byte {offset}: bad section header length {total}");
                body = ReadClaimed(stream, (int)(total - 12)) ?? throw new CaptureFormatException($"pcapng: block {blockIndex} at byte {offset}: the section header is cut short");
                CheckTrailer(body, total, little, blockIndex, offset);
                interfaces.Clear();
                offset += total;
                continue;
            }
            var length = U32(blockHead.AsSpan(4), little);
            if (length < 12 || length % 4 != 0 || length > MaxBlockLength) throw new CaptureFormatException($"pcapng: block {blockIndex} at byte {offset}: bad block length {length}");
            body = ReadClaimed(stream, (int)(length - 8)) ?? throw new CaptureFormatException($"pcapng: block {blockIndex} at byte {offset}: the block is cut short");
            CheckTrailer(body, length, little, blockIndex, offset);
            type = U32(blockHead, little);
            var content = body.AsSpan(0, body.Length - 4);
            switch (type)
            {
                case 1: // interface description
                    if (content.Length < 8) throw new CaptureFormatException($"pcapng: block {blockIndex} at byte {offset}: interface description is cut short");
                    interfaces.Add((U16(content, little), ResolutionOf(content.Slice(8), little), FcsBytesOf(content.Slice(8), little)));
                    break;
                case 6: // enhanced packet
                case 2: // packet (obsolete; still written by old tools): a 16-bit interface id and a drops count where the enhanced block has a 32-bit id
                {
                    if (content.Length < 20) throw new CaptureFormatException($"pcapng: block {blockIndex} at byte {offset}: {(type == 6 ? "enhanced packet" : "packet")} block is cut short");
                    var id = type == 6 ? U32(content, little) : U16(content, little); // unsigned: a "negative" id is just a large one
                    if (id >= (uint)interfaces.Count) throw new CaptureFormatException($"pcapng: block {blockIndex} at byte {offset}: packet for undeclared interface {id}");
                    var stamp = ((ulong)U32(content.Slice(4), little) << 32) | U32(content.Slice(8), little);
                    var capturedLength = U32(content.Slice(12), little);
                    var original = (int)Math.Min(U32(content.Slice(16), little), int.MaxValue);
                    // Compared without adding, so no length (up to 4 GB) can overflow past the check.
                    if (capturedLength > (uint)(content.Length - 20)) throw new CaptureFormatException($"pcapng: block {blockIndex} at byte {offset}: captured length {capturedLength} runs past the block");
                    var captured = (int)capturedLength;
                    if (captured < 0) throw new CaptureFormatException($"pcapng: block {blockIndex} at byte {offset}: captured length {captured} runs past the block");
                    var (linkType, units, fcs) = interfaces[(int)id];
                    // The packet's own flags may say its FCS length (epb_flags, bits 5-8, in bytes): that one counts.
                    var padded = (captured + 3) & ~3;
                    if (padded <= content.Length - 20 && FlagsFcsBytesOf(content.Slice(20 + padded), little) is { } own) fcs = own;
                    var nanoseconds = ToNanoseconds(stamp, units) ?? throw new CaptureFormatException($"pcapng: block {blockIndex} at byte {offset}: timestamp {stamp} is past the year 2262 (nanoseconds since 1970 overflow)");
                    if (fcs > 0 && captured == original && captured > fcs)
                    {
                        // The interface says its frames end with an FCS (if_fcslen): cut off, as in a pcap.
                        captured -= fcs;
                        original -= fcs;
                    }
                    else if (fcs > 0 && original > captured && original >= fcs)
                    {
                        original -= fcs; // cut by the snaplen: the FCS's length is not the frame's
                    }
                    yield return new CaptureFrame(nanoseconds, content.Slice(20, captured).ToArray(), original, linkType);
                    break;
                }
                case 3: // simple packet: interface 0, no timestamp
                {
                    if (content.Length < 4 || interfaces.Count == 0) throw new CaptureFormatException($"pcapng: block {blockIndex} at byte {offset}: simple packet block without an interface");
                    var original = (int)Math.Min(U32(content, little), int.MaxValue);
                    var captured = Math.Min(original, content.Length - 4);
                    yield return new CaptureFrame(0, content.Slice(4, captured).ToArray(), original, interfaces[0].LinkType);
                    break;
                }
            }
            offset += length;
        }
    }

    // Every pcapng block ends with its total length again: one that does not match the length it
    // began with is a damaged file (tshark says so, tcpdump reads nothing; it was replayed).
    private static void CheckTrailer(byte[] body, uint length, bool little, int blockIndex, long offset)
    {
        var trailer = U32(body.AsSpan(body.Length - 4), little);
        if (trailer != length) throw new CaptureFormatException($"pcapng: block {blockIndex} at byte {offset}: its trailing length {trailer} does not match its leading length {length}");
    }

    // if_tsresol option (code 9): 10^-n or 2^-n seconds; default microseconds.
    private static long ResolutionOf(ReadOnlySpan<byte> options, bool little)
    {
        while (options.Length >= 4)
        {
            var code = U16(options, little);
            var length = U16(options.Slice(2), little);
            if (code == 0 || 4 + length > options.Length) break;
            if (code == 9 && length >= 1)
            {
                var value = options[4];
                var exponent = value & 0x7F;
                if (exponent > 62) break;
                return (value & 0x80) != 0 ? 1L << exponent : (long)Math.Pow(10, Math.Min(exponent, 18));
            }
            options = options.Slice(4 + ((length + 3) & ~3));
        }
        return 1_000_000;
    }

    // if_fcslen option (code 13): the length of the FCS that ends each frame, in bits (the
    // pcapng specification; Wireshark reads it so); 0 when absent or not whole bytes.
    private static int FcsBytesOf(ReadOnlySpan<byte> options, bool little)
    {
        while (options.Length >= 4)
        {
            var code = U16(options, little);
            var length = U16(options.Slice(2), little);
            if (code == 0 || 4 + length > options.Length) break;
            if (code == 13 && length >= 1) return options[4] % 8 == 0 ? options[4] / 8 : 0;
            options = options.Slice(4 + ((length + 3) & ~3));
        }
        return 0;
    }

    // epb_flags option (code 2, 32 bits): bits 5-8 the FCS length in bytes; null when the packet
    // does not say (no option, or a length of 0: "not available").
    private static int? FlagsFcsBytesOf(ReadOnlySpan<byte> options, bool little)
    {
        while (options.Length >= 4)
        {
            var code = U16(options, little);
            var length = U16(options.Slice(2), little);
            if (code == 0 || 4 + length > options.Length) break;
            if (code == 2 && length >= 4)
            {
                var fcs = (int)(U32(options.Slice(4), little) >> 5 & 0xF);
                return fcs == 0 ? null : fcs;
            }
            options = options.Slice(4 + ((length + 3) & ~3));
        }
        return null;
    }

    // Nanoseconds since 1970, or null past long's range (the year 2262): never a wrapped, negative time.
    private static long? ToNanoseconds(ulong stamp, long unitsPerSecond)
    {
        var seconds = stamp / (ulong)unitsPerSecond;
        var rest = stamp % (ulong)unitsPerSecond;
        if (seconds >= long.MaxValue / 1_000_000_000L) return null;
        return (long)(seconds * 1_000_000_000UL + (ulong)((decimal)rest * 1_000_000_000m / unitsPerSecond));
    }

    private static uint U32(ReadOnlySpan<byte> bytes, bool little) =>
        little ? BinaryPrimitives.ReadUInt32LittleEndian(bytes) : BinaryPrimitives.ReadUInt32BigEndian(bytes);

    private static ushort U16(ReadOnlySpan<byte> bytes, bool little) =>
        little ? BinaryPrimitives.ReadUInt16LittleEndian(bytes) : BinaryPrimitives.ReadUInt16BigEndian(bytes);

    // The `length` bytes a capture claims follow, or null if it is cut short. Memory follows the
    // bytes that really arrive, not the claim: a seekable stream is checked for that many bytes
    // first, any other is read in 64 KB steps — a crafted 16 MB length in a 100-byte file
    // allocates next to nothing.
    private static byte[]? ReadClaimed(Stream stream, int length)
    {
        if (stream.CanSeek && stream.Length - stream.Position < length) return null;
        if (stream.CanSeek || length <= 65_536)
        {
            var exact = new byte[length];
            return ReadExactly(stream, exact) < length ? null : exact;
        }
        var buffer = new byte[65_536];
        var filled = 0;
        while (filled < length)
        {
            if (filled == buffer.Length) Array.Resize(ref buffer, (int)Math.Min(length, 2L * buffer.Length));
            var n = stream.Read(buffer, filled, buffer.Length - filled);
            if (n == 0) return null;
            filled += n;
        }
        return buffer;
    }

    private static int ReadExactly(Stream stream, Span<byte> buffer)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var n = stream.Read(buffer.Slice(total));
            if (n == 0) break;
            total += n;
        }
        return total;
    }
}
