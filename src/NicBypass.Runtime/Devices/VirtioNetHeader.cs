using System.Buffers.Binary;

namespace NicBypass.Runtime.Devices;

/// <summary>
/// The 10-byte <c>struct virtio_net_hdr</c> a TAP device opened with IFF_VNET_HDR puts before every
/// frame (include/uapi/linux/virtio_net.h; little-endian on the machines .NET runs on): whether the
/// transport checksum is still to be completed, and whether the frame is a TCP segmentation-offload
/// super-frame to be cut into segments of <see cref="SegmentSize"/> payload bytes. What a
/// virtio-net NIC and its host exchange, and what lets Linux hand a TAP 64 KB at a time.
/// </summary>
internal readonly record struct VirtioNetHeader(byte Flags, byte GsoType, ushort HeaderLength, ushort SegmentSize, ushort ChecksumStart, ushort ChecksumOffset)
{
    public const int Length = 10;

    /// <summary>Flags: the checksum at <see cref="ChecksumStart"/> + <see cref="ChecksumOffset"/> holds only the pseudo-header's sum; the receiver completes it.</summary>
    public const byte NeedsChecksum = 1;

    /// <summary>Flags: the sender has checked the checksum.</summary>
    public const byte DataValid = 2;

    public const byte GsoNone = 0;
    public const byte GsoTcpV4 = 1;
    public const byte GsoUdp = 3;
    public const byte GsoTcpV6 = 4;
    public const byte GsoEcn = 0x80;

    /// <summary>A plain frame: nothing to complete, nothing to cut.</summary>
    public static readonly VirtioNetHeader None = default;

    public static VirtioNetHeader Read(ReadOnlySpan<byte> bytes) => new(
        bytes[0], bytes[1],
        BinaryPrimitives.ReadUInt16LittleEndian(bytes.Slice(2)),
        BinaryPrimitives.ReadUInt16LittleEndian(bytes.Slice(4)),
        BinaryPrimitives.ReadUInt16LittleEndian(bytes.Slice(6)),
        BinaryPrimitives.ReadUInt16LittleEndian(bytes.Slice(8)));

    public void Write(Span<byte> bytes)
    {
        bytes[0] = Flags;
        bytes[1] = GsoType;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.Slice(2), HeaderLength);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.Slice(4), SegmentSize);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.Slice(6), ChecksumStart);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.Slice(8), ChecksumOffset);
    }
}
