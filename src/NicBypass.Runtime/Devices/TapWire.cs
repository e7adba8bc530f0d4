using System.Diagnostics;

namespace NicBypass.Runtime.Devices;

/// <summary>
/// A NIC's wire on a Linux TAP device (README.md § Real peers): frames Linux sends into the device enter
/// the NIC's hardware classifier (read on a thread of the wire's own, the NIC's one feeder);
/// frames the host transmits are written to the device. At the end of each burst of reads (the
/// device empty, or 64 frames) the reader runs the steps of the processors the burst interrupted
/// that are free, as an interrupt handler would, and wakes the threads of the rest
/// (<c>Processor.TryRunInline</c>): a request and its reply cost no thread hand-off. The host reads it while its threads run
/// (<c>NetworkHost.StartThreads</c> starts the reader after the processors, <c>StopThreads</c> stops
/// it before draining, so a report after it sees a quiet datapath); use the system clock. Nothing
/// is allocated per frame; every frame Linux refused is counted. <see cref="Dispose"/> stops the
/// reader, unplugs the NIC and closes the device.
/// </summary>
public sealed class TapWire : IWire, IDisposable
{
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromMilliseconds(50);
    private readonly SimulatedNic _nic;
    private readonly IReceiveBurst? _bursts; // the host: a burst's frames are serviced on the reader's thread at its end
    private readonly Action<TapWire> _detached;
    private readonly Lock _reading = new();
    private Thread? _reader;
    private volatile bool _stopReading;
    private volatile bool _disposed;
    private long _framesIn;
    private long _framesOut;
    private long _writeFailures;

    internal TapWire(SimulatedNic nic, TapDevice device, IReceiveBurst? bursts, Action<TapWire> detached)
    {
        _nic = nic;
        _bursts = bursts;
        _detached = detached;
        Device = device;
        if (device.Offloads) _coalescer = new SegmentCoalescer();
        nic.Wire = this;
    }

    // With offloads: consecutive TCP segments of a transmit burst joined into one super-frame.
    private readonly SegmentCoalescer? _coalescer;
    private readonly Lock _coalescing = new();
    private long _superFramesOut;
    private volatile bool _closing; // Dispose began: nothing joins any more (no flush would follow)

    /// <summary>Super-frames written to Linux, each a run of TCP segments joined (<see cref="TapDevice.Offloads"/>; never while an outbound impairment is on).</summary>
    public long SuperFramesOut => Interlocked.Read(ref _superFramesOut);

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
            _inJitter = new Random(value + 2);
            lock (_outDelay) _outJitter = new Random(value + 3);
        }
    }

    /// <summary>
    /// How long the wire holds each frame, in each direction (netem's <c>delay</c>), plus or minus
    /// up to <see cref="Jitter"/> at random (seeded by <see cref="LossSeed"/>). Frames keep their
    /// order, as on a cable: one never leaves before the frame ahead of it. They wait in a bounded
    /// arena per direction (<see cref="DelayBufferBytes"/>; nothing allocated per frame); one that
    /// does not fit is lost and counted in <see cref="Lost"/> and <see cref="DelayOverflows"/>.
    /// Frames still waiting when the wire stops are delivered then. At most 10 s.
    /// </summary>
    public TimeSpan Delay
    {
        get => _delay;
        set => _delay = Duration(value);
    }

    /// <summary>The most a frame's delay differs from <see cref="Delay"/>, either way, at random (netem's jitter).</summary>
    public TimeSpan Jitter
    {
        get => _jitter;
        set => _jitter = Duration(value);
    }

    /// <summary>The bytes each direction's delay line holds (16 MiB by default: 10 Gbit/s for 13 ms); read when the line is first used.</summary>
    public int DelayBufferBytes
    {
        get => _delayBufferBytes;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 2 * TapDevice.MaxFrameLength); // the largest frame fits, twice
            _delayBufferBytes = value;
        }
    }

    /// <summary>Frames that waited on the wire's delay line (<see cref="Delay"/>), both directions.</summary>
    public long Delayed => Interlocked.Read(ref _delayed);

    /// <summary>Frames lost because a delay line was full (also in <see cref="Lost"/>).</summary>
    public long DelayOverflows => Interlocked.Read(ref _delayOverflows);

    private static TimeSpan Duration(TimeSpan value)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(value, TimeSpan.FromSeconds(10));
        return value;
    }

    private bool Delaying => _delay > TimeSpan.Zero || _jitter > TimeSpan.Zero;

    // When a frame put on a delay line now is due, in Stopwatch ticks.
    private long Due(Random jitter)
    {
        var ticks = _delay.Ticks;
        if (_jitter > TimeSpan.Zero) ticks += (long)((jitter.NextDouble() * 2 - 1) * _jitter.Ticks);
        return Stopwatch.GetTimestamp() + Math.Max(0, ticks) * Stopwatch.Frequency / TimeSpan.TicksPerSecond;
    }

    // Milliseconds until a Stopwatch timestamp (at least 1: poll and Monitor.Wait count in milliseconds).
    private static int MillisecondsUntil(long due) =>
        (int)Math.Clamp((due - Stopwatch.GetTimestamp()) * 1000 / Stopwatch.Frequency + 1, 1, int.MaxValue);

    private TimeSpan _delay;
    private TimeSpan _jitter;
    private int _delayBufferBytes = 16 * 1024 * 1024;
    private long _delayed;
    private long _delayOverflows;
    private Random _inJitter = new(3);
    private Random _outJitter = new(4);
    private DelayLine? _inLine;                     // the reader's own
    private readonly object _outDelay = new();      // guards the outbound line; its writer waits on it
    private DelayLine? _outLine;
    private int _outWaiting;
    private Thread? _delayWriter;
    private bool _stopDelayWriter;
    private bool _delayWriterDone;

    /// <summary>
    /// The share of frames from Linux the wire reorders (seeded by <see cref="LossSeed"/>). With a
    /// <see cref="Delay"/>, as netem's reorder: such a frame goes to the NIC at once, ahead of the
    /// frames still on the delay line (counted in <see cref="Reordered"/> when it overtakes any).
    /// Without one, the wire holds it back and hands the NIC it after the next frame, one frame
    /// at a time (counted when that happens); a held frame goes in at the next read timeout if
    /// nothing follows it.
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
    /// The share of frames the host transmits that the wire reorders towards Linux (seeded by
    /// <see cref="LossSeed"/>): with a <see cref="Delay"/>, written at once, ahead of those on the
    /// delay line (netem's; counted in <see cref="ReorderedOut"/> when it overtakes any); without
    /// one, held back and written after the next one (counted), or at the reader's next timeout
    /// (within 50 ms) if nothing follows it. The held frame waits in a buffer of the wire's own:
    /// nothing is allocated.
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

    /// <summary>Tests: a frame the host transmits this says yes to never reaches Linux (counted in <see cref="Lost"/>).</summary>
    internal FramePredicate? DropToLinux { get; set; }

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
        if (DropToLinux is { } drop && drop(frame))
        {
            Interlocked.Increment(ref _lost);
            return;
        }
        if (_coalescer is not null)
        {
            if (!_closing && _lossRate == 0 && _outboundReorderRate == 0 && !Delaying && Volatile.Read(ref _outWaiting) == 0 && Volatile.Read(ref _outHeldLength) == 0)
            {
                lock (_coalescing)
                {
                    if (_coalescer.TryAdd(frame)) return;
                    WriteJoined();
                    if (!_coalescer.TryAdd(frame)) WriteNow(frame); // not a TCP segment that can join: as it is, in order
                }
                return;
            }
            Flush(); // an impairment is on: frames go one by one, after what was joined before
        }
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
                    if (Delaying)
                    {
                        // netem's reorder with a delay: this one goes now, ahead of the delayed
                        // ones (held for the next frame, it waited for the reader's timeout when
                        // none came: 50–170 ms on a ping, uncounted; found by review).
                        if (Volatile.Read(ref _outWaiting) > 0) Interlocked.Increment(ref _reorderedOut);
                        WriteNow(frame);
                        return;
                    }
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

    // A frame towards Linux: written now, or put on the outbound delay line for its writer.
    private void Write(ReadOnlySpan<byte> frame)
    {
        if (!Delaying && Volatile.Read(ref _outWaiting) == 0)
        {
            WriteNow(frame);
            return;
        }
        lock (_outDelay)
        {
            if (_delayWriterDone)
            {
                WriteNow(frame); // the wire is unplugged and its line flushed: no one would write it later
                return;
            }
            _outLine ??= new DelayLine(_delayBufferBytes);
            if (!Hold(_outLine, frame, _outJitter)) return;
            Volatile.Write(ref _outWaiting, _outLine.Count);
            if (_delayWriter is null)
            {
                _delayWriter = new Thread(DelayWriteLoop) { IsBackground = true, Name = $"{_nic.Name} tap {Device.Name} delay" };
                _delayWriter.Start();
            }
            // Only a frame on an empty line is due before what the writer waits for (the line keeps order).
            if (_outLine.Count == 1) Monitor.Pulse(_outDelay);
        }
    }

    // Writes the outbound delay line's frames as they fall due; at the stop, whatever still waits.
    // The device write happens outside the lock (senders are not held up by it): the frame's
    // bytes stay reserved on the line until it is removed, and only this thread removes.
    private void DelayWriteLoop()
    {
        var line = _outLine!;
        while (true)
        {
            ReadOnlySpan<byte> frame;
            lock (_outDelay)
            {
                while (!line.TryPeekDue(_stopDelayWriter ? long.MaxValue : Stopwatch.GetTimestamp(), out frame))
                {
                    Volatile.Write(ref _outWaiting, line.Count);
                    if (_stopDelayWriter)
                    {
                        _delayWriterDone = true;
                        return;
                    }
                    Monitor.Wait(_outDelay, line.Count == 0 ? System.Threading.Timeout.Infinite : MillisecondsUntil(line.NextDue));
                }
            }
            WriteNow(frame);
            lock (_outDelay) line.Remove();
        }
    }

    /// <summary>The NIC's burst is over: a run of joined segments goes to Linux now.</summary>
    public void Flush()
    {
        if (_coalescer is null) return;
        lock (_coalescing) WriteJoined();
    }

    // The joined run, as one super-frame (or a plain frame if it is one segment); counted per segment.
    private void WriteJoined()
    {
        var packet = _coalescer!.Take(out var segments);
        if (segments == 0) return;
        var written = TryWrite(packet, joined: true);
        Interlocked.Add(ref written ? ref _framesOut : ref _writeFailures, segments);
        if (written && segments > 1) Interlocked.Increment(ref _superFramesOut);
    }

    private void WriteNow(ReadOnlySpan<byte> frame) =>
        Interlocked.Increment(ref TryWrite(frame, joined: false) ? ref _framesOut : ref _writeFailures);

    // To Linux: a frame, or a joined run behind its own virtio header; false when Linux refused it
    // or the device is gone (unplugged while the bytes were on their way).
    private bool TryWrite(ReadOnlySpan<byte> bytes, bool joined)
    {
        try
        {
            return !_disposed && (joined ? Device.TryWritePacket(bytes, out _) : Device.TryWrite(bytes, out _));
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
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
            // Code the reader runs (a handler in a step it services at a burst's end) cannot wait for it to end.
            if (reader == Thread.CurrentThread) throw new InvalidOperationException($"TAP device '{Device.Name}' cannot be stopped from its own reader's thread (a handler in a step the reader runs); stop it from another thread");
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
        var burst = 0; // frames given to the NIC since the burst began (0: none begun)
        try
        {
            while (!_stopReading)
            {
                // Within a burst, only what is already waiting: an empty device ends the burst,
                // and the processors it interrupted run before the reader waits for Linux.
                var length = Device.Read(buffer, burst > 0 ? TimeSpan.Zero : ReadWait());
                if (length == 0 && burst > 0)
                {
                    EndBurst(ref burst);
                    continue;
                }
                if (_stopReading && length == 0) break; // a frame read as the stop came still goes in
                if (length > 0 && burst++ == 0) _bursts?.Begin();
                ArriveDue(Stopwatch.GetTimestamp());
                if (length == 0)
                {
                    // A wire whose NIC drain never reaches Flush (wrapped by code that does not
                    // pass it on) still sends a joined run within a read timeout.
                    if (_coalescer is { Count: > 0 }) Flush();
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
                    if (Delaying)
                    {
                        // netem's reorder with a delay: to the NIC now, ahead of the delayed frames.
                        if (_inLine is { Count: > 0 }) Interlocked.Increment(ref _reordered);
                        Feed(buffer.AsSpan(0, length));
                        if (burst >= MaxBurst) EndBurst(ref burst);
                        continue;
                    }
                    buffer.AsSpan(0, length).CopyTo(held);
                    heldLength = length;
                    continue;
                }
                Arrive(buffer.AsSpan(0, length));
                if (heldLength > 0)
                {
                    Interlocked.Increment(ref _reordered);
                    Release(held, ref heldLength);
                }
                if (burst >= MaxBurst) EndBurst(ref burst);
            }
            if (heldLength > 0) Release(held, ref heldLength);
            ArriveDue(long.MaxValue); // on the wire when it stops: delivered
            EndBurst(ref burst);
        }
        // The device's failures only: what a step the reader ran threw is not the device's (the
        // host keeps it for StopThreads at the burst's end, and the reader reads on).
        catch (Exception e) when (!_servicing && e is (TapDeviceException or ObjectDisposedException))
        {
            EndBurst(ref burst); // what the burst gave the NIC is serviced
            if (!_stopReading) ReadError = e;
            // The device went away: what the wire still held from Linux is lost, and counted.
            Interlocked.Add(ref _lost, (heldLength > 0 ? 1 : 0) + (_inLine?.Clear() ?? 0));
        }
    }

    // Frames one burst gives the NIC at most before its processors run (two of their batches).
    private const int MaxBurst = 64;

    private void EndBurst(ref int burst)
    {
        if (burst == 0) return;
        burst = 0;
        _servicing = true; // left set if a step throws: the read loop's device handler lets it pass
        _bursts?.End();
        _servicing = false;
    }

    private bool _servicing; // the reader is running the burst's processors (their code, not the device's)

    private void Release(byte[] held, ref int length)
    {
        Arrive(held.AsSpan(0, length));
        length = 0;
    }

    // A frame from Linux reaches the NIC now, or waits on the inbound delay line (the reader's own).
    private void Arrive(ReadOnlySpan<byte> frame)
    {
        if (!Delaying && (_inLine is null || _inLine.Count == 0))
        {
            Feed(frame);
            return;
        }
        Hold(_inLine ??= new DelayLine(_delayBufferBytes), frame, _inJitter);
    }

    // A frame from Linux into the NIC's hardware classifier.
    private void Feed(ReadOnlySpan<byte> frame)
    {
        _nic.Receive(frame);
        Interlocked.Increment(ref _framesIn);
    }

    // A frame onto a delay line, due after the delay and its share of jitter; counted either way.
    private bool Hold(DelayLine line, ReadOnlySpan<byte> frame, Random jitter)
    {
        if (!line.TryAdd(frame, Due(jitter)))
        {
            Interlocked.Increment(ref _lost);
            Interlocked.Increment(ref _delayOverflows);
            return false;
        }
        Interlocked.Increment(ref _delayed);
        return true;
    }

    // The inbound delay line's frames due by `now` reach the NIC.
    private void ArriveDue(long now)
    {
        if (_inLine is not { Count: > 0 } line) return;
        while (line.TryPeekDue(now, out var frame))
        {
            Feed(frame);
            line.Remove();
        }
    }

    // How long the reader may wait for Linux: less when a delayed frame falls due sooner.
    private TimeSpan ReadWait() =>
        _inLine is { Count: > 0 } line ? TimeSpan.FromMilliseconds(Math.Min(MillisecondsUntil(line.NextDue), ReadTimeout.TotalMilliseconds)) : ReadTimeout;

    /// <summary>
    /// The host stopped: what still waits on the outbound delay line goes to Linux now, so a report
    /// taken after <c>StopThreads</c> sees a quiet wire. A frame delayed later starts a new writer.
    /// </summary>
    internal void FlushDelayed()
    {
        // A frame held back to be reordered goes first: nothing else would release it now.
        if (Volatile.Read(ref _outHeldLength) > 0)
        {
            lock (_outHold) if (_outHeldLength > 0) ReleaseOut();
        }
        Thread? writer;
        lock (_outDelay)
        {
            if (_delayWriter is null) return;
            _stopDelayWriter = true;
            writer = _delayWriter;
            Monitor.Pulse(_outDelay);
        }
        writer.Join();
        lock (_outDelay)
        {
            if (_closing) return; // disposing: frames from now on are written at once (or counted as refused)
            _delayWriter = null;
            _stopDelayWriter = false;
            _delayWriterDone = false;
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        StopReading();
        _closing = true;
        Flush();
        FlushDelayed(); // what waits towards Linux goes out first
        lock (_outDelay)
        {
            _stopDelayWriter = true;
            _delayWriterDone = true;
        }
        _disposed = true;
        if (ReferenceEquals(_nic.Wire, this)) _nic.Wire = null;
        _detached(this);
        Device.Dispose();
    }

    public override string ToString() => $"{_nic.Name} ↔ {Device.Name}";
}
