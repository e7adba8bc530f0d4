using NicBypass.Runtime.Packets;
using System.Buffers.Binary;
using NicBypass.Cli.Captures;

namespace NicBypass.Cli.Tests;

public class CaptureReaderTests
{
    private static byte[] Frame(byte fill, int length = 60) => Enumerable.Repeat(fill, length).ToArray();

    private static byte[] Pcap(bool bigEndian, bool nano, int linkType, params (uint Seconds, uint Fraction, byte[] Data)[] frames)
    {
        var bytes = new List<byte>();
        void U32(uint v) { var b = new byte[4]; if (bigEndian) BinaryPrimitives.WriteUInt32BigEndian(b, v); else BinaryPrimitives.WriteUInt32LittleEndian(b, v); bytes.AddRange(b); }
        void U16(ushort v) { var b = new byte[2]; if (bigEndian) BinaryPrimitives.WriteUInt16BigEndian(b, v); else BinaryPrimitives.WriteUInt16LittleEndian(b, v); bytes.AddRange(b); }
        U32(nano ? 0xA1B23C4D : 0xA1B2C3D4);
        U16(2); U16(4); U32(0); U32(0); U32(65535); U32((uint)linkType);
        foreach (var (s, f, data) in frames)
        {
            U32(s); U32(f); U32((uint)data.Length); U32((uint)data.Length + 4);
            bytes.AddRange(data);
        }
        return bytes.ToArray();
    }

    // One little-endian pcapng block: type, total length, body, total length again.
    private static void PcapngBlock(List<byte> bytes, uint type, byte[] body)
    {
        var total = (uint)(12 + body.Length);
        var b = new byte[total];
        BinaryPrimitives.WriteUInt32LittleEndian(b, type);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(4), total);
        body.CopyTo(b, 8);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan((int)total - 4), total);
        bytes.AddRange(b);
    }

    // A little-endian pcapng section header block (version 1.0, section length unknown).
    private static void SectionHeader(List<byte> bytes)
    {
        var shb = new byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(shb, 0x1A2B3C4D);
        BinaryPrimitives.WriteUInt16LittleEndian(shb.AsSpan(4), 1);
        BinaryPrimitives.WriteInt64LittleEndian(shb.AsSpan(8), -1);
        PcapngBlock(bytes, 0x0A0D0D0A, shb);
    }

    private static List<CaptureFrame> Read(byte[] file) => CaptureReader.Read(new MemoryStream(file)).ToList();

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void Pcap_in_either_byte_order_and_resolution(bool bigEndian, bool nano)
    {
        var frames = Read(Pcap(bigEndian, nano, 1, (10, 500, Frame(1)), (11, 7, Frame(2, 70))));

        Assert.Equal(2, frames.Count);
        Assert.Equal(10_000_000_000L + (nano ? 500 : 500_000), frames[0].TimestampNanoseconds);
        Assert.Equal(Frame(2, 70), frames[1].Data);
        Assert.Equal(74, frames[1].OriginalLength);
        Assert.Equal(1, frames[1].LinkType);
    }

    [Fact]
    public void Pcapng_with_section_interface_enhanced_and_simple_blocks()
    {
        var bytes = new List<byte>();
        void Block(uint type, byte[] body) => PcapngBlock(bytes, type, body);
        SectionHeader(bytes);
        var idb = new byte[16]; // link type 1, snaplen, option if_tsresol = 9 (nanoseconds), end of options
        BinaryPrimitives.WriteUInt16LittleEndian(idb, 1);
        BinaryPrimitives.WriteUInt16LittleEndian(idb.AsSpan(8), 9);
        BinaryPrimitives.WriteUInt16LittleEndian(idb.AsSpan(10), 1);
        idb[12] = 9;
        Block(1, idb);
        var data = Frame(7, 62);
        var epb = new byte[20 + 64];
        BinaryPrimitives.WriteUInt32LittleEndian(epb.AsSpan(4), 0);
        BinaryPrimitives.WriteUInt32LittleEndian(epb.AsSpan(8), 1_500_000_000);
        BinaryPrimitives.WriteUInt32LittleEndian(epb.AsSpan(12), 62);
        BinaryPrimitives.WriteUInt32LittleEndian(epb.AsSpan(16), 62);
        data.CopyTo(epb, 20);
        Block(6, epb);
        var spb = new byte[4 + 60];
        BinaryPrimitives.WriteUInt32LittleEndian(spb, 60);
        Frame(8).CopyTo(spb, 4);
        Block(3, spb);
        Block(5, new byte[8]); // an interface statistics block: skipped

        var frames = Read(bytes.ToArray());

        Assert.Equal(2, frames.Count);
        Assert.Equal(1_500_000_000L, frames[0].TimestampNanoseconds);
        Assert.Equal(data, frames[0].Data);
        Assert.Equal(Frame(8), frames[1].Data);
    }

    [Fact]
    public void A_cut_short_capture_says_where()
    {
        var file = Pcap(false, false, 1, (1, 0, Frame(1)), (2, 0, Frame(2)));

        var error = Assert.Throws<CaptureFormatException>(() => Read(file[..^10]));

        Assert.Equal("pcap: frame 2 at byte 100: the frame data is cut short", error.Message);
        // The global header too: where, and how much of it there is.
        Assert.Equal("pcap: the global header at byte 0 is cut short: 10 of its 24 bytes", Assert.Throws<CaptureFormatException>(() => Read(file[..10])).Message);
    }

    [Theory]
    [InlineData(new byte[] { 1, 2 }, "too short")]
    [InlineData(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }, "unknown capture format (first bytes 01020304, in the file's order)")]
    [InlineData(new byte[] { (byte)'h', (byte)'e', (byte)'l', (byte)'l', (byte)'o' }, "first bytes 68656c6c")] // as `xxd` shows them (not 6c6c6568)
    public void Not_a_capture_is_a_clear_error(byte[] file, string message) =>
        Assert.Contains(message, Assert.Throws<CaptureFormatException>(() => Read(file)).Message);

    [Fact]
    public void The_writer_round_trips_through_the_reader()
    {
        var stream = new MemoryStream();
        using (var writer = new PcapWriter(stream))
        {
            writer.Write(1_000_000_123, Frame(3, 64));
            writer.Write(2_000_000_000, Frame(4, 1514));
        }

        var frames = Read(stream.ToArray());

        Assert.Equal(new[] { 1_000_000_123L, 2_000_000_000L }, frames.Select(f => f.TimestampNanoseconds));
        Assert.Equal(Frame(4, 1514), frames[1].Data);
    }

    [Fact]
    public void A_pcapng_block_whose_trailing_length_does_not_match_its_leading_one_is_a_located_error()
    {
        // tshark: "total block lengths (first 92 and second 8) don't match"; it was replayed.
        var file = CraftedPcapng();
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(file.Length - 4), 8);

        var error = Assert.Throws<CaptureFormatException>(() => Read(file));

        Assert.Equal("pcapng: block 3 at byte 48: its trailing length 8 does not match its leading length 92", error.Message);
    }

    [Fact]
    public void A_frame_cut_by_the_snaplen_in_a_capture_with_an_fcs_has_its_original_length_without_the_fcs()
    {
        // The FCS was taken off the original length only of frames kept whole: a full-size frame
        // cut to 60 bytes said 1,522, and replay counted it oversize on a NIC carrying 1,518 (found by review).
        var bytes = new List<byte>();
        void U32(uint v) { var b = new byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(b, v); bytes.AddRange(b); }
        U32(0xA1B2C3D4);
        bytes.AddRange(new byte[] { 2, 0, 4, 0 });
        U32(0); U32(0); U32(60);
        U32(1 | 0x0400_0000u | 2u << 28); // Ethernet, an FCS of two 16-bit words on every frame
        U32(1); U32(0); U32(60); U32(1522);
        bytes.AddRange(Frame(3));

        var frame = Assert.Single(Read(bytes.ToArray()));

        Assert.Equal((60, 1518), (frame.Data.Length, frame.OriginalLength));
    }

    [Fact]
    public void Obsolete_pcapng_packet_blocks_are_read_as_enhanced_ones_are()
    {
        // Type 2 (a 16-bit interface id, then a drops count): 800 of them replayed as 0 frames, unsaid.
        var bytes = new List<byte>();
        SectionHeader(bytes);
        var idb = new byte[8];
        idb[0] = 1;
        PcapngBlock(bytes, 1, idb);
        var pb = new byte[20 + 60];
        BinaryPrimitives.WriteUInt16LittleEndian(pb.AsSpan(2), 3); // drops
        BinaryPrimitives.WriteUInt32LittleEndian(pb.AsSpan(8), 2_000_000); // low 32 bits of microseconds
        BinaryPrimitives.WriteUInt32LittleEndian(pb.AsSpan(12), 60);
        BinaryPrimitives.WriteUInt32LittleEndian(pb.AsSpan(16), 64);
        Frame(7).CopyTo(pb, 20);
        PcapngBlock(bytes, 2, pb);

        var frame = Assert.Single(Read(bytes.ToArray()));

        Assert.Equal((2_000_000_000L, 64, 1), (frame.TimestampNanoseconds, frame.OriginalLength, frame.LinkType));
        Assert.Equal(Frame(7), frame.Data);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_modified_pcap_with_its_longer_record_headers_is_read(bool bigEndian)
    {
        // editcap -F modpcap (magic a1b2cd34): libpcap reads it; it was "unknown capture format".
        var bytes = new List<byte>();
        void U32(uint v) { var b = new byte[4]; if (bigEndian) BinaryPrimitives.WriteUInt32BigEndian(b, v); else BinaryPrimitives.WriteUInt32LittleEndian(b, v); bytes.AddRange(b); }
        void U16(ushort v) { var b = new byte[2]; if (bigEndian) BinaryPrimitives.WriteUInt16BigEndian(b, v); else BinaryPrimitives.WriteUInt16LittleEndian(b, v); bytes.AddRange(b); }
        U32(0xA1B2CD34);
        U16(2); U16(4); U32(0); U32(0); U32(65535); U32(1);
        foreach (var (second, fill) in new[] { (5u, (byte)1), (6u, (byte)2) })
        {
            U32(second); U32(10); U32(60); U32(60);
            U32(3); U16(0x0800); bytes.Add(0); bytes.Add(0); // ifindex, protocol, packet type, pad
            bytes.AddRange(Frame(fill));
        }

        var frames = Read(bytes.ToArray());

        Assert.Equal(new[] { 5_000_010_000L, 6_000_010_000L }, frames.Select(f => f.TimestampNanoseconds));
        Assert.Equal(Frame(2), frames[1].Data);
    }

    // A valid pcapng — section header, interface, one enhanced packet — with one field overwritten
    // at `at` (an offset into the file) by `value`.
    private static byte[] CraftedPcapng(int at = -1, uint value = 0)
    {
        var bytes = new List<byte>();
        void Block(uint type, byte[] body) => PcapngBlock(bytes, type, body);
        SectionHeader(bytes);          // bytes 0..27
        Block(1, new byte[8]);         // bytes 28..47: link type 0 → patched to 1 below
        bytes[28 + 8] = 1;
        var epb = new byte[20 + 60];
        BinaryPrimitives.WriteUInt32LittleEndian(epb.AsSpan(12), 60);
        BinaryPrimitives.WriteUInt32LittleEndian(epb.AsSpan(16), 60);
        Block(6, epb);                 // bytes 48..: id at 56, captured length at 68
        var file = bytes.ToArray();
        if (at >= 0) BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(at), value);
        return file;
    }

    [Theory]
    [InlineData(4, 0x8000_0000u, "bad section header length 2147483648")]   // a 2 GB section header
    [InlineData(4, 0xFFFF_FFFCu, "bad section header length 4294967292")]   // a 4 GB one
    [InlineData(52, 0x8000_0000u, "bad block length 2147483648")]           // a 2 GB packet block
    [InlineData(68, 0x7FFF_FFF0u, "captured length 2147483632 runs past the block")] // caplen beyond the block (and int overflow)
    [InlineData(68, 0xFFFF_FFFFu, "captured length 4294967295 runs past the block")]
    [InlineData(56, 0xFFFF_FFFFu, "packet for undeclared interface 4294967295")]    // a "negative" interface id
    [InlineData(60, 0x8000_0000u, "is past the year 2262")]                          // a timestamp whose nanoseconds overflow
    public void A_crafted_pcapng_is_a_clear_error_at_its_offset_and_allocates_nothing_from_its_lengths(int at, uint value, string message)
    {
        Assert.Single(Read(CraftedPcapng())); // the file is valid before the one field is changed
        var before = GC.GetAllocatedBytesForCurrentThread();

        var error = Assert.Throws<CaptureFormatException>(() => Read(CraftedPcapng(at, value)));

        Assert.Contains(message, error.Message);
        Assert.Contains("at byte", error.Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1_000_000, "a length from the file was allocated");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_block_claiming_16_mb_in_a_small_file_allocates_only_what_arrives(bool seekable)
    {
        var file = CraftedPcapng(52, CaptureReader.MaxBlockLength); // the packet block claims the most a block may hold
        Stream stream = seekable ? new MemoryStream(file) : new ForwardOnlyStream(file);
        var before = GC.GetAllocatedBytesForCurrentThread();

        var error = Assert.Throws<CaptureFormatException>(() => CaptureReader.Read(stream).ToList());

        Assert.Contains("block 3 at byte 48: the block is cut short", error.Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1_000_000, "the claimed 16 MB were allocated");
    }

    // A pipe, as standard input would be: no length, no seeking.
    private sealed class ForwardOnlyStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => base.Position; set => throw new NotSupportedException(); }
    }

    [Fact]
    public void Twenty_thousand_mutated_captures_only_ever_fail_with_a_capture_format_error()
    {
        var valid = CraftedPcapng();
        var random = new Random(1234);
        var failures = new List<string>();
        for (var i = 0; i < 20_000; i++)
        {
            var file = (byte[])valid.Clone();
            for (var m = random.Next(1, 4); m > 0; m--)
            {
                var at = random.Next(file.Length);
                file[at] = random.Next(3) switch { 0 => 0xFF, 1 => 0x00, _ => (byte)random.Next(256) };
            }
            try
            {
                Read(file);
            }
            catch (CaptureFormatException)
            {
            }
            catch (Exception ex)
            {
                failures.Add($"{ex.GetType().Name}: {ex.Message} on {Convert.ToHexString(file)}");
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(3)));
    }

    [Theory]
    [InlineData(0x0400_0000u | 2u << 28, 100)] // P (bit 26) and two 16-bit words: a 4-byte FCS, cut off
    [InlineData(0x0800_0000u | 2u << 28, 104)] // bit 27 is reserved: no FCS said, nothing cut (it was read as the flag)
    [InlineData(2u << 28, 104)]                // a length without P: unknown, nothing cut
    public void A_pcap_says_its_frames_end_with_an_fcs_in_libpcaps_bits(uint high, int length)
    {
        var file = Pcap(false, false, (int)(1 | high), (1, 0, Frame(3, 104)));
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(24 + 12), 104); // captured whole: the FCS is there to cut
        var frames = Read(file);

        Assert.Equal(length, Assert.Single(frames).Data.Length);
        Assert.Equal(1, frames[0].LinkType);
    }

    [Theory]
    [InlineData(32, -1, 58)] // if_fcslen 32 bits: a 4-byte FCS, cut off
    [InlineData(0, -1, 62)]  // none
    [InlineData(12, -1, 62)] // not whole bytes: left as captured
    [InlineData(0, 4, 58)]   // the packet's epb_flags say 4 bytes of FCS
    [InlineData(32, 2, 60)]  // the packet's own length counts over its interface's
    [InlineData(32, 0, 58)]  // epb_flags with a length of 0 ("not available"): the interface's
    public void A_pcapng_interface_or_packet_says_its_frames_end_with_an_fcs(int bits, int packetFcs, int length)
    {
        var bytes = new List<byte>();
        SectionHeader(bytes);
        var idb = new byte[20]; // link type 1, snaplen, option if_fcslen (13), end of options
        BinaryPrimitives.WriteUInt16LittleEndian(idb, 1);
        BinaryPrimitives.WriteUInt16LittleEndian(idb.AsSpan(8), 13);
        BinaryPrimitives.WriteUInt16LittleEndian(idb.AsSpan(10), 1);
        idb[12] = (byte)bits;
        PcapngBlock(bytes, 1, idb);
        var epb = new byte[20 + 64 + (packetFcs >= 0 ? 12 : 0)]; // options: epb_flags (code 2, 4 bytes), end of options
        BinaryPrimitives.WriteUInt32LittleEndian(epb.AsSpan(12), 62);
        BinaryPrimitives.WriteUInt32LittleEndian(epb.AsSpan(16), 62);
        Frame(7, 62).CopyTo(epb, 20);
        if (packetFcs >= 0)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(epb.AsSpan(84), 2);
            BinaryPrimitives.WriteUInt16LittleEndian(epb.AsSpan(86), 4);
            BinaryPrimitives.WriteUInt32LittleEndian(epb.AsSpan(88), (uint)packetFcs << 5 | 1); // inbound, FCS length
        }
        PcapngBlock(bytes, 6, epb);

        var frame = Assert.Single(Read(bytes.ToArray()));

        Assert.Equal(Frame(7, length), frame.Data);
        Assert.Equal(length, frame.OriginalLength);
    }
}
