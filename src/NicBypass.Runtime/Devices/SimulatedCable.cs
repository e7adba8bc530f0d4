namespace NicBypass.Runtime.Devices;

/// <summary>
/// A cable between two simulated NICs (of one host or of two): what one transmits, the other
/// receives. It can lose frames — at a seeded random rate, or as a test decides frame by frame —
/// and counts what it carried and lost, so loss is never silent.
/// </summary>
public sealed class SimulatedCable
{
    private readonly Random _random;

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
        to.Receive(frame);
    }

    private sealed class End(SimulatedCable cable, SimulatedNic peer) : IWire
    {
        public void Transmit(ReadOnlySpan<byte> frame) => cable.Carry(peer, frame);
    }
}
