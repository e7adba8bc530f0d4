namespace NicBypass.Runtime.Stacks;

/// <summary>
/// A virtual serialization queue (VSQ): the seed's per-stack queue between a VNIC and the
/// stack, one for each direction (or one gate for both). It holds frames that cannot be
/// processed at once — copied into a fixed slab (allocated the first time a frame has to wait),
/// so nothing is allocated per frame; each frame takes the slot freed last, so a queue that
/// holds a few frames at a time keeps writing the same few slots, warm in the cache, instead of
/// cycling through the whole slab — up to its
/// <see cref="Capacity"/> (the inbound threshold: at it the VNS takes nothing more from its
/// ring until the queue drains), and it admits threads by its <see cref="Policy"/>: one at a
/// time when TCP is present, any number for UDP only.
/// </summary>
internal sealed class SerializationQueue
{
    private readonly SerializationGate _gate;
    private readonly Lock _sync = new();
    private byte[]? _slab; // allocated when a frame first has to wait: most queues never hold one
    private int[]? _lengths; // per slot; with the slab: a host of thousands of stacks builds without them
    private int[]? _order;   // the slots of the frames waiting, oldest first: a ring from _head
    private int[]? _free;    // slots freed, on a stack: the last freed is taken first
    private int _freeCount;
    private int _neverUsed;  // slots from here up have never held a frame (taken in order after the stack)
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

    /// <summary>Distinct slots of the slab ever written (tests: a queue that holds a few frames at a time writes a few).</summary>
    internal int SlotsUsed => _neverUsed;

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
            if (_slab is null)
            {
                _slab = GC.AllocateUninitializedArray<byte>(_capacity * _slot);
                _lengths = new int[_capacity];
                _order = new int[_capacity];
                _free = new int[_capacity];
            }
            // Every frame leaves with its slot (dequeued or dropped), so the slots in use are the
            // frames waiting: fewer than the capacity here, and a fresh one exists when none was freed.
            var slot = _freeCount > 0 ? _free![--_freeCount] : _neverUsed++;
            frame.CopyTo(_slab.AsSpan(slot * _slot));
            _lengths![slot] = frame.Length;
            var index = _head + _count;
            if (index >= _capacity) index -= _capacity;
            _order![index] = slot;
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
            var slot = _order![_head];
            length = _lengths![slot];
            _slab!.AsSpan(slot * _slot, length).CopyTo(into);
            FreeHead(slot);
            return true;
        }
    }

    /// <summary>The oldest frame, in place (the caller holds the queue's owner lock so nobody dequeues meanwhile).</summary>
    internal ReadOnlySpan<byte> Peek()
    {
        if (Volatile.Read(ref _count) == 0) return default;
        var slot = _order![_head];
        return _slab!.AsSpan(slot * _slot, _lengths![slot]);
    }

    internal void DropHead()
    {
        lock (_sync) FreeHead(_order![_head]);
    }

    // The oldest frame (in `slot`) leaves: its slot goes on top of the free stack.
    private void FreeHead(int slot)
    {
        _free![_freeCount++] = slot;
        if (++_head == _capacity) _head = 0;
        _count--;
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
