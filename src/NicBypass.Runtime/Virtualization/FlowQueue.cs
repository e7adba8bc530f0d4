using System.Diagnostics;
using NicBypass.Runtime.Packets;

namespace NicBypass.Runtime.Virtualization;

/// <summary>
/// A flow's own queue (Crossbow gives each flow its own soft ring set): the frames of one flow of
/// a VNIC that wait — for room in what is behind the VNIC, or for the flow's allocation — holding
/// their buffers. A bounded FIFO of descriptors, allocated once; the VNIC's flow gate guards it.
/// </summary>
internal sealed class FlowQueue
{
    private readonly PacketDescriptor[] _slots;
    private int _head;

    public FlowQueue(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _slots = new PacketDescriptor[capacity];
    }

    public int Capacity => _slots.Length;

    /// <summary>Frames waiting in it now.</summary>
    public int Count { get; private set; }

    /// <summary>The most frames that ever waited in it at once.</summary>
    public int HighWater { get; private set; }

    public bool TryEnqueue(in PacketDescriptor descriptor)
    {
        if (Count == _slots.Length) return false;
        _slots[(_head + Count) % _slots.Length] = descriptor;
        Count++;
        if (Count > HighWater) HighWater = Count;
        return true;
    }

    /// <summary>The oldest frame; only when <see cref="Count"/> &gt; 0.</summary>
    public ref readonly PacketDescriptor Head
    {
        get
        {
            Debug.Assert(Count > 0, "the head of an empty flow queue");
            return ref _slots[_head];
        }
    }

    public PacketDescriptor Dequeue()
    {
        Debug.Assert(Count > 0, "dequeue from an empty flow queue");
        var descriptor = _slots[_head];
        _head = (_head + 1) % _slots.Length;
        Count--;
        return descriptor;
    }
}
