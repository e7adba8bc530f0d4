using NicBypass.Runtime.Accounting;
using NicBypass.Runtime.Packets;
using NicBypass.Runtime.Rings;

namespace NicBypass.Runtime.Classification;

/// <summary>
/// Puts a classified frame on its receive ring(s): the step after the hardware classifier (on
/// the NIC) and after every software classifier (in a software ring). Unicast frames go to the
/// rule's ring; group frames are copied to every ring that serves a VNIC in their VLAN. Every
/// frame that does not make it onto a ring is counted with its reason and its slot freed.
/// </summary>
internal static class ReceiveDispatcher
{
    /// <param name="stage">Counters of the NIC or software ring, for frames no VNIC owns.</param>
    /// <param name="countReceipt">True at the hardware classifier: a frame is counted as received by
    /// the VNIC it is classified to once, at the first classification.</param>
    public static void Dispatch(PacketClassifier classifier, ReceiveRing[] rings, PacketBufferPool pool,
        in PacketDescriptor descriptor, in EthernetHeader header, TrafficCounters stage, bool countReceipt)
    {
        switch (classifier.Classify(header, out var rule))
        {
            case ClassifyResult.Match:
            {
                var counters = classifier.CountersOf(rule);
                if (countReceipt) counters.Received++;
                if (!rings[classifier.RingOf(rule)].Enqueue(descriptor))
                {
                    counters.Drop(DropReason.RingFull);
                    pool.Return(descriptor.Slot);
                }
                return;
            }
            case ClassifyResult.NoMatch:
                stage.Drop(DropReason.NoMatch);
                pool.Return(descriptor.Slot);
                return;
            default:
                DispatchGroup(classifier, rings, pool, descriptor, header, stage, countReceipt);
                return;
        }
    }

    private static void DispatchGroup(PacketClassifier classifier, ReceiveRing[] rings, PacketBufferPool pool,
        in PacketDescriptor descriptor, in EthernetHeader header, TrafficCounters stage, bool countReceipt)
    {
        if (!classifier.TryGetGroupRoute(header.Vlan, out var route))
        {
            stage.Drop(DropReason.NoMatch);
            pool.Return(descriptor.Slot);
            return;
        }
        var last = route.Rings.Length - 1;
        var receipts = 0;
        for (var i = 0; i <= last; i++)
        {
            var targets = route.Targets[i];
            if (countReceipt)
            {
                foreach (var target in targets) target.Received++;
                receipts += targets.Length;
            }
            // Copies for all rings but the last, which takes the original slot.
            var copy = descriptor;
            if (i < last)
            {
                if (!pool.TryRent(out var slot))
                {
                    foreach (var target in targets) target.Drop(DropReason.NoBuffer);
                    continue;
                }
                pool.Frame(descriptor).CopyTo(pool.Slot(slot));
                if (pool.ArrivedAt is { } arrived) arrived[slot] = arrived[descriptor.Slot];
                copy = new PacketDescriptor(slot, descriptor.Length);
            }
            if (!rings[route.Rings[i]].Enqueue(copy))
            {
                foreach (var target in targets) target.Drop(DropReason.RingFull);
                pool.Return(copy.Slot);
            }
        }
        // One frame in, `receipts` VNICs counted it: the NIC's report explains the difference.
        if (receipts > 1) stage.Replicated += receipts - 1;
    }
}
