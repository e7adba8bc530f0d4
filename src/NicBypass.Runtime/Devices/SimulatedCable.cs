namespace NicBypass.Runtime.Devices;

/// <summary>
/// A cable between two simulated NICs (of one host or of two): what one transmits, the other
/// receives. It can lose frames — at a seeded random rate, or as a test decides frame by frame —
/// and counts what it carried and lost, so loss is never silent. With a <see cref="Latency"/> it
/// is a delay line: a frame reaches the far end that long after it left, on the host's clock,
/// delivered by <see cref="DeliverDue"/> (which <c>NetworkHost.Pump</c> runs for cables added
/// with <c>NetworkHost.AddCable</c>).
/// </summary>
public sealed class SimulatedCable
{
    private readonly Random _random;
    // The two directions (one for a hairpin): frames on their way to A, and to B.
    private readonly Direction _toA;
    private readonly Direction _toB;
    private TimeProvider? _time;
    private long _sequence;

    private SimulatedCable(SimulatedNic a, SimulatedNic b, double lossRate, int seed)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        ArgumentOutOfRangeException.ThrowIfLessThan(lossRate, 0.0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(lossRate, 1.0);
        A = a;
        B = b;
        _toA = new Direction(a);
        _toB = ReferenceEquals(a, b) ? _toA : new Direction(b);
        LossRate = lossRate;
        _random = new Random(seed);
        a.Wire = new End(this, b);
        if (!ReferenceEquals(a, b)) b.Wire = new End(this, a);
    }

    /// <summary>Plugs a cable between <paramref name="a"/> and <paramref name="b"/> (replacing their wires).</summary>
    public static SimulatedCable Connect(SimulatedNic a, SimulatedNic b, double lossRate = 0, int seed = 1) => new(a, b, lossRate, seed);

    /// <summary>
    /// Plugs <paramref name="nic"/> into a switch port in hairpin (VEPA) mode: every frame it
    /// transmits comes straight back into it, so its VNICs reach one another through the wire.
    /// </summary>
    public static SimulatedCable Hairpin(SimulatedNic nic, double lossRate = 0, int seed = 1) => new(nic, nic, lossRate, seed);

    public SimulatedNic A { get; }

    public SimulatedNic B { get; }

    /// <summary>One-way delay; zero (the default) delivers at once.</summary>
    public TimeSpan Latency { get; private set; }

    /// <summary>Frames on their way (with a latency).</summary>
    public int InFlight => _toA.Count + (ReferenceEquals(_toA, _toB) ? 0 : _toB.Count);

    /// <summary>Gives the cable a one-way delay on <paramref name="time"/>; its frames then arrive through <see cref="DeliverDue"/>.</summary>
    public SimulatedCable WithLatency(TimeSpan latency, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(latency, TimeSpan.Zero);
        Latency = latency;
        _time = time;
        return this;
    }

    /// <summary>Extra one-way delay drawn per frame, uniformly in [0, <see cref="Jitter"/>] (netem's delay jitter), seeded.</summary>
    public TimeSpan Jitter { get; private set; }


    /// <summary>
    /// Adds jitter to the cable's delay (netem's <c>delay LATENCY JITTER</c>): each frame waits a
    /// further random span in [0, <paramref name="jitter"/>] (from the cable's seed), but never
    /// arrives before a frame sent ahead of it in its direction — a cable delivers in order.
    /// </summary>
    public SimulatedCable WithJitter(TimeSpan jitter, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(jitter, TimeSpan.Zero);
        Jitter = jitter;
        _time = time;
        return this;
    }

    /// <summary>Delivers the frames whose delay has passed; true if it delivered any.</summary>
    public bool DeliverDue()
    {
        if (_toA.Count == 0 && _toB.Count == 0 || _delivering) return false;
        var now = _time!.GetTimestamp();
        // A frame leaves its line once the NIC has taken it (the line holds its bytes until
        // then); a delivery that came back here would hand the same frame over twice.
        _delivering = true;
        try
        {
            return DeliverDueFrames(now);
        }
        finally
        {
            _delivering = false;
        }
    }

    private bool _delivering;

    private bool DeliverDueFrames(long now)
    {
        var delivered = false;
        while (true)
        {
            // Each direction delivers in order; between the two, the earlier due, then the one sent first.
            var next = Due(_toA, now);
            if (!ReferenceEquals(_toA, _toB) && Due(_toB, now) is { } other
                && (next is null || other.Line!.NextDue < next.Line!.NextDue || other.Line.NextDue == next.Line.NextDue && other.Sequences.Peek() < next.Sequences.Peek()))
            {
                next = other;
            }
            if (next is null || !next.Line!.TryPeekDue(now, out var frame, out var slot, out var length)) return delivered;
            try
            {
                // A frame on loan is in its sender's buffer: the end towards A is B's, and the other way.
                if (slot < 0) next.To.Receive(frame);
                else next.To.ReceiveLent(ReferenceEquals(next, _toA) ? B : A, slot, length);
            }
            finally
            {
                next.Line.Remove();
                next.Sequences.Dequeue();
            }
            delivered = true;
        }
    }

    private static Direction? Due(Direction direction, long now) => direction.Count > 0 && direction.Line!.NextDue <= now ? direction : null;

    /// <summary>When the next frame in flight arrives, in the clock's timestamps; <see cref="long.MaxValue"/> when none is.</summary>
    public long NextDue() => Math.Min(_toA.Count > 0 ? _toA.Line!.NextDue : long.MaxValue, _toB.Count > 0 ? _toB.Line!.NextDue : long.MaxValue);

    /// <summary>The cable's rate in bits per second (netem's <c>rate</c>), or 0 for an ideal cable that takes no time to carry a frame.</summary>
    public long RateBitsPerSecond { get; private set; }

    /// <summary>Most frames waiting to be serialized in one direction (netem's <c>limit</c>); more are dropped and counted in <see cref="Overflowed"/>.</summary>
    public int QueueLimit { get; private set; } = 1000;

    /// <summary>Frames dropped because the cable's queue was full.</summary>
    public long Overflowed { get; private set; }

    /// <summary>
    /// Gives the cable a rate (netem's <c>rate</c>): each frame takes its length + 24 bytes
    /// (FCS, preamble, inter-frame gap) of time on the cable, one after another in each
    /// direction, before <see cref="Latency"/> is added; up to <paramref name="queueLimit"/> frames
    /// wait their turn, more are dropped (<see cref="Overflowed"/>). Frames arrive in order.
    /// </summary>
    public SimulatedCable WithRate(long bitsPerSecond, TimeProvider time, int queueLimit = 1000)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bitsPerSecond, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(queueLimit, 1);
        RateBitsPerSecond = bitsPerSecond;
        QueueLimit = queueLimit;
        _time = time;
        return this;
    }

    /// <summary>The share of frames lost at random (seeded, so runs repeat).</summary>
    public double LossRate { get; set; }

    /// <summary>Decides, frame by frame (numbered from 0 across both directions), whether to lose it — on top of <see cref="LossRate"/>.</summary>
    public Func<long, bool>? Lose { get; set; }

    /// <summary>Decides by its bytes whether to lose a frame (a test's choice of a segment) — on top of the others.</summary>
    internal FramePredicate? LoseWhen { get; set; }

    /// <summary>Frames offered to the cable, and frames it lost.</summary>
    public long Frames { get; private set; }

    /// <summary>Ethernet bytes of the frames put on the cable (lost ones included).</summary>
    public long Bytes { get; private set; }

    public long Lost { get; private set; }

    /// <summary>Sees every frame that made it across (for captures).</summary>
    public Action<SimulatedNic, ReadOnlyMemory<byte>>? Tap { get; set; }

    private void Carry(SimulatedNic to, ReadOnlySpan<byte> frame) => Carry(to, frame, null, -1, out _);

    // slot ≥ 0: the frame lies in that slot of `from`'s pool; `kept` is set once the line keeps it
    // there (on loan) until it lands — before anything that may throw after it (the tap).
    private void Carry(SimulatedNic to, ReadOnlySpan<byte> frame, SimulatedNic? from, int slot, out bool kept)
    {
        kept = false;
        var index = Frames++;
        Bytes += frame.Length;
        bool lose;
        try
        {
            lose = (Lose?.Invoke(index) ?? false) || (LossRate > 0 && _random.NextDouble() < LossRate) || (LoseWhen?.Invoke(frame) ?? false);
        }
        catch
        {
            Lost++; // a hook that threw (user code): the frame goes no further, counted
            throw;
        }
        if (lose)
        {
            Lost++;
            return;
        }
        if ((Latency > TimeSpan.Zero || RateBitsPerSecond > 0 || Jitter > TimeSpan.Zero) && _time is { } time)
        {
            var direction = ReferenceEquals(to, A) ? _toA : _toB;
            var now = time.GetTimestamp();
            var arrives = now;
            var serialized = long.MinValue; // when its last bit leaves, with a rate
            if (RateBitsPerSecond > 0)
            {
                // Serialized behind what this direction already carries; its last bit leaves at `done`.
                var start = Math.Max(now, direction.FreeAt);
                var serialize = (long)((frame.Length + SimulatedNic.WireOverhead) * 8.0 * time.TimestampFrequency / RateBitsPerSecond);
                // The queue is counted in frames, as netem's limit is: those whose last bit has
                // not left yet (not the backlog's time over this frame's, which made a small ACK
                // behind full-size segments look like thousands of frames).
                var queue = direction.Serializing;
                while (queue.TryPeek(out var done) && done <= now) queue.Dequeue();
                if (queue.Count >= QueueLimit)
                {
                    Overflowed++;
                    return;
                }
                serialized = start + serialize;
                arrives = serialized;
            }
            arrives += (long)(Latency.TotalSeconds * time.TimestampFrequency);
            if (Jitter > TimeSpan.Zero)
            {
                arrives += (long)(_random.NextDouble() * Jitter.TotalSeconds * time.TimestampFrequency);
            }
            // In order, as a cable is: never before the frame ahead (the delay line keeps it so,
            // also when the latency was lowered while frames were on their way).
            var line = direction.Line ??= new DelayLine(256 * 1024, maxBytes: 1 << 30);
            // The frame waits in its transmit buffer, on loan from its NIC's pool, not copied onto
            // the line: back to the NIC it left (a hairpin) it lands there, with no copy at all;
            // at another NIC it is copied once, into the buffer that NIC rents as it lands.
            // Only the end's own NIC lends (a NIC given another's end copies, as before).
            var lend = slot >= 0 && from is not null && ReferenceEquals(from, ReferenceEquals(to, A) ? B : A) && from.Pool.TryLoan();
            if (!(lend ? line.TryAddSlot(slot, frame.Length, arrives) : line.TryAdd(frame, arrives)))
            {
                if (lend) from!.Pool.CancelLoan();
                Overflowed++; // more bytes in flight than a delay line holds (1 GiB)
                return;
            }
            kept = lend; // before the tap, which may throw: the slot is the line's now
            if (serialized != long.MinValue)
            {
                direction.FreeAt = serialized;
                direction.Serializing.Enqueue(serialized);
            }
            direction.Sequences.Enqueue(_sequence++);
            Tap?.Invoke(to, frame.ToArray());
            return;
        }
        try
        {
            Tap?.Invoke(to, frame.ToArray());
        }
        catch
        {
            Lost++; // the tap threw before the frame arrived: it goes no further, counted
            throw;
        }
        to.Receive(frame);
    }

    // One direction's frames in flight (copied into one arena, nothing allocated per frame) and
    // its serialization: when the cable finishes what it has taken, and when each frame does.
    private sealed class Direction(SimulatedNic to)
    {
        public SimulatedNic To { get; } = to;
        public DelayLine? Line { get; set; } // made with its first frame (an ideal cable never needs one)
        public int Count => Line?.Count ?? 0;
        public Queue<long> Sequences { get; } = new(); // the order sent, across both directions
        public Queue<long> Serializing { get; } = new();
        public long FreeAt { get; set; }
    }

    /// <summary>The cable <paramref name="wire"/> is an end of, if it is one.</summary>
    internal static SimulatedCable? Of(IWire? wire) => wire is End end ? end.Cable : null;

    private sealed class End(SimulatedCable cable, SimulatedNic peer) : IWire
    {
        public SimulatedCable Cable => cable;

        public void Transmit(ReadOnlySpan<byte> frame) => cable.Carry(peer, frame);

        void IWire.TransmitFromSlot(SimulatedNic from, int slot, ReadOnlySpan<byte> frame, out bool kept) => cable.Carry(peer, frame, from, slot, out kept);
    }
}
