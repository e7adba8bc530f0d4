using NicBypass.Runtime.Accounting;
using NicBypass.Runtime.Packets;
using NicBypass.Runtime.Rings;

namespace NicBypass.Runtime.Classification;

/// <summary>
/// Puts a classified frame on its receive ring(s): the step after the hardware classifier (on
/// the NIC) and after every software classifier (in a software ring). Unicast frames go to the
/// rule's ring; group frames are copied to every ring that serves a member of their group in
/// their VLAN; what the hardware does not match goes to the classifier's default ring, if it
/// has one. Every frame that does not make it onto a ring is counted with its reason and its
/// slot freed.
/// </summary>
/// <remarks>
/// Counting keeps the report's (README.md § A short tour) equation (Σ VNIC received = received − Σ dropped + replicated):
/// a frame is counted as received by a VNIC once, at the first classifier that picks that VNIC
/// — the NIC's, or, for frames that went to a default ring, the software classifier behind it.
/// A copy on its way to the default ring stands for the receipts to come: the software
/// classifier either counts at least one (the extra ones are <c>replicated</c>) or drops it as
/// <c>no-match</c>.
/// </remarks>
internal static class ReceiveDispatcher
{
    /// <param name="stage">Counters of the NIC or software ring, for frames no VNIC owns.</param>
    /// <param name="countReceipt">True where frames are counted as received by the VNIC they are classified to: the hardware
    /// classifier, and the software classifier behind a default ring.</param>
    public static void Dispatch(PacketClassifier classifier, ReceiveRing[] rings, PacketBufferPool pool,
        in PacketDescriptor descriptor, in EthernetHeader header, TrafficCounters stage, bool countReceipt)
    {
        switch (classifier.Classify(pool.Frame(descriptor), header, out var rule))
        {
            case ClassifyResult.Match:
            {
                var ring = classifier.RingOf(rule);
                if (ring == classifier.DefaultRing)
                {
                    // Not counted as the VNIC's yet: the software classifier behind the default ring will.
                    Enqueue(rings[ring], pool, descriptor, stage);
                    return;
                }
                var counters = classifier.CountersOf(rule);
                if (countReceipt)
                {
                    counters.Received++;
                    if (classifier.BlocksFlows && classifier.BlockedFlow(rule, pool.Frame(descriptor), header) is { } blocked)
                    {
                        // Crossbow's answer to a flood: the hardware drops the blocked flow, no processor sees it.
                        counters.DropShared(DropReason.Blocked);
                        Interlocked.Increment(ref blocked.Counters.Received);
                        blocked.Counters.DropShared(DropReason.Blocked);
                        pool.Return(descriptor.Slot);
                        return;
                    }
                }
                // Counted as the VNIC's (here or by an earlier classifier): a full ring is its drop.
                if (!rings[ring].Enqueue(descriptor))
                {
                    counters.Drop(DropReason.RingFull);
                    pool.Return(descriptor.Slot);
                }
                return;
            }
            case ClassifyResult.Default:
                Enqueue(rings[classifier.DefaultRing], pool, descriptor, stage);
                return;
            case ClassifyResult.NoMatch:
                stage.Drop(DropReason.NoMatch);
                pool.Return(descriptor.Slot);
                return;
            default:
                DispatchGroup(classifier, rings, pool, descriptor, header, stage, countReceipt);
                return;
        }
    }

    // A frame not counted as any VNIC's yet: a full ring is the stage's drop.
    private static void Enqueue(ReceiveRing ring, PacketBufferPool pool, in PacketDescriptor descriptor, TrafficCounters stage)
    {
        if (ring.Enqueue(descriptor)) return;
        stage.Drop(DropReason.RingFull);
        pool.Return(descriptor.Slot);
    }

    private static void DispatchGroup(PacketClassifier classifier, ReceiveRing[] rings, PacketBufferPool pool,
        in PacketDescriptor descriptor, in EthernetHeader header, TrafficCounters stage, bool countReceipt)
    {
        if (!classifier.TryGetGroupRoute(header, out var route))
        {
            stage.Drop(DropReason.NoMatch);
            pool.Return(descriptor.Slot);
            return;
        }
        var last = route.Rings.Length - 1;
        var receipts = 0;
        var defaultRing = classifier.DefaultRing;
        // An untagged frame is one slot every ring holds (each holder returns it; nobody writes
        // it). A tagged one is copied for each ring: a VNIC strips the tag in place — any tag type
        // it strips, 0x9100 included, which the header reader does not count as a tag.
        var frame = pool.Frame(descriptor);
        var shared = frame.Length >= EthernetHeader.Length && !EthernetHeader.StartsWithTag(frame);
        if (shared && last > 0) pool.Share(descriptor.Slot, last);
        for (var i = 0; i <= last; i++)
        {
            var targets = route.Targets[i];
            var pending = route.Rings[i] == defaultRing; // judged (and counted) by the software classifier behind it
            if (pending)
            {
                receipts++;
            }
            else if (countReceipt)
            {
                foreach (var target in targets) target.Received++;
                receipts += targets.Length;
            }
            // A tagged frame: copies for all rings but the last, which takes the original slot; a
            // full ring takes no copy (counted as a failed enqueue would be, the copy never made).
            var copy = descriptor;
            var ring = rings[route.Rings[i]];
            if (i < last && !shared)
            {
                if (!pool.TryRent(out var slot))
                {
                    Drop(pending, targets, stage, DropReason.NoBuffer);
                    continue;
                }
                if (ring.RefuseIfFull())
                {
                    Drop(pending, targets, stage, DropReason.RingFull);
                    pool.Return(slot); // rented and given back untouched: the copy is never made
                    continue;
                }
                frame.CopyTo(pool.Slot(slot));
                if (pool.ArrivedAt is { } arrived) arrived[slot] = arrived[descriptor.Slot];
                copy = new PacketDescriptor(slot, descriptor.Length);
            }
            if (!ring.Enqueue(copy))
            {
                Drop(pending, targets, stage, DropReason.RingFull);
                pool.Return(copy.Slot);
            }
        }
        // One frame in, `receipts` VNICs counted it (or will): the report explains the difference.
        if (receipts > 1) stage.Replicated += receipts - 1;
    }

    private static void Drop(bool pending, TrafficCounters[] targets, TrafficCounters stage, DropReason reason)
    {
        if (pending) stage.Drop(reason);
        else foreach (var target in targets) target.Drop(reason);
    }
}
