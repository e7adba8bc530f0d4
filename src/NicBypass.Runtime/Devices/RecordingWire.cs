namespace NicBypass.Runtime.Devices;

/// <summary>
/// A wire that keeps a copy of every frame a NIC transmits, oldest first — what a test looks at
/// (<c>web01.Nge0.Device.Wire = wire; … wire.Frames</c>) — and passes each on to
/// <see cref="Inner"/>, if there is one. Safe to read while the host's threads transmit.
/// </summary>
public sealed class RecordingWire(IWire? inner = null) : IWire
{
    private readonly List<byte[]> _frames = new();

    /// <summary>Where each frame goes on after it is recorded (null: nowhere).</summary>
    public IWire? Inner { get; } = inner;

    /// <summary>A copy of the frames transmitted so far, oldest first.</summary>
    public IReadOnlyList<byte[]> Frames
    {
        get
        {
            lock (_frames) return _frames.ToArray();
        }
    }

    /// <summary>Forgets the frames recorded so far.</summary>
    public void Clear()
    {
        lock (_frames) _frames.Clear();
    }

    public void Transmit(ReadOnlySpan<byte> frame)
    {
        lock (_frames) _frames.Add(frame.ToArray());
        Inner?.Transmit(frame);
    }

    public void Flush() => Inner?.Flush();
}
