using NicBypass.Runtime.Accounting;
using NicBypass.Runtime.Devices;
using NicBypass.Runtime.Packets;

namespace NicBypass.Runtime.Rings;

/// <summary>
/// A receive ring — hardware (HRR, on the NIC) or software (SRR, in a software ring): a bounded
/// FIFO of descriptors with the two ways out the seed describes.
/// <list type="bullet">
/// <item><b>Interrupt mode</b> (interrupts enabled): the first frame into an empty ring raises an
/// interrupt on the bound processor, which drains the ring into its client in batches.</item>
/// <item><b>Polling mode</b> (interrupts disabled): frames stay in the ring until the consumer
/// takes them through <see cref="Poll"/>, the ring's poll entry point.</item>
/// </list>
/// Whoever consumes the ring — the processor servicing its interrupt, a poller, a VNS that took
/// it over — goes through the entry points it was bound with (<see cref="PollEntry"/>,
/// <see cref="InterruptControl"/>): for an HRR, the ones its driver advertised.
/// A full ring drops the new frame and counts it (<c>ring-full</c>) — on the ring, and on the
/// VNIC the classifier had picked for it.
/// </summary>
public abstract class ReceiveRing
{
    private int _interruptPending;
    private int _consuming; // a poll in progress: the entry point is safe to call from several threads

    protected ReceiveRing(string name, int capacity)
    {
        Name = name;
        Queue = new DescriptorRing(capacity);
    }

    /// <summary>hrr0, sr0/srr2, …</summary>
    public string Name { get; }

    internal abstract InterruptKind InterruptKind { get; }

    public int Capacity => Queue.Capacity;

    /// <summary>Frames waiting in the ring.</summary>
    public int Count => Queue.Count;

    /// <summary>Frames offered to the ring (accepted or dropped because it was full).</summary>
    public TrafficCounters Counters { get; } = new();

    /// <summary>Interrupts this ring raised.</summary>
    public long Interrupts { get; private set; }

    /// <summary>Times its processor switched it to polling (dynamic polling): because it could not keep up, or, though it kept up, to take turns with frames waiting on that processor for other work.</summary>
    public long PollingSwitches { get; internal set; }

    public bool InterruptsEnabled { get; private set; } = true;

    /// <summary>Its consumer polls it by design (a VNIC in <c>mode polling</c>): its interrupts are off for good, not because it backed up.</summary>
    internal bool PolledByConsumer { get; set; }

    /// <summary>Interrupts only, under the cost model: every arriving frame interrupts (set by the host; off, the hot path makes no call for it).</summary>
    internal bool InterruptEveryFrame { get; set; }

    /// <summary>
    /// Set while the host's threads run: the feeder (classifier) and the processor that services
    /// the interrupt are then on different threads, and each side's store (the frame, the cleared
    /// interrupt) is fenced before its load (the interrupt flag, the ring), so one of them always
    /// sees the other (off, the deterministic mode's hot path pays no fence).
    /// </summary>
    internal bool Concurrent { get; set; }

    /// <summary>An interrupt is raised and not yet serviced.</summary>
    internal bool InterruptPending => Volatile.Read(ref _interruptPending) != 0;

    /// <summary>The VNIC or software ring this ring serves, once bound.</summary>
    internal IReceiveRingClient? Client { get; private set; }

    /// <summary>Interrupt moderation (hardware rings of a NIC with <c>InterruptModeration</c>): the first frame's interrupt waits for its deadline.</summary>
    internal IInterruptModerator? Moderator { get; set; }

    /// <summary>A moderated interrupt's deadline is armed.</summary>
    internal bool ModerationArmed { get; set; }

    /// <summary>The moderation deadline came: the interrupt is raised if the ring still wants one (frames waiting, interrupts on).</summary>
    internal bool RaiseModerated()
    {
        ModerationArmed = false;
        if (!InterruptsEnabled || Queue.IsEmpty || Volatile.Read(ref _interruptPending) != 0) return false;
        Raise();
        return true;
    }

    /// <summary>Deterministic mode: tells the host's scheduler that a frame arrived while the ring is polled, so whoever polls it runs (set by the host; null in the threaded mode, whose pollers run on their own schedule).</summary>
    internal Action? PollWake { get; set; }

    /// <summary>Where interrupts go, once bound.</summary>
    internal IInterruptTarget? InterruptTarget { get; private set; }

    internal DescriptorRing Queue { get; }

    /// <summary>The poll entry point its consumers use (for an HRR, the one its driver advertised).</summary>
    internal RingPoll PollEntry { get; private set; } = null!;

    /// <summary>The interrupt control its consumers use (for an HRR, the one its driver advertised).</summary>
    internal RingInterruptControl InterruptControl { get; private set; } = null!;

    /// <summary>Binds the ring to its client and the processor its interrupts go to; consumers reach it through <paramref name="poll"/> and <paramref name="control"/> (its own, if not given).</summary>
    internal void Bind(IReceiveRingClient client, IInterruptTarget interrupts, RingPoll? poll = null, RingInterruptControl? control = null)
    {
        if (Client is not null) throw new InvalidOperationException($"{Name} is already bound");
        Client = client;
        InterruptTarget = interrupts;
        PollEntry = poll ?? Poll;
        InterruptControl = control ?? SetInterrupts;
    }

    /// <summary>
    /// The poll entry point (Crossbow's <c>mri_poll(ring, bytes_to_pickup)</c>): takes frames,
    /// oldest first, up to <c>into.Length</c> of them and at most <paramref name="byteBudget"/>
    /// bytes in all — a frame that would overrun the budget stays, and so does everything behind
    /// it. <paramref name="waitingBytes"/> is the length of the frame now at the head (0: the ring
    /// is empty), so a caller short of budget knows how much it needs. Safe to call from several
    /// threads: a call made while another is in progress takes nothing.
    /// </summary>
    internal int Poll(Span<PacketDescriptor> into, long byteBudget, out int waitingBytes)
    {
        if (Interlocked.Exchange(ref _consuming, 1) != 0)
        {
            waitingBytes = 0;
            return 0;
        }
        int taken;
        if (byteBudget == long.MaxValue)
        {
            taken = Queue.Dequeue(into);
        }
        else
        {
            var count = 0;
            long bytes = 0;
            while (count < into.Length && Queue.TryPeek(count, out var next) && bytes + next.Length <= byteBudget)
            {
                bytes += next.Length;
                count++;
            }
            taken = count > 0 ? Queue.Dequeue(into.Slice(0, count)) : 0;
        }
        waitingBytes = Queue.TryPeek(out var head) ? head.Length : 0;
        Volatile.Write(ref _consuming, 0);
        return taken;
    }

    /// <summary>The interrupt control: enables (true) or disables (false) interrupt mode.</summary>
    internal void SetInterrupts(bool enable)
    {
        if (enable) EnableInterrupts();
        else DisableInterrupts();
    }

    /// <summary>Switches to polling mode: no more interrupts until <see cref="EnableInterrupts"/>; frames already waiting are polled (whoever polls it is woken).</summary>
    internal void DisableInterrupts()
    {
        InterruptsEnabled = false;
        if (!Queue.IsEmpty && Volatile.Read(ref _interruptPending) == 0) PollWake?.Invoke();
    }

    /// <summary>Back to interrupt mode; frames already waiting raise an interrupt at once.</summary>
    internal void EnableInterrupts()
    {
        InterruptsEnabled = true;
        // The flag before the look at the ring (a frame the feeder published while it still saw
        // interrupts off is seen here; one published after sees them on): see Concurrent.
        if (Concurrent) Interlocked.MemoryBarrier();
        if (!Queue.IsEmpty) Raise();
    }

    /// <summary>
    /// True when the ring is full: a frame offered now is counted as <see cref="Enqueue"/> counts
    /// it (received, dropped ring-full) and refused before anyone copies it into a slot.
    /// </summary>
    internal bool RefuseIfFull()
    {
        if (!Queue.IsFull) return false;
        Counters.Received++;
        Counters.Drop(DropReason.RingFull);
        return true;
    }

    /// <summary>Offers a frame; false when the ring is full (the frame was counted as dropped and is the caller's to free).</summary>
    internal bool Enqueue(in PacketDescriptor descriptor)
    {
        Counters.Received++;
        if (!Queue.TryEnqueue(descriptor))
        {
            Counters.Drop(DropReason.RingFull);
            return false;
        }
        Counters.Delivered++;
        // The frame before the look at the interrupt's state (the processor, clearing the pending
        // interrupt or turning interrupts on, then looks at the ring): see Concurrent.
        if (Concurrent) Interlocked.MemoryBarrier();
        if (InterruptsEnabled)
        {
            if (Volatile.Read(ref _interruptPending) == 0)
            {
                if (Moderator is not { } moderator || !moderator.Defer(this)) Raise();
            }
            else if (InterruptEveryFrame && (Moderator is not { } moderator || !moderator.Throttles(this)))
            {
                InterruptTarget?.FrameArrived(this); // unmoderated, every frame interrupts; moderated, they share one
            }
        }
        else
        {
            PollWake?.Invoke();
        }
        return true;
    }

    /// <summary>
    /// Called by the processor when it has drained the ring: clears the pending interrupt and,
    /// if frames slipped in meanwhile, raises a new one so none is stranded.
    /// </summary>
    internal void InterruptServiced()
    {
        // Another thread feeding: a full fence, so the look at the ring below cannot pass the
        // cleared flag (see Concurrent).
        if (Concurrent) Interlocked.Exchange(ref _interruptPending, 0);
        else Volatile.Write(ref _interruptPending, 0);
        InterruptTarget?.InterruptServiced(this);
        if (InterruptsEnabled && !Queue.IsEmpty) Raise();
    }

    private void Raise()
    {
        if (Interlocked.Exchange(ref _interruptPending, 1) != 0) return;
        Interrupts++;
        InterruptTarget?.RaiseInterrupt(this);
    }

    public override string ToString() => Name;
}
