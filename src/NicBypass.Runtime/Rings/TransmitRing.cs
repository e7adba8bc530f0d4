using NicBypass.Runtime.Accounting;
using NicBypass.Runtime.Packets;

namespace NicBypass.Runtime.Rings;

/// <summary>
/// A transmit ring (TRR) on the NIC: frames from VNICs wait here until the NIC puts them on the
/// wire. A full ring pushes back on the sender (the enqueue fails) instead of losing data
/// silently; VNICs serialise their enqueues so several senders can share one ring.
/// </summary>
public sealed class TransmitRing(int index, int capacity)
{
    private readonly Lock _producers = new();

    public int Index { get; } = index;

    public string Name => "trr" + Index;

    public int Capacity => Queue.Capacity;

    /// <summary>Frames accepted for the wire (<c>Received</c>) and put on it (<c>Delivered</c>).</summary>
    public TrafficCounters Counters { get; } = new();

    /// <summary>Enqueues refused because the ring was full (the sender keeps the frame and retries).</summary>
    public long BackPressured { get; private set; }

    internal DescriptorRing Queue { get; } = new(capacity);

    /// <summary>Queues a frame for the wire; false when the ring is full (back-pressure).</summary>
    public bool TryEnqueue(in PacketDescriptor descriptor)
    {
        lock (_producers) return Enqueue(descriptor);
    }

    /// <summary>
    /// As <see cref="TryEnqueue(in PacketDescriptor)"/>, without the producers' lock when
    /// <paramref name="concurrent"/> is false: the deterministic mode, where only the datapath's
    /// thread sends (other threads hand their frames over to it) — the NIC's pool says which.
    /// </summary>
    internal bool TryEnqueue(in PacketDescriptor descriptor, bool concurrent)
    {
        if (concurrent) return TryEnqueue(descriptor);
        return Enqueue(descriptor);
    }

    private bool Enqueue(in PacketDescriptor descriptor)
    {
        if (Queue.TryEnqueue(descriptor))
        {
            Counters.Received++;
            return true;
        }
        BackPressured++;
        return false;
    }
}
