using System.Buffers.Binary;
using System.Net;
using System.Net.NetworkInformation;
using NicBypass.Runtime.Devices;
using PacketDotNet;
using Xunit;

namespace NicBypass.Runtime.Tests;

/// <summary>
/// The TAP's offloads, checked against PacketDotNet as an independent reader: segments joined by
/// <see cref="SegmentCoalescer"/> and cut again by <see cref="SegmentationOffload"/> come back as
/// they were; a partial checksum is completed the way Linux expects; what must not join does not.
/// </summary>
public sealed class SegmentationOffloadTests
{
    private static readonly PhysicalAddress Ours = PhysicalAddress.Parse("02-00-00-00-77-02");
    private static readonly PhysicalAddress Linux = PhysicalAddress.Parse("02-00-00-00-77-FE");

    private static byte[] Segment(uint sequence, int length, bool psh = false, bool v6 = false, ushort sourcePort = 7, byte fill = 0, bool syn = false)
    {
        var tcp = new TcpPacket(sourcePort, 40000)
        {
            SequenceNumber = sequence,
            AcknowledgmentNumber = 5000,
            Acknowledgment = true,
            Push = psh,
            Synchronize = syn,
            WindowSize = 4000,
            PayloadData = Enumerable.Range(0, length).Select(i => (byte)(sequence + i + fill)).ToArray(),
        };
        IPPacket ip = v6
            ? new IPv6Packet(IPAddress.Parse("fd77::2"), IPAddress.Parse("fd77::fe")) { PayloadPacket = tcp }
            : new IPv4Packet(IPAddress.Parse("10.77.0.2"), IPAddress.Parse("10.77.0.254")) { PayloadPacket = tcp, Id = 100 };
        var ether = new EthernetPacket(Ours, Linux, v6 ? EthernetType.IPv6 : EthernetType.IPv4) { PayloadPacket = ip };
        ether.UpdateCalculatedValues();
        tcp.UpdateTcpChecksum();
        if (ip is IPv4Packet v4) v4.UpdateIPChecksum();
        return ether.Bytes;
    }

    private static TcpPacket Tcp(ReadOnlySpan<byte> frame) => new EthernetPacket(new PacketDotNet.Utils.ByteArraySegment(frame.ToArray())).Extract<TcpPacket>();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Segments_joined_into_a_super_frame_and_cut_again_come_back_as_they_were(bool v6)
    {
        var coalescer = new SegmentCoalescer();
        var segments = Enumerable.Range(0, 10).Select(i => Segment(1000 + (uint)(i * 1448), i == 9 ? 700 : 1448, psh: i == 9, v6: v6)).ToArray();
        foreach (var segment in segments) Assert.True(coalescer.TryAdd(segment));

        var packet = coalescer.Take(out var count).ToArray();
        Assert.Equal(10, count);
        Assert.Equal(0, coalescer.Count);
        var header = VirtioNetHeader.Read(packet);
        Assert.Equal(v6 ? VirtioNetHeader.GsoTcpV6 : VirtioNetHeader.GsoTcpV4, header.GsoType);
        Assert.Equal(VirtioNetHeader.NeedsChecksum, header.Flags);
        Assert.Equal(1448, header.SegmentSize);
        var super = packet.AsSpan(VirtioNetHeader.Length).ToArray();
        Assert.Equal(segments[0].Length + 9 * 1448 - 1448 + 700, super.Length);

        // What Linux does with it: the checksum completed from csum_start on is the whole super-frame's.
        var completed = super.ToArray();
        Assert.True(SegmentationOffload.TryCompleteChecksum(completed, header.ChecksumStart, header.ChecksumOffset));
        var whole = Tcp(completed);
        Assert.True(whole.ValidTcpChecksum);
        Assert.Equal(9 * 1448 + 700, whole.PayloadData.Length);
        Assert.True(whole.Push);

        // And cut again (what the device does with Linux's super-frames): the same segments.
        Assert.True(TcpFrameLayout.TryRead(super, out var layout));
        Assert.Equal(10, SegmentationOffload.SegmentCount(layout, header.SegmentSize));
        var into = new byte[2048];
        for (var i = 0; i < 10; i++)
        {
            var length = SegmentationOffload.WriteSegment(super, layout, header.SegmentSize, i, into);
            var cut = Tcp(into.AsSpan(0, length));
            var original = Tcp(segments[i]);
            Assert.True(cut.ValidTcpChecksum, $"segment {i}");
            Assert.Equal(original.SequenceNumber, cut.SequenceNumber);
            Assert.Equal(original.PayloadData, cut.PayloadData);
            Assert.Equal(original.Push, cut.Push);
            Assert.Equal(original.Flags, cut.Flags);
            if (!v6)
            {
                var ip = (IPv4Packet)cut.ParentPacket;
                Assert.True(ip.ValidIPChecksum);
                Assert.Equal(segments[i].Length - 14, ip.TotalLength);
                Assert.Equal(100 + i, ip.Id);
            }
            else
            {
                Assert.Equal(segments[i].Length - 54, ((IPv6Packet)cut.ParentPacket).PayloadLength);
            }
        }
    }

    [Fact]
    public void A_partial_checksum_is_completed_to_the_right_one()
    {
        var frame = Segment(1, 333);
        var right = BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(14 + 20 + 16));
        Assert.True(TcpFrameLayout.TryRead(frame, out var layout));
        // Linux leaves the pseudo-header's sum, folded and not inverted, in the field.
        var tcpLength = layout.FrameLength - layout.TcpOffset;
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(layout.TcpOffset + 16), (ushort)~Runtime.Packets.InternetChecksum.Finish(layout.PseudoHeaderSum(frame, tcpLength)));
        Assert.True(SegmentationOffload.TryCompleteChecksum(frame, layout.TcpOffset, 16));
        Assert.Equal(right, BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(layout.TcpOffset + 16)));
        Assert.False(SegmentationOffload.TryCompleteChecksum(frame, frame.Length - 1, 16)); // outside the frame
    }

    [Fact]
    public void What_is_not_the_next_segment_of_the_same_connection_does_not_join()
    {
        var coalescer = new SegmentCoalescer();
        Assert.True(coalescer.TryAdd(Segment(1000, 1000)));
        Assert.False(coalescer.TryAdd(Segment(3000, 1000)));                 // a gap
        Assert.False(coalescer.TryAdd(Segment(2000, 1000, sourcePort: 8)));  // another connection
        Assert.False(coalescer.TryAdd(Segment(2000, 1200)));                 // longer than the first
        Assert.False(coalescer.TryAdd(Segment(2000, 1000, syn: true)));      // not a plain ACK
        var corrupt = Segment(2000, 1000);
        corrupt[^1] ^= 0xFF;
        Assert.False(coalescer.TryAdd(corrupt));                             // a wrong checksum reaches Linux as it is
        var badHeader = Segment(2000, 1000);
        badHeader[14 + 8]--;                                                 // TTL changed, header checksum not
        Assert.False(coalescer.TryAdd(badHeader));
        Assert.True(coalescer.TryAdd(Segment(2000, 1000, psh: true)));
        Assert.False(coalescer.TryAdd(Segment(3000, 1000)));                 // PSH ended the run
        Assert.Equal(2, coalescer.Count);

        // A run of one is written as the plain frame it was.
        var single = new SegmentCoalescer();
        var frame = Segment(1, 100);
        Assert.True(single.TryAdd(frame));
        var packet = single.Take(out var count);
        Assert.Equal(1, count);
        Assert.Equal(VirtioNetHeader.None, VirtioNetHeader.Read(packet));
        Assert.Equal(frame, packet.Slice(VirtioNetHeader.Length).ToArray());
    }

    [Fact]
    public void A_short_segment_ends_the_run_and_the_run_stays_under_64_kilobytes()
    {
        var coalescer = new SegmentCoalescer();
        Assert.True(coalescer.TryAdd(Segment(0, 1000)));
        Assert.True(coalescer.TryAdd(Segment(1000, 500)));
        Assert.False(coalescer.TryAdd(Segment(1500, 500)));
        coalescer.Take(out _);

        var sequence = 0u;
        var joined = 0;
        while (coalescer.TryAdd(Segment(sequence, 1448)))
        {
            sequence += 1448;
            joined++;
        }
        Assert.Equal((65535 - 40) / 1448, joined); // 45: one more would pass IPv4's 65,535 bytes
    }
}
