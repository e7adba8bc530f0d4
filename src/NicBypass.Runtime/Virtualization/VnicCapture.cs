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
    private readonly long _epochOffset; // on a VirtualClock: its start, in ns since 1970, so timestamps keep its nanoseconds
    private bool _disposed;

    internal VnicCapture(Vnic vnic, TimeProvider time, string path)
    {
        _vnic = vnic;
        _time = time;
        if (time is VirtualClock clock)
        {
            _epochOffset = (clock.GetUtcNow().UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100 - clock.Nanoseconds / 100 * 100;
        }
        _writer = new Packets.PcapWriter(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read));
        _handler = Write;
        vnic.Tap += _handler;
        Path = path;
    }

    /// <summary>The pcap file being written.</summary>
    public string Path { get; }

    /// <summary>Frames written so far.</summary>
    public long Frames => _writer.Frames;

    /// <summary>Why the capture stopped early (a failed write), or null.</summary>
    public Exception? Error { get; private set; }

    // On the datapath: a failing disk stops the capture, never the VNIC's delivery.
    private void Write(Vnic vnic, ReadOnlySpan<byte> frame)
    {
        lock (_writer)
        {
            if (_disposed || Error is not null) return;
            var nanoseconds = _time is VirtualClock clock ? _epochOffset + clock.Nanoseconds : (_time.GetUtcNow().UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100;
            try
            {
                _writer.Write(Math.Max(0, nanoseconds), frame);
            }
            catch (IOException ex)
            {
                Error = ex;
            }
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
