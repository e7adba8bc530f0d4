namespace NicBypass.Runtime.Rings;

/// <summary>Interrupt moderation: decides whether a ring's interrupt waits (the NIC raises it later).</summary>
internal interface IInterruptModerator
{
    /// <summary>True when the interrupt for <paramref name="ring"/> is deferred (its deadline armed or already armed).</summary>
    bool Defer(ReceiveRing ring);

    /// <summary>
    /// True when interrupts are moderated now (a delay applies): a frame arriving while the
    /// ring's interrupt is pending or armed raises none of its own, even in the interrupts-only
    /// model where every frame otherwise interrupts — the NIC throttles them (ethtool's rx-usecs).
    /// </summary>
    bool Throttles(ReceiveRing ring);
}

/// <summary>Where a ring's interrupts go: the processor bound to the VM, VSQ or software ring it serves.</summary>
internal interface IInterruptTarget
{
    void RaiseInterrupt(ReceiveRing ring);

    /// <summary>Charges the software classification of <paramref name="frames"/> frames to the processor (the cost model).</summary>
    void ChargeClassification(int frames) { }

    /// <summary>A frame arrived on <paramref name="ring"/> while its interrupt was already pending (interrupts only: each arrival interrupts again).</summary>
    void FrameArrived(ReceiveRing ring) { }

    /// <summary>The processor has serviced <paramref name="ring"/>'s interrupt (an MSI vector shared by several rings counts them out).</summary>
    void InterruptServiced(ReceiveRing ring) { }
}
