using NicBypass.Runtime.Accounting;
using NicBypass.Runtime.Classification;
using NicBypass.Runtime.Packets;

namespace NicBypass.Runtime.Rings;

/// <summary>
/// A software ring: a software classifier with the same functionality and criteria as the
/// hardware one, feeding software receive rings (SRRs). It sits on an HRR (or on another
/// software ring's SRR — software rings nest) and serves the VNICs that did not get a hardware
/// ring of their own. Each SRR raises software interrupts on the processor of what it serves.
/// It knows rings, buffers and the classifier only; the host binds VNICs and processors to it.
/// </summary>
public sealed class SoftwareRing : IReceiveRingClient
{
    private readonly ReceiveRing[] _rings;
    private readonly Func<PacketBufferPool> _pool; // the NIC's pool exists once the NIC is enabled, after binding

    /// <param name="nic">The NIC's name, for messages.</param>
    /// <param name="pool">The NIC's buffer pool (which holds every frame it classifies), read when frames arrive.</param>
    /// <param name="fields">What the NIC's hardware classifier matches: the software classifier matches the same.</param>
    internal SoftwareRing(string nic, Func<PacketBufferPool> pool, ClassifierMatch fields, string id, int rings, int capacity)
    {
        _pool = pool;
        Id = id;
        Rings = Enumerable.Range(0, rings).Select(i => new SoftwareReceiveRing(id, i, capacity)).ToArray();
        _rings = Rings.Cast<ReceiveRing>().ToArray();
        Classifier = new PacketClassifier($"{nic} {id} software classifier", fields, int.MaxValue);
    }

    public string Id { get; }

    public IReadOnlyList<SoftwareReceiveRing> Rings { get; }

    /// <summary>The software classifier; programmed with the same criteria as the hardware one.</summary>
    internal PacketClassifier Classifier { get; }

    /// <summary>Frames that reached the software ring, and those no SRR took (<c>no-match</c>).</summary>
    public TrafficCounters Counters { get; } = new();

    /// <summary>Binds SRR <paramref name="index"/> to <paramref name="client"/>; its software interrupts go to <paramref name="interrupts"/>.</summary>
    internal SoftwareReceiveRing BindRing(int index, IReceiveRingClient client, IInterruptTarget interrupts)
    {
        Rings[index].Bind(client, interrupts);
        return Rings[index];
    }

    /// <summary>Stacks a nested software ring on SRR <paramref name="index"/>; its software interrupts go to <paramref name="interrupts"/>.</summary>
    internal SoftwareRing BindSoftwareRing(string nic, int index, string id, int rings, IInterruptTarget interrupts)
    {
        var nested = new SoftwareRing(nic, _pool, Classifier.Fields, id, rings, Rings[index].Capacity);
        Rings[index].Bind(nested, interrupts);
        return nested;
    }

    void IReceiveRingClient.Receive(ReceiveRing ring, ReadOnlySpan<PacketDescriptor> batch) => Receive(ring, batch);

    internal void Receive(ReceiveRing ring, ReadOnlySpan<PacketDescriptor> batch)
    {
        var pool = _pool();
        ring.InterruptTarget?.ChargeClassification(batch.Length);
        foreach (var descriptor in batch)
        {
            Counters.Received++;
            // Frames on a ring were read at layer 2 by the NIC already, so this cannot fail.
            EthernetHeader.TryRead(pool.Frame(descriptor), out var header);
            ReceiveDispatcher.Dispatch(Classifier, _rings, pool, descriptor, header, Counters, Classifier.CountsReceipts);
        }
    }

    // The consumer behind one of its SRRs could not keep up: the SRR went to polling (its
    // interrupts off), or — one its consumer polls by design (mode polling), interrupts off for
    // good — it is full. (Any SRR with interrupts off counted: a polling VNIC behind the software
    // ring sent its hardware ring to polling at every interrupt, at any load; found by review.)
    bool IReceiveRingClient.BackedUp
    {
        get
        {
            foreach (var ring in _rings)
            {
                if (ring.PolledByConsumer ? ring.Count >= ring.Capacity : !ring.InterruptsEnabled) return true;
            }
            return false;
        }
    }

    public override string ToString() => Id;
}
