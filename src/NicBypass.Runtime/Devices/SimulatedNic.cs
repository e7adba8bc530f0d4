using NicBypass.Runtime.Accounting;
using NicBypass.Runtime.Classification;
using NicBypass.Runtime.Packets;
using NicBypass.Runtime.Rings;

namespace NicBypass.Runtime.Devices;

/// <summary>
/// The simulated NIC hardware: hardware receive rings (HRRs), transmit rings (TRRs), a hardware
/// classifier and a buffer pool its "DMA" writes frames into. Frames are offered to its link
/// through <see cref="Offer"/>, which carries them at the link's rate (each frame occupies its
/// length + 4 bytes of FCS + 20 of preamble and inter-frame gap) and drops what does not fit;
/// <see cref="Receive"/> takes a frame that has already come off the wire. Transmitted frames
/// leave through <see cref="Wire"/>.
///
/// The host never touches this object's rings or classifier directly: it learns about them from
/// the device's driver (<see cref="INicDriver"/>), which reads them off the hardware — registers
/// for the basic part, a capability table for the flow parts — and advertises them in the
/// standardized <see cref="HardwareInfo"/>.
/// </summary>
public sealed class SimulatedNic : IInterruptModerator
{
    /// <summary>Bytes a frame occupies on the wire beyond its own: FCS (4), preamble and start delimiter (8), inter-frame gap (12).</summary>
    public const int WireOverhead = 24;

    private readonly ReceiveRing[] _receiveRings;
    private PacketBufferPool? _pool;
    private Int128 _linkFreeAtPicoseconds; // when the link finishes carrying what it has taken (128 bits: a long of picoseconds ends after 106 days of virtual time, and a capture's gaps can be longer)
    private long _linkBufferPicoseconds;
    private readonly Queue<(int Slot, int Length, long LastBitAt)> _onWire = new(); // offered frames, in order, until their last bit lands
    private readonly Lock _onWireLock = new(); // the feeding thread offers while the host lands (threaded mode, when the pool is concurrent too)

    public SimulatedNic(string name, SimNicModel model, SimNicSettings settings)
    {
        Check(settings.RxRings, 1, model.MaxRxRings, "rx rings", model);
        Check(settings.TxRings, 1, model.MaxTxRings, "tx rings", model);
        Check(settings.Mtu, 576, model.MaxMtu, "MTU", model);
        var msi = settings.MsiVectors ?? model.MsiVectors;
        Check(msi, 1, model.MsiVectors, "MSI vectors", model);
        if (settings.RingSize < 16 || settings.RingSize > 65536 || (settings.RingSize & (settings.RingSize - 1)) != 0)
        {
            throw new ArgumentException($"{name}: ring size {settings.RingSize} is not a power of two in 16..65536");
        }

        Name = name;
        Model = model;
        Settings = settings;
        LinkSpeedBitsPerSecond = Math.Min(settings.LinkSpeedBitsPerSecond ?? model.LinkSpeedBitsPerSecond, model.LinkSpeedBitsPerSecond);
        ReceiveRings = Enumerable.Range(0, settings.RxRings).Select(i => new HardwareReceiveRing(i, settings.RingSize, i % msi)).ToArray();
        _receiveRings = ReceiveRings.Cast<ReceiveRing>().ToArray();
        TransmitRings = Enumerable.Range(0, settings.TxRings).Select(i => new TransmitRing(i, settings.RingSize)).ToArray();
        Classifier = new PacketClassifier($"{name} hardware classifier", model.ClassifierFields, model.ClassifierEntries);
        MaxFrameLength = settings.Mtu + 18;
        LinkBufferBytes = DefaultLinkBufferBytes;
        SlotSize = (MaxFrameLength + 63) & ~63;
        if (settings.InterruptModerationMicroseconds > 0) InterruptModeration = TimeSpan.FromMicroseconds(settings.InterruptModerationMicroseconds);
        if (settings.InterruptModerationMicroseconds == SimNicSettings.AdaptiveModeration) AdaptiveInterruptModeration = true;
    }

    public string Name { get; }

    public SimNicModel Model { get; }

    public SimNicSettings Settings { get; }

    public long LinkSpeedBitsPerSecond { get; }

    /// <summary>Longest frame accepted: MTU + 18 bytes (header, one VLAN tag); longer is <c>oversize</c>.</summary>
    public int MaxFrameLength { get; }

    /// <summary>Size of a buffer slot: the longest frame rounded up to a cache line.</summary>
    public int SlotSize { get; }

    /// <summary>Frames from the wire (<c>Received</c>) and the NIC-level drops: no-match, malformed, oversize, no-buffer.</summary>
    public TrafficCounters Counters { get; } = new();

    /// <summary>The receive side of the link: offered, carried, dropped.</summary>
    public LinkCounters Link { get; } = new();

    /// <summary>The default of <see cref="LinkBufferBytes"/>: a switch port's share of buffer.</summary>
    public const int DefaultLinkBufferBytes = 64 * 1024;

    /// <summary>
    /// How many bytes the far end of the link (a switch port) may hold while the link is busy:
    /// a frame offered when more than this is still waiting to be carried is dropped
    /// (<see cref="LinkCounters.Dropped"/>). Over a run, at most this much beyond the link rate
    /// is carried.
    /// </summary>
    public int LinkBufferBytes
    {
        get => (int)((Int128)_linkBufferPicoseconds * LinkSpeedBitsPerSecond / 8_000_000_000_000L) + WireOverhead;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 1 << 30);
            _linkBufferPicoseconds = WirePicoseconds(value - WireOverhead);
        }
    }

    /// <summary>The host's clock, which the link's rate is kept on (set when the NIC is registered).</summary>
    internal TimeProvider? Clock { get; set; }

    /// <summary>
    /// Interrupt moderation (<c>ethtool -C rx-usecs</c>): a hardware receive ring whose interrupt
    /// is not pending waits this long after a frame arrives before it interrupts, so frames that
    /// follow share the interrupt. Zero (the default): the first frame interrupts at once. On
    /// virtual time only (the threaded mode's NIC has no timer that fine).
    /// </summary>
    public TimeSpan InterruptModeration
    {
        get => TimeSpan.FromTicks(_moderationNanoseconds / 100);
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, TimeSpan.FromSeconds(1));
            _moderationNanoseconds = value.Ticks * 100;
            foreach (var ring in ReceiveRings) ring.Moderator = _moderationNanoseconds > 0 || _adaptive ? this : null;
        }
    }

    private long _moderationNanoseconds;
    // Armed rings by deadline (then by arming order): the delay may drop between two armings
    // (adaptive moderation, or the setting changed), so a later ring can be due first.
    private readonly PriorityQueue<ReceiveRing, (long At, long Order)> _moderated = new();
    private long _armed;

    /// <summary>
    /// Adaptive interrupt moderation (in the manner of Linux's DIM and e1000's ITR): the NIC
    /// measures the frames it receives over each millisecond and picks the delay for the next —
    /// none below 20 frames a millisecond (latency first), 8 µs up to 200, 50 µs beyond (a
    /// bulk load, where sharing interrupts is what keeps the processor out of livelock). It
    /// replaces a fixed <see cref="InterruptModeration"/>. On virtual time only.
    /// </summary>
    public bool AdaptiveInterruptModeration
    {
        get => _adaptive;
        set
        {
            _adaptive = value;
            foreach (var ring in ReceiveRings) ring.Moderator = value || _moderationNanoseconds > 0 ? this : null;
        }
    }

    /// <summary>The delay adaptive moderation chose for this millisecond (ns).</summary>
    internal long AdaptiveDelayNanoseconds => _adaptiveDelay;

    /// <summary>Frames per millisecond below which adaptive moderation interrupts at once, and below which it waits only 8 µs.</summary>
    public const int AdaptiveLowLatencyFramesPerMillisecond = 20, AdaptiveBulkFramesPerMillisecond = 200;

    private bool _adaptive;
    private long _adaptiveDelay, _windowStart = long.MinValue, _windowReceived;

    // Adaptive: at most once a millisecond, the frames received since the last look pick the delay.
    private long ModerationDelay(long now)
    {
        if (!_adaptive) return _moderationNanoseconds;
        if (_windowStart == long.MinValue || now - _windowStart >= 1_000_000)
        {
            var elapsed = _windowStart == long.MinValue ? 0 : now - _windowStart;
            var perMillisecond = elapsed <= 0 ? 0 : (Counters.Received - _windowReceived) * 1_000_000 / elapsed;
            _adaptiveDelay = perMillisecond < AdaptiveLowLatencyFramesPerMillisecond ? 0
                : perMillisecond < AdaptiveBulkFramesPerMillisecond ? 8_000 : 50_000;
            _windowStart = now;
            _windowReceived = Counters.Received;
        }
        return _adaptiveDelay;
    }

    /// <summary>
    /// Set while the host's threads run: interrupts are raised at once, as on the system clock.
    /// Moderation's deadlines are the deterministic pump's to keep (nothing in the threaded mode
    /// moves virtual time or raises them: a moderated frame waited until the threads stopped).
    /// </summary>
    internal bool Threaded
    {
        get => _threaded;
        set
        {
            _threaded = value;
            if (!value) return;
            // Frames already waiting for a deadline interrupt now (before the threads start).
            while (_moderated.TryDequeue(out var ring, out _)) ring.RaiseModerated();
        }
    }

    private bool _threaded;

    // A frame came to a ring whose interrupt is not pending: the interrupt waits for its deadline.
    bool IInterruptModerator.Defer(ReceiveRing ring)
    {
        if (Clock is not VirtualClock clock || _threaded) return false;
        if (ring.ModerationArmed) return true;
        var delay = ModerationDelay(clock.Nanoseconds);
        if (delay == 0) return false;
        ring.ModerationArmed = true;
        _moderated.Enqueue(ring, (clock.Nanoseconds + delay, _armed++));
        return true;
    }

    bool IInterruptModerator.Throttles(ReceiveRing ring) => Clock is VirtualClock clock && !_threaded && ModerationDelay(clock.Nanoseconds) > 0;

    /// <summary>When the next moderated interrupt is due (ns); <see cref="long.MaxValue"/> for none.</summary>
    internal long NextModeratedInterrupt => _moderated.TryPeek(out _, out var due) ? due.At : long.MaxValue;

    /// <summary>Raises the moderated interrupts whose time has come; true if any did.</summary>
    internal bool RaiseModerated()
    {
        if (_moderated.Count == 0) return false;
        var now = Now();
        var raised = false;
        while (_moderated.TryPeek(out var ring, out var due) && due.At <= now)
        {
            _moderated.Dequeue();
            raised |= ring.RaiseModerated();
        }
        return raised;
    }

    /// <summary>Frames put on the wire.</summary>
    public long Transmitted { get; private set; }

    /// <summary>Where transmitted frames go.</summary>
    public IWire? Wire
    {
        get => _wire;
        set
        {
            _wire = value;
            WirePlugged?.Invoke(value);
        }
    }

    private IWire? _wire;

    /// <summary>Set by the host that registered the NIC: told of every wire plugged in (a cable's delayed frames are then its to deliver).</summary>
    internal Action<IWire?>? WirePlugged { get; set; }

    public bool Enabled => _pool is not null;

    /// <summary>The buffer pool (exists once the NIC is enabled).</summary>
    internal PacketBufferPool Pool => _pool ?? NotEnabled();

    private PacketBufferPool NotEnabled() => throw new InvalidOperationException($"{Name} is not enabled");

    internal HardwareReceiveRing[] ReceiveRings { get; }

    internal TransmitRing[] TransmitRings { get; }

    internal PacketClassifier Classifier { get; }

    /// <summary>Allocates the buffer pool and starts taking frames from the wire.</summary>
    internal void Enable(int bufferSlots, int loanSlots = 0)
    {
        if (_pool is not null) throw new InvalidOperationException($"{Name} is already enabled");
        _pool = new PacketBufferPool(bufferSlots, SlotSize, loanSlots);
        if (MeasureLatency) _pool.ArrivedAt = new long[_pool.SlotCount]; // a stamp for every slot of the slab, the loans' too
    }

    /// <summary>
    /// A frame arrives from the wire: checked at layer 2, written into a buffer slot, classified
    /// by the hardware classifier and put on its HRR(s). Never throws on bad frames: they are
    /// counted (<c>malformed</c>, <c>oversize</c>, <c>no-match</c>).
    /// </summary>
    public void Receive(ReadOnlySpan<byte> frame)
    {
        Link.Offered++;
        Arrive(frame);
    }

    /// <summary>
    /// Offers a frame to the link now (on the host's clock): carried to the NIC
    /// (<see cref="Receive"/>'s path) when the link, with the far end's buffer
    /// (<see cref="LinkBufferBytes"/>), can take it at its rate; otherwise dropped and counted on
    /// <see cref="Link"/>. True when carried.
    /// </summary>
    public bool Offer(ReadOnlySpan<byte> frame)
    {
        Link.Offered++;
        if (Clock is not { } clock)
        {
            Arrive(frame);
            return true;
        }
        var now = (Int128)VirtualClock.ToNanoseconds(clock, clock.GetTimestamp()) * 1000;
        var start = Int128.Max(now, _linkFreeAtPicoseconds);
        if (start - now > _linkBufferPicoseconds)
        {
            Link.Dropped++;
            return false;
        }
        _linkFreeAtPicoseconds = start + WirePicoseconds(frame.Length);
        // On the wire until its last bit lands (Land, run by the host as time passes); the
        // NIC's DMA writes it into a buffer slot as it comes in.
        if (frame.Length > MaxFrameLength || frame.Length < EthernetHeader.Length || !Pool.TryRent(out var slot))
        {
            Arrive(frame); // counted (oversize, malformed, no-buffer) as it lands
            return true;
        }
        frame.CopyTo(Pool.Slot(slot));
        var onWire = (slot, frame.Length, (long)(_linkFreeAtPicoseconds / 1000));
        if (!WireShared) _onWire.Enqueue(onWire);
        else lock (_onWireLock) _onWire.Enqueue(onWire);
        return true;
    }

    /// <summary>Frames on the wire whose last bit has not landed yet.</summary>
    public int OnWire => _onWire.Count;

    /// <summary>When the next frame on the wire lands (ns on the host's clock); <see cref="long.MaxValue"/> when none is on it.</summary>
    internal long NextLanding
    {
        get
        {
            if (!WireShared) return _onWire.TryPeek(out var head) ? head.LastBitAt : long.MaxValue;
            lock (_onWireLock) return _onWire.TryPeek(out var next) ? next.LastBitAt : long.MaxValue;
        }
    }

    /// <summary>Frames whose last bit has landed by now go to the hardware classifier and their rings; true if any did.</summary>
    internal bool Land()
    {
        if (_onWire.Count == 0) return false;
        var now = Now();
        var landed = false;
        // The queue is locked where it is shared, classification is not.
        while (WireShared ? TakeLandedLocked(now, out var next) : TakeLanded(now, out next))
        {
            Classify(next.Slot, next.Length, next.LastBitAt);
            landed = true;
        }
        return landed;
    }

    // Only the threaded mode has a feeding thread beside the host (its pool is concurrent then too):
    // the deterministic mode offers and lands on one thread, without the wire queue's lock.
    private bool WireShared => _pool is { Concurrent: true };

    // The oldest frame on the wire, if its last bit has landed by `now`.
    private bool TakeLanded(long now, out (int Slot, int Length, long LastBitAt) next)
    {
        if (!_onWire.TryPeek(out next) || next.LastBitAt > now) return false;
        _onWire.Dequeue();
        return true;
    }

    private bool TakeLandedLocked(long now, out (int Slot, int Length, long LastBitAt) next)
    {
        lock (_onWireLock) return TakeLanded(now, out next);
    }

    private long Now() => Clock is { } clock ? VirtualClock.ToNanoseconds(clock, clock.GetTimestamp()) : 0;

    /// <summary>Measure latency (stamp each frame's arrival); set by the host with the cost model.</summary>
    internal bool MeasureLatency
    {
        get => _measureLatency;
        set
        {
            _measureLatency = value;
            if (_pool is { } pool) pool.ArrivedAt = value ? pool.ArrivedAt ?? new long[pool.SlotCount] : null;
        }
    }

    private bool _measureLatency;

    /// <summary>How long <paramref name="frameLength"/> bytes occupy the link, overhead included, in picoseconds.</summary>
    public long WirePicoseconds(int frameLength) => (long)((Int128)(frameLength + WireOverhead) * 8_000_000_000_000L / LinkSpeedBitsPerSecond);

    /// <summary>
    /// Slots a host's NIC pool keeps beyond the datapath's for frames its cable keeps in the
    /// buffers they left from while they travel (a cable's queue's worth; past them, frames are
    /// copied onto the line). Untouched memory until a cable uses them.
    /// </summary>
    internal const int LoanSlots = 1024;

    /// <summary>
    /// A frame off a cable that stayed in its buffer slot of <paramref name="sender"/>'s pool while
    /// it travelled (on loan, <see cref="PacketBufferPool.TryLoan"/>). Back at the NIC it left (a
    /// hairpin) it is classified in that slot, with no copy — or dropped, no-buffer, where a slot
    /// rented for a copy would have been refused; at another NIC it is copied in as any frame off
    /// the wire is. Either way the loan ends.
    /// </summary>
    internal void ReceiveLent(SimulatedNic sender, int slot, int length)
    {
        if (!ReferenceEquals(sender, this))
        {
            try
            {
                Receive(sender.Pool.Slot(slot).Slice(0, length));
            }
            finally
            {
                sender.Pool.ReturnLoan(slot);
            }
            return;
        }
        Link.Offered++;
        var pool = Pool;
        if (!pool.TryEndLoan(slot))
        {
            Counters.Received++;
            Counters.Drop(DropReason.NoBuffer);
            return;
        }
        Classify(slot, length, pool.ArrivedAt is null ? 0 : Now());
    }

    // A frame that came off the wire: into a buffer slot, classified, onto its HRR(s).
    private void Arrive(ReadOnlySpan<byte> frame)
    {
        var pool = Pool;
        if (frame.Length > MaxFrameLength)
        {
            Counters.Received++;
            Counters.Drop(DropReason.Oversize);
            return;
        }
        if (frame.Length < EthernetHeader.Length)
        {
            Counters.Received++;
            Counters.Drop(DropReason.Malformed);
            return;
        }
        if (!pool.TryRent(out var slot))
        {
            Counters.Received++;
            Counters.Drop(DropReason.NoBuffer);
            return;
        }
        frame.CopyTo(pool.Slot(slot));
        // The clock is read only while latency is measured: the hot path takes no timestamp.
        Classify(slot, frame.Length, pool.ArrivedAt is null ? 0 : Now());
    }

    // A frame in a buffer slot, off the wire: read at layer 2, classified, onto its HRR(s).
    private void Classify(int slot, int length, long arrivedAt)
    {
        var pool = Pool;
        Counters.Received++;
        if (!EthernetHeader.TryRead(pool.Slot(slot).Slice(0, length), out var header))
        {
            pool.Return(slot);
            Counters.Drop(DropReason.Malformed);
            return;
        }
        if (pool.ArrivedAt is { } arrived) arrived[slot] = arrivedAt;
        ReceiveDispatcher.Dispatch(Classifier, _receiveRings, pool, new PacketDescriptor(slot, length), header, Counters, countReceipt: true);
    }

    /// <summary>
    /// Queues a frame on transmit ring <paramref name="ring"/>; false when it is too long or the
    /// ring is full. <paramref name="sealedByStack"/>: one of the host's own stacks built it, its
    /// checksums sealed (<see cref="PacketBufferPool.MarkSealed"/>).
    /// </summary>
    internal bool Transmit(int ring, ReadOnlySpan<byte> frame, bool sealedByStack = false)
    {
        var pool = Pool;
        if (frame.Length > MaxFrameLength || frame.Length < EthernetHeader.Length) return false;
        if (!pool.TryRent(out var slot))
        {
            TransmitBlocked = true;
            return false;
        }
        frame.CopyTo(pool.Slot(slot));
        if (sealedByStack) pool.MarkSealed(slot);
        // One sender at a time unless the pool is shared (the threaded mode, and after it): no
        // lock and no atomic on the deterministic mode's path.
        var concurrent = pool.Concurrent;
        if (TransmitRings[ring].TryEnqueue(new PacketDescriptor(slot, frame.Length), concurrent))
        {
            if (concurrent) Interlocked.Increment(ref _queuedForTransmit);
            else _queuedForTransmit++;
            TransmitQueued?.Invoke();
            return true;
        }
        pool.Return(slot);
        TransmitBlocked = true;
        return false;
    }

    private int _queuedForTransmit;

    /// <summary>Frames were queued for transmission since the last drain began.</summary>
    internal bool TransmitPending => Volatile.Read(ref _queuedForTransmit) != 0;

    /// <summary>A sender was pushed back (a full transmit ring, or no buffer) since the host last looked: it retries once room is made (the host clears it).</summary>
    internal bool TransmitBlocked { get; set; }

    /// <summary>Called when a frame is queued for transmission (threaded mode: wakes the thread that drains the transmit rings).</summary>
    internal Action? TransmitQueued { get; set; }

    /// <summary>Puts every queued transmit frame on the wire, ring by ring; returns how many.</summary>
    internal int DrainTransmitRings()
    {
        // Nothing queued since the last drain: no ring to look at. (A frame counted after this
        // drain took it is looked for once more, in vain, next time.)
        if (Volatile.Read(ref _queuedForTransmit) == 0) return 0;
        Interlocked.Exchange(ref _queuedForTransmit, 0);
        var pool = Pool;
        var wire = Wire; // one wire for the whole drain: what it gathered is flushed on it
        Span<PacketDescriptor> batch = stackalloc PacketDescriptor[32];
        var total = 0;
        foreach (var ring in TransmitRings)
        {
            int n;
            while ((n = ring.Queue.Dequeue(batch)) > 0)
            {
                var i = 0;
                var kept = false;
                try
                {
                    for (; i < n; i++)
                    {
                        kept = false;
                        if (wire is not null) wire.TransmitFromSlot(this, batch[i].Slot, pool.Frame(batch[i]), out kept);
                        if (!kept) pool.Return(batch[i].Slot);
                    }
                }
                catch
                {
                    // A cable's hook or tap (user code) threw on frame i: the wire counted it (lost,
                    // or carried if it kept it); the frames after it never reached the wire — their
                    // buffers go back and they are counted, handler-fault: nothing vanishes.
                    if (!kept) pool.Return(batch[i].Slot);
                    for (var j = i + 1; j < n; j++) pool.Return(batch[j].Slot);
                    ring.Counters.Delivered += i + 1;
                    if (n - i - 1 > 0) ring.Counters.Drop(DropReason.HandlerFault, n - i - 1);
                    Transmitted += total + i + 1;
                    Volatile.Write(ref _queuedForTransmit, 1); // the rings after this one: the next drain looks
                    throw;
                }
                ring.Counters.Delivered += n;
                total += n;
            }
        }
        if (total > 0) wire?.Flush();
        Transmitted += total;
        return total;
    }

    // ---- what the drivers read ---------------------------------------------------------------

    /// <summary>The basic part's register file (read by <see cref="SimNicBasicDriver"/>).</summary>
    internal long ReadRegister(SimNicRegister register, int ring = 0) => register switch
    {
        SimNicRegister.RxRingCount => ReceiveRings.Length,
        SimNicRegister.TxRingCount => TransmitRings.Length,
        SimNicRegister.RxRingSize => ReceiveRings[ring].Capacity,
        SimNicRegister.TxRingSize => TransmitRings[ring].Capacity,
        SimNicRegister.RxRingMsiVector => ReceiveRings[ring].MsiVector,
        SimNicRegister.MsiVectorCount => Settings.MsiVectors ?? Model.MsiVectors,
        SimNicRegister.ClassifierEntries => Classifier.Capacity,
        SimNicRegister.ClassifierFields => (long)Classifier.Fields,
        SimNicRegister.MaxFrameLength => MaxFrameLength,
        SimNicRegister.LinkSpeedMbps => LinkSpeedBitsPerSecond / 1_000_000,
        _ => throw new ArgumentOutOfRangeException(nameof(register)),
    };

    /// <summary>The flow parts' capability table (read by <see cref="SimNicFlowDriver"/>).</summary>
    internal IReadOnlyList<SimNicCapability> ReadCapabilities()
    {
        var table = new List<SimNicCapability>
        {
            new("link", 0, LinkSpeedBitsPerSecond),
            new("mtu", 0, MaxFrameLength - 18),
        };
        table.AddRange(ReceiveRings.Select(r => new SimNicCapability("rx-ring", r.Index, r.Capacity, r.MsiVector)));
        table.AddRange(TransmitRings.Select(r => new SimNicCapability("tx-ring", r.Index, r.Capacity)));
        table.Add(new SimNicCapability("msi", 0, Settings.MsiVectors ?? Model.MsiVectors));
        table.Add(new SimNicCapability("flow-table", 0, Classifier.Capacity, (long)Classifier.Fields));
        return table;
    }

    private static void Check(int value, int min, int max, string what, SimNicModel model)
    {
        if (value < min || value > max) throw new ArgumentException($"{model.Name} supports {min}..{max} {what}, not {value}");
    }
}
