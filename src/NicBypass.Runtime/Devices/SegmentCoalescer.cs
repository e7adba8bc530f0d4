using System.Buffers.Binary;
using NicBypass.Runtime.Packets;

namespace NicBypass.Runtime.Devices;

/// <summary>
/// Joins consecutive TCP segments of one connection into one super-frame for Linux (a TAP with
/// <see cref="VirtioNetHeader"/>), as Linux's GRO joins what a NIC receives: Linux's stack then
/// takes a burst as one packet instead of one per segment. A segment joins the run when it is the
/// same connection's next bytes with the same headers otherwise (addresses, ports, ACK, window,
/// options), is a plain ACK (PSH allowed, and it ends the run), and is no longer than the first;
/// a shorter one ends the run too. Its TCP checksum must be right: a wrong one is left out, to
/// reach Linux as it is and be dropped there. Not thread-safe (its wire holds a lock); nothing is
/// allocated per frame.
/// </summary>
internal sealed class SegmentCoalescer
{
    private const byte Ack = (byte)TcpSegmentFlags.Ack;
    private const byte Psh = (byte)TcpSegmentFlags.Psh;
    private const int MaxDatagram = 65_535;

    private readonly byte[] _buffer = new byte[VirtioNetHeader.Length + 18 + MaxDatagram];
    private TcpFrameLayout _layout;
    private int _length;        // the frame's bytes after the virtio header
    private int _segmentSize;   // the first segment's payload
    private uint _next;         // the sequence number that continues the run
    private byte _lastFlags;
    private bool _ended;        // a PSH or a short segment ended the run

    /// <summary>Segments in the run.</summary>
    public int Count { get; private set; }

    private Span<byte> Frame => _buffer.AsSpan(VirtioNetHeader.Length, _length);

    /// <summary>Adds <paramref name="frame"/> to the run (starting one when there is none); false when it cannot join.</summary>
    public bool TryAdd(ReadOnlySpan<byte> frame)
    {
        if (!TcpFrameLayout.TryRead(frame, out var layout) || layout.PayloadLength == 0) return false;
        var flags = frame[layout.TcpOffset + 13];
        if ((flags & ~(Ack | Psh)) != 0 || (flags & Ack) == 0) return false;
        // Wrong checksums are not joined: the run's are recomputed, and Linux would never see them.
        if (!SegmentationOffload.TcpChecksumValid(frame, layout) || !layout.IsV6 && InternetChecksum.Compute(frame[layout.IpOffset..layout.TcpOffset]) != 0) return false;
        var sequence = BinaryPrimitives.ReadUInt32BigEndian(frame.Slice(layout.TcpOffset + 4));
        if (Count == 0)
        {
            if (layout.FrameLength > _buffer.Length - VirtioNetHeader.Length) return false;
            frame.Slice(0, layout.FrameLength).CopyTo(_buffer.AsSpan(VirtioNetHeader.Length));
            _layout = layout;
            _length = layout.FrameLength;
            _segmentSize = layout.PayloadLength;
            _ended = false;
        }
        else
        {
            if (_ended || layout.PayloadLength > _segmentSize || sequence != _next || !SameConnection(frame, layout)
                || _length + layout.PayloadLength - _layout.IpOffset > MaxDatagram)
            {
                return false;
            }
            frame.Slice(layout.HeaderLength, layout.PayloadLength).CopyTo(_buffer.AsSpan(VirtioNetHeader.Length + _length));
            _length += layout.PayloadLength;
        }
        Count++;
        _next = sequence + (uint)layout.PayloadLength;
        _lastFlags = flags;
        if ((flags & Psh) != 0 || layout.PayloadLength < _segmentSize) _ended = true;
        return true;
    }

    // Every header byte that must be equal for the frame to continue the run: all but the IP
    // length, identification and checksums, the sequence number and the flags.
    private bool SameConnection(ReadOnlySpan<byte> frame, in TcpFrameLayout layout)
    {
        if (layout.HeaderLength != _layout.HeaderLength || layout.TcpOffset != _layout.TcpOffset || layout.IpOffset != _layout.IpOffset || layout.IsV6 != _layout.IsV6) return false;
        ReadOnlySpan<byte> run = Frame;
        var ip = layout.IpOffset;
        var tcp = layout.TcpOffset;
        var network = layout.IsV6
            ? Equal(frame, run, 0, ip + 4) && Equal(frame, run, ip + 6, tcp + 4)                                        // class and flow; next header, hop limit, addresses, ports
            : Equal(frame, run, 0, ip + 2) && Equal(frame, run, ip + 6, ip + 10) && Equal(frame, run, ip + 12, tcp + 4); // TOS; DF, TTL, protocol; addresses, options, ports
        return network && Equal(frame, run, tcp + 8, tcp + 13) && Equal(frame, run, tcp + 14, tcp + 16) && Equal(frame, run, tcp + 18, layout.HeaderLength); // ACK, offset; window; urgent, options
    }

    private static bool Equal(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, int from, int to) => a[from..to].SequenceEqual(b[from..to]);

    /// <summary>
    /// The run, ready to write: the virtio header (a super-frame with its checksum left partial,
    /// or a plain frame when the run is one segment) and the frame. Empties the run.
    /// </summary>
    public ReadOnlySpan<byte> Take(out int segments)
    {
        segments = Count;
        if (Count == 0) return ReadOnlySpan<byte>.Empty;
        Count = 0;
        var header = VirtioNetHeader.None;
        if (segments > 1)
        {
            var frame = Frame;
            var tcpLength = _length - _layout.TcpOffset;
            _layout.WriteIpLength(frame, tcpLength);
            var tcp = frame.Slice(_layout.TcpOffset);
            tcp[13] = _lastFlags;
            // Partial: the pseudo-header's sum, folded, not inverted; Linux adds the rest.
            BinaryPrimitives.WriteUInt16BigEndian(tcp.Slice(16), (ushort)~InternetChecksum.Finish(_layout.PseudoHeaderSum(frame, tcpLength)));
            header = new VirtioNetHeader(VirtioNetHeader.NeedsChecksum, _layout.IsV6 ? VirtioNetHeader.GsoTcpV6 : VirtioNetHeader.GsoTcpV4,
                (ushort)_layout.HeaderLength, (ushort)_segmentSize, (ushort)_layout.TcpOffset, 16);
        }
        header.Write(_buffer);
        return _buffer.AsSpan(0, VirtioNetHeader.Length + _length);
    }
}
