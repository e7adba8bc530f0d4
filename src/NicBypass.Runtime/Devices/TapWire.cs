namespace NicBypass.Runtime.Devices;

/// <summary>
/// A NIC's wire on a Linux TAP device (README.md § Real peers): frames Linux sends into the device enter
/// the NIC's hardware classifier (read on a thread of the wire's own, the NIC's one feeder);
/// frames the host transmits are written to the device. The host reads it while its threads run
/// (<c>NetworkHost.StartThreads</c> starts the reader after the processors, <c>StopThreads</c> stops
/// it before draining, so a report after it sees a quiet datapath); use the system clock. Nothing
/// is allocated per frame; every frame Linux refused is counted. <see cref="Dispose"/> stops the
/// reader, unplugs the NIC and closes the device.
/// </summary>
public sealed class TapWire : IWire, IDisposable
{
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromMilliseconds(50);
    private readonly SimulatedNic _nic;
    private readonly Action<TapWire> _detached;
    private readonly Lock _reading = new();
    private Thread? _reader;
    private volatile bool _stopReading;
    private volatile bool _disposed;
    private long _framesIn;
    private long _framesOut;
    private long _writeFailures;

    internal TapWire(SimulatedNic nic, TapDevice device, Action<TapWire> detached)
    {
        _nic = nic;
        _detached = detached;
        Device = device;
        nic.Wire = this;
    }

    public TapDevice Device { get; }

    /// <summary>Frames read from Linux and given to the NIC.</summary>
    public long FramesIn => Interlocked.Read(ref _framesIn);

    /// <summary>Frames the host transmitted that Linux took.</summary>
    public long FramesOut => Interlocked.Read(ref _framesOut);

    /// <summary>Frames the host transmitted that Linux refused (its queue full, the link down, the device closed).</summary>
    public long WriteFailures => Interlocked.Read(ref _writeFailures);

    /// <summary>
    /// The share of frames the wire loses in each direction, at random (seeded by
    /// <see cref="LossSeed"/>, so a run repeats its choices): an impaired link between Linux and
    /// the NIC, counted in <see cref="Lost"/> — never silent.
    /// </summary>
    public double LossRate
    {
        get => _lossRate;
        set => _lossRate = Share(value);
    }

    /// <summary>Seed of the loss decisions.</summary>
    public int LossSeed
    {
        set
        {
            _inLoss = new Random(value);
            _outLoss = new Random(value + 1);
        }
    }

    /// <summary>
    /// The share of frames from Linux the wire holds back and hands the NIC after the next one
    /// (netem's reorder, one frame at a time; seeded by <see cref="LossSeed"/>): counted in
    /// <see cref="Reordered"/>. A held frame goes in at the next read timeout if nothing follows it.
    /// </summary>
    public double ReorderRate
    {
        get => _reorderRate;
        set => _reorderRate = Share(value);
    }

    // A share of frames: 0 (none) to 1 (all).
    private static double Share(double value)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(value, 0.0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 1.0);
        return value;
    }

    /// <summary>Frames from Linux delivered after the frame that followed them (<see cref="ReorderRate"/>).</summary>
    public long Reordered => Interlocked.Read(ref _reordered);

    /// <summary>
    /// The share of frames the host transmits that the wire holds back and writes to Linux after
    /// the next one (netem's reorder towards Linux, seeded by <see cref="LossSeed"/>): counted in
    /// <see cref="ReorderedOut"/>. A held frame goes out at the reader's next timeout (within
    /// 50 ms) if nothing follows it. The held frame waits in a buffer of the wire's own: nothing
    /// is allocated.
    /// </summary>
    public double OutboundReorderRate
    {
        get => _outboundReorderRate;
        set => _outboundReorderRate = Share(value);
    }

    /// <summary>Frames the host transmitted that Linux got after the frame that followed them (<see cref="OutboundReorderRate"/>).</summary>
    public long ReorderedOut => Interlocked.Read(ref _reorderedOut);

    /// <summary>Tests: a frame from Linux this says yes to is lost on purpose (counted in <see cref="Lost"/>) — one chosen segment, where <see cref="LossRate"/> picks at random.</summary>
    internal FramePredicate? DropFromLinux { get; set; }

    private double _reorderRate;
    private long _reordered;
    private double _outboundReorderRate;
    private long _reorderedOut;
    private readonly Lock _outHold = new();        // the held outbound frame; taken only while reordering is on
    private readonly byte[] _outHeld = new byte[TapDevice.MaxFrameLength];
    private int _outHeldLength;

    /// <summary>Frames lost on purpose (<see cref="LossRate"/>), both directions.</summary>
    public long Lost => Interlocked.Read(ref _lost);

    private double _lossRate;
    private Random _inLoss = new(1);
    private Random _outLoss = new(2);
    private long _lost;

    /// <summary>Why the reader stopped early (the device went away), or null while it runs or after a clean stop.</summary>
    public Exception? ReadError { get; private set; }

    /// <summary>True while frames from Linux are being read into the NIC.</summary>
    public bool Reading => _reader is not null;

    public void Transmit(ReadOnlySpan<byte> frame)
    {
        if (_lossRate > 0 && _outLoss.NextDouble() < _lossRate)
        {
            Interlocked.Increment(ref _lost);
            return;
        }
        if (_outboundReorderRate > 0 || Volatile.Read(ref _outHeldLength) > 0)
        {
            lock (_outHold)
            {
                if (_outHeldLength == 0 && _outboundReorderRate > 0 && frame.Length <= _outHeld.Length && _outLoss.NextDouble() < _outboundReorderRate)
                {
                    frame.CopyTo(_outHeld);
                    Volatile.Write(ref _outHeldLength, frame.Length);
                    return;
                }
                Write(frame);
                if (_outHeldLength > 0)
                {
                    Interlocked.Increment(ref _reorderedOut);
                    ReleaseOut();
                }
            }
            return;
        }
        Write(frame);
    }

    // The held outbound frame goes out now (the caller holds _outHold).
    private void ReleaseOut()
    {
        Write(_outHeld.AsSpan(0, _outHeldLength));
        Volatile.Write(ref _outHeldLength, 0);
    }

    private void Write(ReadOnlySpan<byte> frame)
    {
        bool written;
        try
        {
            written = !_disposed && Device.TryWrite(frame, out _);
        }
        catch (ObjectDisposedException)
        {
            written = false; // unplugged while this frame was on its way
        }
        Interlocked.Increment(ref written ? ref _framesOut : ref _writeFailures);
    }

    /// <summary>Starts feeding the NIC what Linux sends (the host calls it once its processors run).</summary>
    internal void StartReading()
    {
        lock (_reading)
        {
            if (_reader is not null || _disposed) return;
            _stopReading = false;
            _reader = new Thread(ReadLoop) { IsBackground = true, Name = $"{_nic.Name} tap {Device.Name}" };
            _reader.Start();
        }
    }

    /// <summary>Stops feeding the NIC and waits for the reader to finish its frame.</summary>
    internal void StopReading()
    {
        lock (_reading)
        {
            if (_reader is not { } reader) return;
            _stopReading = true;
            reader.Join();
            _reader = null;
        }
    }

    private void ReadLoop()
    {
        var buffer = new byte[TapDevice.MaxFrameLength];
        var held = new byte[TapDevice.MaxFrameLength]; // a frame held back to arrive after the next one
        var heldLength = 0;
        try
        {
            while (!_stopReading)
            {
                var length = Device.Read(buffer, ReadTimeout);
                if (_stopReading) break;
                if (length == 0)
                {
                    if (heldLength > 0) Release(held, ref heldLength); // nothing followed it
                    if (Volatile.Read(ref _outHeldLength) > 0)
                    {
                        lock (_outHold) if (_outHeldLength > 0) ReleaseOut(); // nor the one held towards Linux
                    }
                    continue;
                }
                if (_lossRate > 0 && _inLoss.NextDouble() < _lossRate || DropFromLinux is { } drop && drop(buffer.AsSpan(0, length)))
                {
                    Interlocked.Increment(ref _lost);
                    continue;
                }
                if (heldLength == 0 && _reorderRate > 0 && _inLoss.NextDouble() < _reorderRate)
                {
                    buffer.AsSpan(0, length).CopyTo(held);
                    heldLength = length;
                    continue;
                }
                _nic.Receive(buffer.AsSpan(0, length));
                Interlocked.Increment(ref _framesIn);
                if (heldLength > 0)
                {
                    Interlocked.Increment(ref _reordered);
                    Release(held, ref heldLength);
                }
            }
            if (heldLength > 0) Release(held, ref heldLength);
        }
        catch (Exception e) when (e is TapDeviceException or ObjectDisposedException)
        {
            if (!_stopReading) ReadError = e;
        }
    }

    private void Release(byte[] held, ref int length)
    {
        _nic.Receive(held.AsSpan(0, length));
        Interlocked.Increment(ref _framesIn);
        length = 0;
    }

    public void Dispose()
    {
        if (_disposed) return;
        StopReading();
        _disposed = true;
        if (ReferenceEquals(_nic.Wire, this)) _nic.Wire = null;
        _detached(this);
        Device.Dispose();
    }

    public override string ToString() => $"{_nic.Name} ↔ {Device.Name}";
}
