namespace NicBypass.Runtime.Virtualization;

/// <summary>Something a processor runs in polling mode: it pulls frames from a ring when it is ready for them.</summary>
internal interface IPollingConsumer
{
    /// <summary>Polls once; true if it did any work (so the processor keeps going).</summary>
    bool Poll();

    /// <summary>
    /// Asked after a poll that did work: whether it still has work it could do now (frames left
    /// behind a batch, a timer due). The processor runs it again only then. Without an answer of
    /// its own, a poller that moved is assumed to have more (run again, to find out).
    /// </summary>
    bool HasMoreNow => true;

    /// <summary>
    /// Frames wait for it that it would take if it ran now (a VSQ's backlog, a ring it polls that
    /// holds frames and may be polled now) — what keeps a ring's interrupts from starving it
    /// (<see cref="Processor"/>'s dynamic polling). Without an answer of its own: none.
    /// </summary>
    bool FramesWaiting => false;

    /// <summary>When it next has work that only time brings (a timer, credit for a waiting frame), in the host clock's timestamps; <see cref="long.MaxValue"/> for none.</summary>
    long NextDue() => long.MaxValue;
}
