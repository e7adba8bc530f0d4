using System.Diagnostics;
using System.Runtime.InteropServices;
using NicBypass.Runtime.Packets;

namespace NicBypass.Runtime.Rings;

/// <summary>
/// A bounded single-producer/single-consumer FIFO of packet descriptors (the Disruptor/DPDK
/// shape): power-of-two capacity, head and tail on separate cache lines so the producer and
/// consumer never write the same line, batch dequeue. Safe across two threads; never allocates.
/// </summary>
internal sealed class DescriptorRing
{
    private readonly PacketDescriptor[] _slots; // shared with other rings: ours are _offset … _offset + _mask
    private readonly int _offset;
    private readonly int _mask;
    private Indexes _indexes;

    public DescriptorRing(int capacity)
    {
        if (capacity < 2 || (capacity & (capacity - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "ring capacity must be a power of two, at least 2");
        }
        // On the pinned heap, carved from a chunk shared with other rings: a host of thousands of
        // rings builds without the collector copying them and without a fresh page touched for
        // each. Uninitialized: a slot is written before it is read.
        var piece = PinnedSlab<PacketDescriptor>.Carve(capacity);
        _slots = piece.Array!;
        _offset = piece.Offset;
        _mask = capacity - 1;
    }

    public int Capacity => _mask + 1;

    /// <summary>Descriptors waiting to be dequeued.</summary>
    public int Count => (int)(Volatile.Read(ref _indexes.Tail) - Volatile.Read(ref _indexes.Head));

    public bool IsEmpty => Count == 0;

    /// <summary>No room for another descriptor (as the producer sees it: the consumer may be making room).</summary>
    public bool IsFull => Count >= Capacity;

    /// <summary>Adds one descriptor; false (and nothing changes) when the ring is full.</summary>
    public bool TryEnqueue(in PacketDescriptor descriptor)
    {
        var tail = _indexes.Tail;
        if (tail - Volatile.Read(ref _indexes.Head) > _mask) return false;
        Debug.Assert(descriptor.Length >= 0, "a descriptor's length is never negative");
        _slots[_offset + ((int)tail & _mask)] = descriptor;
        Volatile.Write(ref _indexes.Tail, tail + 1);
        // Invariant: 0 <= tail - head <= capacity (only the producer moves tail, only the consumer head).
        Debug.Assert(tail + 1 - Volatile.Read(ref _indexes.Head) is >= 0 and var n && n <= Capacity, "ring overfilled");
        return true;
    }

    /// <summary>The oldest descriptor without taking it (consumer side only).</summary>
    public bool TryPeek(out PacketDescriptor descriptor) => TryPeek(0, out descriptor);

    /// <summary>The descriptor <paramref name="offset"/> places behind the oldest, without taking anything (consumer side only).</summary>
    public bool TryPeek(int offset, out PacketDescriptor descriptor)
    {
        var head = _indexes.Head + offset;
        if (Volatile.Read(ref _indexes.Tail) - head <= 0)
        {
            descriptor = default;
            return false;
        }
        descriptor = _slots[_offset + ((int)head & _mask)];
        return true;
    }

    /// <summary>Moves up to <c>into.Length</c> descriptors out, oldest first; returns how many.</summary>
    public int Dequeue(Span<PacketDescriptor> into)
    {
        var head = _indexes.Head;
        var available = (int)(Volatile.Read(ref _indexes.Tail) - head);
        Debug.Assert(available >= 0 && available <= Capacity, "ring indexes crossed");
        var count = Math.Min(available, into.Length);
        var start = (int)head & _mask;
        var first = Math.Min(count, _mask + 1 - start); // up to the ring's end, then from its start
        _slots.AsSpan(_offset + start, first).CopyTo(into);
        if (count > first) _slots.AsSpan(_offset, count - first).CopyTo(into[first..]);
        Volatile.Write(ref _indexes.Head, head + count);
        return count;
    }

    // Head (consumer) and tail (producer) 64 bytes apart, each on its own cache line.
    [StructLayout(LayoutKind.Explicit, Size = 192)]
    private struct Indexes
    {
        [FieldOffset(64)] public long Head;
        [FieldOffset(128)] public long Tail;
    }
}
