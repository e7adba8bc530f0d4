using System.Buffers.Binary;

namespace NicBypass.Runtime.Virtualization;

/// <summary>
/// What one VNIC delivers, written as a pcap file (microsecond timestamps on the host's clock,
/// Ethernet link type) — <c>tcpdump -i</c> for tests. Made by <see cref="NetworkHost.Capture"/>;
/// disposing it stops the capture and closes the file. Frames are written as they are delivered
/// (VLAN tag removed, as the VM or VNS sees them).
/// </summary>
public sealed class VnicCapture : IDisposable
{
    private readonly Vnic _vnic;
    private readonly TimeProvider _time;
    private readonly FileStream _file;
    private readonly FrameHandler _handler;
    private readonly byte[] _record = new byte[16];
    private bool _disposed;

    internal VnicCapture(Vnic vnic, TimeProvider time, string path)
    {
        _vnic = vnic;
        _time = time;
        _file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read);
        var header = new byte[24];
        BinaryPrimitives.WriteUInt32LittleEndian(header, 0xA1B2C3D4);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(4), 2);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(6), 4);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(16), 65535); // snap length
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(20), 1);     // LINKTYPE_ETHERNET
        _file.Write(header);
        _handler = Write;
        vnic.Tap += _handler;
        Path = path;
    }

    /// <summary>The pcap file being written.</summary>
    public string Path { get; }

    /// <summary>Frames written so far.</summary>
    public long Frames { get; private set; }

    private void Write(Vnic vnic, ReadOnlySpan<byte> frame)
    {
        lock (_record)
        {
            if (_disposed) return;
            var microseconds = (_time.GetUtcNow().UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;
            BinaryPrimitives.WriteUInt32LittleEndian(_record, (uint)(microseconds / 1_000_000));
            BinaryPrimitives.WriteUInt32LittleEndian(_record.AsSpan(4), (uint)(microseconds % 1_000_000));
            BinaryPrimitives.WriteUInt32LittleEndian(_record.AsSpan(8), (uint)frame.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(_record.AsSpan(12), (uint)frame.Length);
            _file.Write(_record);
            _file.Write(frame);
            Frames++;
        }
    }

    public void Dispose()
    {
        lock (_record)
        {
            if (_disposed) return;
            _disposed = true;
            _vnic.Tap -= _handler;
            _file.Dispose();
        }
    }
}
