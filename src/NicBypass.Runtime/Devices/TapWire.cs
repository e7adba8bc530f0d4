namespace NicBypass.Runtime.Devices;

/// <summary>
/// A NIC's wire on a Linux TAP device (DESIGN.md §13): frames Linux sends into the device enter
/// the NIC's hardware classifier (read on a thread of the wire's own, the NIC's one feeder);
/// frames the host transmits are written to the device. Use it with the host's threaded mode
/// (<c>NetworkHost.StartThreads</c>) and the system clock. Nothing is allocated per frame; every
/// frame Linux refused is counted. <see cref="Dispose"/> stops the reader, unplugs the NIC and
/// closes the device.
/// </summary>
public sealed class TapWire : IWire, IDisposable
{
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromMilliseconds(50);
    private readonly SimulatedNic _nic;
    private readonly Thread _reader;
    private volatile bool _stopping;
    private long _framesIn;
    private long _framesOut;
    private long _writeFailures;

    internal TapWire(SimulatedNic nic, TapDevice device)
    {
        _nic = nic;
        Device = device;
        nic.Wire = this;
        _reader = new Thread(ReadLoop) { IsBackground = true, Name = $"{nic.Name} tap {device.Name}" };
        _reader.Start();
    }

    public TapDevice Device { get; }

    /// <summary>Frames read from Linux and given to the NIC.</summary>
    public long FramesIn => Interlocked.Read(ref _framesIn);

    /// <summary>Frames the host transmitted that Linux took.</summary>
    public long FramesOut => Interlocked.Read(ref _framesOut);

    /// <summary>Frames the host transmitted that Linux refused (its queue full, the link down).</summary>
    public long WriteFailures => Interlocked.Read(ref _writeFailures);

    /// <summary>Why the reader stopped early (the device went away), or null while it runs or after a clean stop.</summary>
    public Exception? ReadError { get; private set; }

    public void Transmit(ReadOnlySpan<byte> frame)
    {
        if (_stopping) return;
        if (Device.TryWrite(frame, out _)) Interlocked.Increment(ref _framesOut);
        else Interlocked.Increment(ref _writeFailures);
    }

    private void ReadLoop()
    {
        var buffer = new byte[TapDevice.MaxFrameLength];
        try
        {
            while (!_stopping)
            {
                var length = Device.Read(buffer, ReadTimeout);
                if (length == 0 || _stopping) continue;
                _nic.Receive(buffer.AsSpan(0, length));
                Interlocked.Increment(ref _framesIn);
            }
        }
        catch (Exception e) when (e is TapDeviceException or ObjectDisposedException)
        {
            if (!_stopping) ReadError = e;
        }
    }

    public void Dispose()
    {
        if (_stopping) return;
        _stopping = true;
        _reader.Join();
        if (ReferenceEquals(_nic.Wire, this)) _nic.Wire = null;
        Device.Dispose();
    }

    public override string ToString() => $"{_nic.Name} ↔ {Device.Name}";
}
