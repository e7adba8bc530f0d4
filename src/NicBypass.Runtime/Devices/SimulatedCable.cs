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
    private readonly Queue<(long Due, SimulatedNic To, byte[] Frame)> _inFlight = new();
    private TimeProvider? _time;

    private SimulatedCable(SimulatedNic a, SimulatedNic b, double lossRate, int seed)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        ArgumentOutOfRangeException.ThrowIfLessThan(lossRate, 0.0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(lossRate, 1.0);
        A = a;
        B = b;
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
    public int InFlight => _inFlight.Count;

    /// <summary>Gives the cable a one-way delay on <paramref name="time"/>; its frames then arrive through <see cref="DeliverDue"/>.</summary>
    public SimulatedCable WithLatency(TimeSpan latency, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(latency, TimeSpan.Zero);
        Latency = latency;
        _time = time;
        return this;
    }

    /// <summary>Delivers the frames whose delay has passed; true if it delivered any.</summary>
    public bool DeliverDue()
    {
        if (_inFlight.Count == 0) return false;
        var now = _time!.GetTimestamp();
        var delivered = false;
        while (_inFlight.TryPeek(out var next) && next.Due <= now)
        {
            _inFlight.Dequeue();
            next.To.Receive(next.Frame);
            delivered = true;
        }
        return delivered;
    }

    /// <summary>The share of frames lost at random (seeded, so runs repeat).</summary>
    public double LossRate { get; set; }

    /// <summary>Decides, frame by frame (numbered from 0 across both directions), whether to lose it — on top of <see cref="LossRate"/>.</summary>
    public Func<long, bool>? Lose { get; set; }

    /// <summary>Frames offered to the cable, and frames it lost.</summary>
    public long Frames { get; private set; }

    public long Lost { get; private set; }

    /// <summary>Sees every frame that made it across (for captures).</summary>
    public Action<SimulatedNic, ReadOnlyMemory<byte>>? Tap { get; set; }

    private void Carry(SimulatedNic to, ReadOnlySpan<byte> frame)
    {
        var index = Frames++;
        if ((Lose?.Invoke(index) ?? false) || (LossRate > 0 && _random.NextDouble() < LossRate))
        {
            Lost++;
            return;
        }
        Tap?.Invoke(to, frame.ToArray());
        if (Latency > TimeSpan.Zero && _time is { } time)
        {
            _inFlight.Enqueue((time.GetTimestamp() + (long)(Latency.TotalSeconds * time.TimestampFrequency), to, frame.ToArray()));
            return;
        }
        to.Receive(frame);
    }

    private sealed class End(SimulatedCable cable, SimulatedNic peer) : IWire
    {
        public void Transmit(ReadOnlySpan<byte> frame) => cable.Carry(peer, frame);
    }
}
