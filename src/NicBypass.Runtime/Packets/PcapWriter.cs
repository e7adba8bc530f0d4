using System.Buffers.Binary;

namespace NicBypass.Runtime.Packets;

/// <summary>Writes a classic little-endian pcap file (nanosecond timestamps, Ethernet link type): replay's per-VNIC captures and <see cref="Virtualization.VnicCapture"/>.</summary>
internal sealed class PcapWriter : IDisposable
{
    private readonly Stream _stream;
    private readonly byte[] _record = new byte[16];

    public PcapWriter(Stream stream)
    {
        _stream = stream;
        var header = new byte[24];
        BinaryPrimitives.WriteUInt32LittleEndian(header, 0xA1B23C4D);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(4), 2);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(6), 4);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(16), 262_144);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(20), 1 /* LINKTYPE_ETHERNET */);
        _stream.Write(header);
    }

    public long Frames { get; private set; }

    public void Write(long timestampNanoseconds, ReadOnlySpan<byte> frame)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(_record, (uint)(timestampNanoseconds / 1_000_000_000));
        BinaryPrimitives.WriteUInt32LittleEndian(_record.AsSpan(4), (uint)(timestampNanoseconds % 1_000_000_000));
        BinaryPrimitives.WriteUInt32LittleEndian(_record.AsSpan(8), (uint)frame.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(_record.AsSpan(12), (uint)frame.Length);
        _stream.Write(_record);
        _stream.Write(frame);
        Frames++;
    }

    public void Dispose() => _stream.Dispose();
}
