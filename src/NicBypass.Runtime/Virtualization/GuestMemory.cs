using NicBypass.Runtime.Packets;

namespace NicBypass.Runtime.Virtualization;

/// <summary>
/// The guest receive ring in a VM's memory (a Xen/virtio-style shared ring): a fixed number of
/// descriptors, each pointing at a frame the interface wrote into the ring's buffer — packed one
/// after another, as virtio's mergeable receive buffers are, not one maximum-sized slot each, so a
/// stream of small frames touches a few pages of guest memory instead of all of them — a producer
/// index the interface advances and a consumer index the guest driver advances as it takes them. One producer (the host side) and
/// one consumer (the guest's vCPU), safe across their two threads; a full ring refuses the frame
/// (the interface counts it as <c>guest-ring-full</c>). <see cref="LastFrame"/> is the most recent
/// frame as placed (after the interface's transform).
/// </summary>
internal sealed class GuestMemory
{
    private readonly byte[] _memory; // shared with other rings (PinnedSlab): ours is _start … _end
    private readonly int _start;
    private readonly int _end;
    private readonly int[] _offsets;
    private readonly int[] _lengths;
    private readonly int _maxFrame;  // the longest frame placed (longer ones are cut)
    private int _writeAt;   // where the next frame goes (host side only)
    private long _producer; // written by the host side only
    private long _consumer; // written by the guest only
    private int _lastOffset;
    private int _lastLength;

    public GuestMemory(int slots, int slotSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(slots, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(slotSize, 1);
        _maxFrame = slotSize;
        var footprint = (slotSize + 63) & ~63; // frames sit on whole cache lines: the room below holds
        _offsets = new int[slots];
        _lengths = new int[slots];
        // Room for every descriptor's largest frame, and one more: a frame that does not fit
        // before the end starts again at the beginning, and the tail it leaves is never more than
        // one frame. The frames held (at most one per descriptor) therefore never reach the oldest.
        var piece = PinnedSlab<byte>.Carve((slots + 1) * footprint);
        (_memory, _start, _end) = (piece.Array!, piece.Offset, piece.Offset + piece.Count);
        _writeAt = _start;
    }

    /// <summary>Slots in the ring.</summary>
    public int Capacity => _lengths.Length;

    /// <summary>Frames placed and not yet taken by the guest.</summary>
    public int Count => (int)(Volatile.Read(ref _producer) - Volatile.Read(ref _consumer));

    /// <summary>Frames placed so far.</summary>
    public long Frames => Volatile.Read(ref _producer);

    /// <summary>
    /// Set while the host's threads run: host side and guest on different threads. The host
    /// publishes a frame and then reads how far the guest got (an interrupt if the ring was
    /// empty); the guest releases a frame and then looks for the next. Each side's store is
    /// fenced before its load, so one of them always sees the other — without, x86 lets both
    /// loads pass their stores: the host sees the ring still holding the frame the guest just
    /// took (no interrupt), the guest an empty ring, and the frame waits for the vCPU's next poll.
    /// </summary>
    public bool Concurrent { get; set; }

    /// <summary>The most frames it has held at once.</summary>
    public int HighWater { get; private set; }

    /// <summary>Where the most recent frame starts in the ring's buffer (tests: frames are packed).</summary>
    internal int LastOffset => _lastOffset - _start;

    /// <summary>The most recent frame, as it sits in memory.</summary>
    public ReadOnlySpan<byte> LastFrame => _memory.AsSpan(_lastOffset, _lastLength);

    /// <summary>Host side: the slot for the next frame of <paramref name="length"/> bytes; false when the ring is full. <see cref="Publish"/> makes it visible.</summary>
    public bool TryReserve(int length, out Span<byte> slot)
    {
        var producer = _producer;
        if (producer - Volatile.Read(ref _consumer) >= _lengths.Length)
        {
            slot = default;
            return false;
        }
        var index = (int)(producer % _lengths.Length);
        _lastLength = Math.Min(length, _maxFrame);
        // An empty ring (the guest has released every frame: it reads none of them any more)
        // starts again at the beginning: a guest that keeps up keeps its frames in the same few
        // cache lines instead of walking through the whole buffer, cold, one frame at a time.
        if (_writeAt + _lastLength > _end || producer == Volatile.Read(ref _consumer)) _writeAt = _start;
        _lastOffset = _writeAt;
        _writeAt += (_lastLength + 63) & ~63; // each frame on a cache line of its own
        _offsets[index] = _lastOffset;
        _lengths[index] = _lastLength;
        slot = _memory.AsSpan(_lastOffset, _lastLength);
        return true;
    }

    /// <summary>Host side: the reserved frame is written; the guest may take it. True if the ring was empty (the guest needs an interrupt).</summary>
    public bool Publish()
    {
        var producer = _producer + 1;
        Volatile.Write(ref _producer, producer);
        if (Concurrent) Interlocked.MemoryBarrier(); // see Concurrent
        var count = (int)(producer - Volatile.Read(ref _consumer));
        if (count > HighWater) HighWater = count;
        return count == 1;
    }

    /// <summary>Guest side: the oldest frame placed, in place; false when there is none.</summary>
    public bool TryPeek(out ReadOnlySpan<byte> frame)
    {
        var consumer = _consumer;
        var empty = Volatile.Read(ref _producer) == consumer;
        if (empty && Concurrent)
        {
            // Empty, as far as this thread can tell: with the host on another thread, look again
            // after a fence (the last release before the look: see Concurrent).
            Interlocked.MemoryBarrier();
            empty = Volatile.Read(ref _producer) == consumer;
        }
        if (empty)
        {
            frame = default;
            return false;
        }
        var index = (int)(consumer % _lengths.Length);
        frame = _memory.AsSpan(_offsets[index], _lengths[index]);
        return true;
    }

    /// <summary>Guest side: done with the frame <see cref="TryPeek"/> gave; its slot is free again.</summary>
    public void Release() => Volatile.Write(ref _consumer, _consumer + 1);
}
