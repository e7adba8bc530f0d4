namespace NicBypass.Runtime.Stacks;

/// <summary>
/// A virtual serialization queue (VSQ): the seed's per-stack queue between a VNIC and the
/// stack, one for each direction (or one gate for both). It holds frames that cannot be
/// processed at once — copied into a fixed slab (allocated the first time a frame has to wait),
/// so nothing is allocated per frame — up to its
/// <see cref="Capacity"/> (the inbound threshold: at it the VNS takes nothing more from its
/// ring until the queue drains), and it admits threads by its <see cref="Policy"/>: one at a
/// time when TCP is present, any number for UDP only.
/// </summary>
internal sealed class SerializationQueue
{
    private readonly SerializationGate _gate;
    private readonly Lock _sync = new();
    private byte[]? _slab; // allocated when a frame first has to wait: most queues never hold one
    private int[]? _lengths; // with the slab: a host of thousands of stacks builds without them
    private readonly int _capacity;
    private readonly int _slot;
    private int _head, _count;

    internal SerializationQueue(string name, int capacity, int frameSize, SerializationGate gate)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Name = name;
        _gate = gate;
        _slot = frameSize;
        if ((long)capacity * frameSize > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(capacity), $"{capacity} frames of {frameSize} bytes do not fit one buffer");
        _capacity = capacity;
    }

    /// <summary>inbound or outbound.</summary>
    public string Name { get; }

    public SerializationPolicy Policy => _gate.Policy;

    /// <summary>Most frames it holds (for the inbound VSQ, its threshold).</summary>
    public int Capacity => _capacity;

    /// <summary>Frames waiting.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>The most frames it has held at once.</summary>
    public int HighWater { get; private set; }

    /// <summary>Frames that had to wait in it.</summary>
    public long Queued { get; private set; }

    /// <summary>Threads inside now, the most ever seen inside at once, and entries so far.</summary>
    public int Inside => _gate.Inside;

    public int MaxInside => _gate.MaxInside;

    public long Entries => _gate.Entries;

    /// <summary>Whether the other direction shares this queue's gate (a bidirectional VSQ).</summary>
    public bool SharesGateWith(SerializationQueue other) => ReferenceEquals(_gate, other._gate);

    /// <summary>Enters by the policy: waits for the lock under mutual exclusion, at once otherwise. Dispose to leave.</summary>
    public Scope Enter() => new(_gate, _gate.Enter());

    internal bool TryEnter() => _gate.TryEnter();

    /// <summary>Enters if no wait is needed; else the thread inside wakes the workers as it leaves (<see cref="SerializationGate.TryEnterOrHandBack"/>).</summary>
    internal bool TryEnterOrHandBack() => _gate.TryEnterOrHandBack();

    internal void Exit() => _gate.Exit();

    internal bool TryEnqueue(ReadOnlySpan<byte> frame)
    {
        lock (_sync)
        {
            if (_count == _capacity || frame.Length > _slot) return false;
            _slab ??= new byte[_capacity * _slot];
            _lengths ??= new int[_capacity];
            var index = _head + _count;
            if (index >= _capacity) index -= _capacity;
            frame.CopyTo(_slab.AsSpan(index * _slot));
            _lengths[index] = frame.Length;
            Volatile.Write(ref _count, _count + 1); // published after the frame: a reader outside the lock sees it whole
            Queued++;
            if (_count > HighWater) HighWater = _count;
            return true;
        }
    }

    /// <summary>Copies the oldest frame into <paramref name="into"/> and removes it.</summary>
    internal bool TryDequeue(Span<byte> into, out int length)
    {
        lock (_sync)
        {
            if (_count == 0)
            {
                length = 0;
                return false;
            }
            length = _lengths![_head];
            _slab!.AsSpan(_head * _slot, length).CopyTo(into);
            if (++_head == _capacity) _head = 0;
            _count--;
            return true;
        }
    }

    /// <summary>The oldest frame, in place (the caller holds the queue's owner lock so nobody dequeues meanwhile).</summary>
    internal ReadOnlySpan<byte> Peek() => Volatile.Read(ref _count) == 0 ? default : _slab!.AsSpan(_head * _slot, _lengths![_head]);

    internal void DropHead()
    {
        lock (_sync)
        {
            if (++_head == _capacity) _head = 0;
            _count--;
        }
    }

    public override string ToString() => $"{Name} VSQ ({Policy}, {Count}/{Capacity})";

    /// <summary>Being inside the queue's gate; dispose to leave.</summary>
    public readonly struct Scope : IDisposable
    {
        private readonly SerializationGate? _gate;

        internal Scope(SerializationGate gate, bool entered) => _gate = entered ? gate : null;

        public void Dispose() => _gate?.Exit();
    }
}
