using NicBypass.Runtime.Packets;

namespace NicBypass.Runtime.Rings;

/// <summary>
/// What a receive ring is bound to: a VNIC, or a software ring. It gets frames a batch at a
/// time (one call per batch, not per frame) and owns their buffer slots from then on.
/// </summary>
internal interface IReceiveRingClient
{
    void Receive(ReceiveRing ring, ReadOnlySpan<PacketDescriptor> batch);

    /// <summary>How many more frames it takes now; the ring keeps the rest (a software ring or a VM takes everything).</summary>
    int Room => int.MaxValue;

    /// <summary>Told when its ring was switched to polling because it was full or could not keep up.</summary>
    void Backlogged() { }

    /// <summary>Whether it polls its ring itself once switched to polling (a VNS, from its worker) rather than leaving it to the processor.</summary>
    bool PollsItself => false;

    /// <summary>
    /// Whether what it feeds has backed up — a software ring one of whose SRRs went to polling
    /// because the consumer behind it cannot keep up: the ring feeding it then goes to polling
    /// too (dynamic polling), so the interrupts its processor serves first do not starve those
    /// consumers (receive livelock).
    /// </summary>
    bool BackedUp => false;
}
