using NicBypass.Runtime.Packets;
using System.Buffers.Binary;

namespace NicBypass.Runtime.Stacks;

/// <summary>A received TCP segment's header fields and payload (a view over the frame; valid during the call).</summary>
internal readonly ref struct TcpSegment
{
    public TcpSegment(ReadOnlySpan<byte> tcp)
    {
        SourcePort = BinaryPrimitives.ReadUInt16BigEndian(tcp);
        DestinationPort = BinaryPrimitives.ReadUInt16BigEndian(tcp.Slice(2));
        Sequence = BinaryPrimitives.ReadUInt32BigEndian(tcp.Slice(4));
        Acknowledgment = BinaryPrimitives.ReadUInt32BigEndian(tcp.Slice(8));
        var headerLength = (tcp[12] >> 4) * 4;
        Flags = (TcpSegmentFlags)(tcp[13] & 0x3F);
        Window = BinaryPrimitives.ReadUInt16BigEndian(tcp.Slice(14));
        Options = tcp.Slice(20, headerLength - 20);
        Payload = tcp.Slice(headerLength);
    }

    public ushort SourcePort { get; }

    public ushort DestinationPort { get; }

    public uint Sequence { get; }

    public uint Acknowledgment { get; }

    public TcpSegmentFlags Flags { get; }

    public ushort Window { get; }

    public ReadOnlySpan<byte> Options { get; }

    public ReadOnlySpan<byte> Payload { get; }

    public bool Has(TcpSegmentFlags flag) => (Flags & flag) != 0;

    /// <summary>Sequence space it occupies: payload, plus one each for SYN and FIN.</summary>
    public int SequenceLength => Payload.Length + (Has(TcpSegmentFlags.Syn) ? 1 : 0) + (Has(TcpSegmentFlags.Fin) ? 1 : 0);

    /// <summary>The timestamps option (RFC 7323), if present: the sender's clock and the echo of ours.</summary>
    public bool TryGetTimestamps(out uint value, out uint echo)
    {
        var options = Options;
        while (options.Length > 0)
        {
            switch (options[0])
            {
                case 0: value = echo = 0; return false;
                case 1: options = options.Slice(1); continue;
            }
            if (options.Length < 2 || options[1] < 2 || options[1] > options.Length) break;
            if (options[0] == 8 && options[1] == 10)
            {
                value = BinaryPrimitives.ReadUInt32BigEndian(options.Slice(2));
                echo = BinaryPrimitives.ReadUInt32BigEndian(options.Slice(6));
                return true;
            }
            options = options.Slice(options[1]);
        }
        value = echo = 0;
        return false;
    }

    /// <summary>The window-scale option (RFC 7323 2.2), if present: the shift the sender of this SYN applies to its window (at most 14).</summary>
    public int? WindowScale => TryFindOption(3, out var value) && value.Length == 1 ? Math.Min((int)value[0], 14) : null;

    /// <summary>Reads up to <c>into.Length</c> SACK blocks (RFC 2018: left edge, right edge); how many there were.</summary>
    public int ReadSackBlocks(Span<(uint Left, uint Right)> into)
    {
        if (!TryFindOption(5, out var value)) return 0;
        var count = Math.Min(value.Length / 8, into.Length);
        for (var i = 0; i < count; i++)
        {
            into[i] = (BinaryPrimitives.ReadUInt32BigEndian(value.Slice(8 * i)), BinaryPrimitives.ReadUInt32BigEndian(value.Slice(8 * i + 4)));
        }
        return count;
    }

    /// <summary>The SACK-permitted option (RFC 2018): the sender of this SYN can read SACK blocks.</summary>
    public bool SackPermitted => TryFindOption(4, out var value) && value.IsEmpty;

    // Walks the options for `kind`; its value (after kind and length) when found.
    private bool TryFindOption(byte kind, out ReadOnlySpan<byte> value)
    {
        var options = Options;
        while (options.Length > 0)
        {
            switch (options[0])
            {
                case 0: value = default; return false;
                case 1: options = options.Slice(1); continue;
            }
            if (options.Length < 2 || options[1] < 2 || options[1] > options.Length) break;
            if (options[0] == kind)
            {
                value = options.Slice(2, options[1] - 2);
                return true;
            }
            options = options.Slice(options[1]);
        }
        value = default;
        return false;
    }

    /// <summary>The MSS option, if present.</summary>
    public int? MaximumSegmentSize
    {
        get
        {
            var options = Options;
            while (options.Length > 0)
            {
                switch (options[0])
                {
                    case 0: return null;
                    case 1: options = options.Slice(1); continue;
                }
                if (options.Length < 2 || options[1] < 2 || options[1] > options.Length) return null;
                if (options[0] == 2 && options[1] == 4) return BinaryPrimitives.ReadUInt16BigEndian(options.Slice(2));
                options = options.Slice(options[1]);
            }
            return null;
        }
    }
}
