namespace NicBypass.Runtime.Virtualization;

/// <summary>
/// What one VNIC delivers, written as a pcap file (nanosecond timestamps on the host's clock,
/// Ethernet link type) — <c>tcpdump -i</c> for tests. Made by <see cref="NetworkHost.Capture"/>;
/// disposing it stops the capture and closes the file. Frames are written as they are delivered
/// (VLAN tag removed, as the VM or VNS sees them).
/// </summary>
public sealed class VnicCapture : IDisposable
{
    private readonly Vnic _vnic;
    private readonly TimeProvider _time;
    private readonly Packets.PcapWriter _writer;
    private readonly FrameHandler _handler;
    private bool _disposed;

    internal VnicCapture(Vnic vnic, TimeProvider time, string path)
    {
        _vnic = vnic;
        _time = time;
        _writer = new Packets.PcapWriter(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read));
        _handler = Write;
        vnic.Tap += _handler;
        Path = path;
    }

    /// <summary>The pcap file being written.</summary>
    public string Path { get; }

    /// <summary>Frames written so far.</summary>
    public long Frames => _writer.Frames;

    private void Write(Vnic vnic, ReadOnlySpan<byte> frame)
    {
        lock (_writer)
        {
            if (!_disposed) _writer.Write((_time.GetUtcNow().UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100, frame);
        }
    }

    public void Dispose()
    {
        lock (_writer)
        {
            if (_disposed) return;
            _disposed = true;
            _vnic.Tap -= _handler;
            _writer.Dispose();
        }
    }
}
