using NicBypass.Runtime.Packets;
using NicBypass.Runtime.Stacks;

namespace NicBypass.Runtime.Virtualization;

/// <summary>
/// A virtual network stack (VNS): the stack a container or service has behind its VNIC. Inbound,
/// frames pass the IP layer (<see cref="Stack"/>: header checks, ARP, neighbour discovery, ICMP),
/// then the inbound serialization queue into the transport layer (UDP to sockets, TCP segments to
/// connections); outbound, frames pass the outbound serialization queue, which enforces
/// <c>outbound-bandwidth</c>, to the VNIC, a transmit ring and the wire.
///
/// <list type="bullet">
/// <item><b>Serialization queues</b> (FireEngine's squeue): the processor delivering a batch runs
/// the transport layer inline only when the inbound VSQ is idle and the processor free (nothing
/// more waits for it); otherwise the packets wait in the VSQ and its <b>worker</b> — the VNS run
/// by the processors it is bound to (<see cref="Workers"/>) — drains them a batch at a time. TCP
/// present: one thread at a time inside, application calls (sends, reads, connects, closes) and
/// timers included. UDP only: any number, so workers on several processors run at once.</item>
/// <item><b>Interrupt mode</b>: when the processor servicing the ring's interrupt cannot keep up
/// (frames remain behind the batch it took) or the VSQ reaches its threshold, the ring is
/// switched to polling (interrupt off, a <see cref="Backlogs"/> and polling switch counted) and
/// the worker takes what waits through the ring's poll entry point once the VSQ has drained,
/// switching the ring back to interrupts when it is empty.</item>
/// <item><b>Polling mode</b>: the ring's interrupt stays off; the VNS polls the ring only when its
/// inbound VSQ is empty, asking the poll entry point for the bytes its bandwidth allocation allows
/// by now (and no more frames than the VSQ has room for), so the rate of polling follows the
/// allocation.</item>
/// <item><b>Outbound</b>: a frame goes straight to the VNIC when nothing waits and the
/// allocation allows it; otherwise it waits in the outbound VSQ, which sends as credit accrues
/// and the transmit ring has room (a full ring pushes back; nothing is lost). When the outbound
/// VSQ is full, senders are blocked (<see cref="SendStatus.Blocked"/>) and
/// <see cref="WhenWritable"/> tells them when they may send again.</item>
/// </list>
/// </summary>
public sealed class VirtualNetworkStack : IFlowControlledConsumer, IPollingConsumer, IStackOutput, ITransportEntry
{
    [ThreadStatic] private static byte[]? t_inbound;
    [ThreadStatic] private static PacketDescriptor[]? t_batch;
    [ThreadStatic] private static VirtualNetworkStack? t_entered;
    [ThreadStatic] private static int t_queued; // packets of the batch in hand that went to the VSQ

    private readonly Lock _transmit; // the VNIC's transmit lock: outbound VSQ, limiter and the VNIC's sends under one
    private readonly List<Processor> _workers = new();
    private readonly List<int> _workerPollers = new(); // its index among each worker's pollers
    private RingPoller? _poller;
    private TaskCompletionSource? _writable;
    private long _backlogs;

    internal VirtualNetworkStack(Vnic vnic, StackSettings settings, TimeProvider time)
    {
        Vnic = vnic;
        _transmit = vnic.TransmitLock;
        Settings = settings;
        var frameSize = vnic.Nic.Device.MaxFrameLength;
        var inbound = new SerializationGate(settings.Policy) { HandBack = HandBack };
        Inbound = new SerializationQueue("inbound", settings.InboundThreshold, frameSize, inbound);
        Outbound = new SerializationQueue("outbound", settings.OutboundCapacity, frameSize, settings.Bidirectional ? inbound : new SerializationGate(settings.Policy));
        if (vnic.Settings.OutboundBandwidth is { } outbound) OutboundLimiter = new BandwidthLimiter(outbound, frameSize, time);
        // UDP only: several threads count at once. In the threaded mode IP (on whichever processor
        // delivers) and transport (inside the VSQ) may also count at once: the host makes the
        // counts shared then (NetworkHost.StartThreads).
        Stack = new NetworkStack(vnic.Macs[0], vnic.Ips, frameSize - 18, time, this, settings, concurrentReceive: settings.Policy == SerializationPolicy.Concurrent)
        {
            TransportEntry = this,
            TransportGate = inbound,
        };
        foreach (var group in vnic.Settings.Multicast ?? Array.Empty<System.Net.IPAddress>()) Stack.JoinGroup(NetworkAddress.From(group));
        Stack.SetRoutes(vnic.Settings.Ips ?? Array.Empty<System.Net.IPAddress>(), vnic.Settings.PrefixLengths, vnic.Settings.Gateways);
        Stack.TimerArmed = WakeWorkers;
        if (vnic.Settings.Dhcp) Stack.StartDhcp(); // `ip dhcp`: its first DISCOVER leaves with the first pump
    }

    // Its timers run in its workers' polls: a timer armed from anywhere wakes them (deterministic mode).
    private void WakeWorkers()
    {
        for (var i = 0; i < _workers.Count; i++) _workers[i].AwakenPoller(_workerPollers[i]);
    }

    /// <summary>Its workers, each with the index it has among that processor's pollers (for a wake that names it).</summary>
    internal IEnumerable<(Processor Processor, int Poller)> WorkerPollers => _workers.Zip(_workerPollers);

    // A worker found the inbound VSQ's gate taken (an application's call on its own thread) with
    // packets waiting: the thread inside wakes the workers as it leaves, so the packets go at once.
    private void HandBack()
    {
        foreach (var worker in _workers) worker.WakeForWork();
    }

    public string Name => Vnic.Name;

    public Vnic Vnic { get; }

    public StackSettings Settings { get; }

    /// <summary>The IP and transport layers: bind sockets, listen and connect here.</summary>
    public NetworkStack Stack { get; }

    public StackCounters Counters => Stack.Counters;

    /// <summary>TCP present → mutual exclusion; UDP only → concurrent.</summary>
    public SerializationPolicy Policy => Settings.Policy;

    /// <summary>The processors its VSQ worker runs on (the VNIC's, then any more it spreads over).</summary>
    public IReadOnlyList<Processor> Workers => _workers;

    internal SerializationQueue Inbound { get; }

    internal SerializationQueue Outbound { get; }

    /// <summary>The <c>outbound-bandwidth</c> allocation, if any.</summary>
    internal BandwidthLimiter? OutboundLimiter { get; }

    /// <summary>The ring poller, in polling mode.</summary>
    internal RingPoller? Poller => _poller;

    /// <summary>Times a backlog formed: packets had to wait in the inbound VSQ, or its ring was switched to polling because the VNS could not take what arrived.</summary>
    public long Backlogs => Interlocked.Read(ref _backlogs);

    /// <summary>The most packets its inbound VSQ has held.</summary>
    public int InboundHighWater => Inbound.HighWater;

    /// <summary>Packets that had to wait in the inbound VSQ.</summary>
    public long InboundQueued => Inbound.Queued;

    /// <summary>The most threads seen inside the inbound VSQ at once (1 under mutual exclusion).</summary>
    public int InboundMaxInside => Inbound.MaxInside;

    /// <summary>Entries into the inbound VSQ's gate: deliveries, worker drains, timers and application calls.</summary>
    public long InboundEntries => Inbound.Entries;

    /// <summary>The most frames its outbound VSQ has held.</summary>
    public int OutboundHighWater => Outbound.HighWater;

    /// <summary>Frames that had to wait in the outbound VSQ.</summary>
    public long OutboundQueued => Outbound.Queued;

    /// <summary>Times its ring was switched from interrupts to polling.</summary>
    public long PollingSwitches => Vnic.Ring?.PollingSwitches ?? 0;

    /// <summary>Senders told to wait because the outbound VSQ was full.</summary>
    public long BlockedSends { get; private set; }

    internal int Room => Math.Max(0, Inbound.Capacity - Inbound.Count);

    int IFlowControlledConsumer.Room => Room;

    void IFlowControlledConsumer.UsePoller(RingPoller poller) => _poller = poller;

    /// <summary>Runs its worker on <paramref name="processor"/> too (the first is the VNIC's).</summary>
    internal void AddWorker(Processor processor)
    {
        if (_workers.Contains(processor)) return;
        _workers.Add(processor);
        _workerPollers.Add(processor.AddPoller(this));
    }

    // ---- inbound -------------------------------------------------------------------------------

    /// <summary>A batch of frames is coming: if the VSQ is idle and the processor free, enter it once for the whole batch (the transport layer then runs inline).</summary>
    void IVnicConsumer.BeginBatch(Processor running)
    {
        t_queued = 0;
        if (!running.Saturated && Inbound.Count == 0 && Inbound.TryEnter()) t_entered = this;
        AcknowledgmentBatch.Enter(); // data taken inline is acknowledged once, at the end
    }

    /// <summary>The batch is over: send the ACKs its data owes, leave the VSQ if BeginBatch entered it, charge the stack work done inline, wake the workers if packets wait.</summary>
    void IVnicConsumer.EndBatch(Processor running, int frames)
    {
        try
        {
            AcknowledgmentBatch.Exit();
        }
        finally
        {
            if (t_entered == this)
            {
                t_entered = null;
                Inbound.Exit();
            }
        }
        running.ChargeStack(frames - t_queued);
        // Deterministic: its worker runs in the next round if the batch left it work — packets
        // queued in the VSQ, replies in the outbound one (a timer armed wakes it by itself, as
        // does a ring handed over to its polling). A batch taken inline to the end leaves none:
        // the worker used to run after every batch all the same, to find nothing. Threaded: its
        // thread drains what was queued.
        var owed = Outbound.Count > 0;
        for (var i = 0; i < _workers.Count; i++)
        {
            var worker = _workers[i];
            if (!worker.Threaded)
            {
                if (t_queued > 0 || owed) worker.AwakenPoller(_workerPollers[i]);
            }
            else if (t_queued > 0) worker.Wake();
        }
    }

    /// <summary>A frame from the VNIC: into the IP layer, which hands UDP and TCP on through <see cref="ITransportEntry.Submit"/>.</summary>
    void IVnicConsumer.Deliver(Vnic vnic, ReadOnlySpan<byte> frame, bool sealedByStack) => Stack.Receive(frame, sealedByStack);

    /// <summary>A packet IP has checked: on to the transport layer at once if this thread is inside the idle VSQ (true); into the VSQ otherwise.</summary>
    bool ITransportEntry.Submit(ReadOnlySpan<byte> frame)
    {
        if (t_entered == this) return true;
        var wasIdle = Inbound.Count == 0;
        if (!Inbound.TryEnqueue(frame))
        {
            Stack.CountUnprocessed(StackDropReason.QueueFull);
            return false;
        }
        t_queued++;
        if (wasIdle) Interlocked.Increment(ref _backlogs);
        return false;
    }

    /// <summary>
    /// The VSQ's worker, once on a processor it is bound to: processes a batch of the inbound
    /// backlog; when it is empty takes more from the ring (polling mode, or a ring switched to
    /// polling); runs the timers; sends what waits in the outbound VSQ. True if anything moved.
    /// </summary>
    internal bool Poll()
    {
        var progress = DrainInbound();
        if (Inbound.Count == 0) progress |= PullFromRing();
        if (Stack.TimersDue)
        {
            Interlocked.Increment(ref _timerPasses);
            using (Inbound.Enter()) progress |= Stack.Tick();
        }
        progress |= FlushOutbound();
        return progress;
    }

    // Its ring was switched to polling (it could not keep up, or the VSQ is at its threshold): a
    // backlog, unless the VSQ already held one.
    void IFlowControlledConsumer.Backlogged()
    {
        // A backlog where frames wait in the ring (a ring that drained and is handed over only to
        // take turns with other work on its processor is none).
        if (Inbound.Count == 0 && Vnic.Ring is { Count: > 0 }) Interlocked.Increment(ref _backlogs);
        WakeWorkers(); // they pull from the ring now
    }

    // One batch of the backlog, inside the VSQ (under mutual exclusion, a worker finding another
    // thread inside leaves the backlog to its next turn, which that thread's leaving wakes it for).
    private bool DrainInbound()
    {
        if (Inbound.Count == 0 || !Inbound.TryEnterOrHandBack()) return false;
        var buffer = t_inbound ??= new byte[16 * 1024];
        var moved = 0;
        try
        {
            using var batch = AcknowledgmentBatch.Open();
            while (moved < Virtualization.Processor.BatchSize && Inbound.TryDequeue(buffer, out var length))
            {
                Stack.ReceiveTransport(buffer.AsSpan(0, length));
                moved++;
            }
        }
        finally
        {
            Inbound.Exit();
        }
        (Virtualization.Processor.Running ?? Vnic.Processor).ChargeStack(moved);
        if (moved > 0) Vnic.RoomMade(); // frames waiting in its flows' queues may go now
        return moved > 0;
    }

    // The ring is in polling mode (a poller, or switched at a backlog): one batch through the
    // ring's poll entry point, up to the VSQ's room; a drained ring goes back to interrupts.
    private bool PullFromRing()
    {
        // One puller at a time: each takes as many frames as the VSQ has room for, so two workers
        // pulling at once would both count the same room and overfill it (QueueFull drops). A
        // worker finding another pulling leaves the ring to it. A ring on interrupts is not ours
        // to poll: looked at first, without the flag (the common case, every round).
        if (_poller is null && Vnic.Ring is not { InterruptsEnabled: false }) return false;
        if (Interlocked.CompareExchange(ref _pulling, 1, 0) != 0) return false;
        try
        {
            return PullFromRingAlone();
        }
        finally
        {
            Volatile.Write(ref _pulling, 0);
        }
    }

    private int _pulling;

    private bool PullFromRingAlone()
    {
        if (_poller is { } poller) return poller.Poll(Room);
        var ring = Vnic.Ring;
        if (ring is null || ring.InterruptsEnabled) return false; // not ours to poll
        var room = Room;
        if (ring.Count == 0 || room == 0)
        {
            if (ring.Count == 0) ring.InterruptControl(true); // drained meanwhile: back to interrupts
            return false;
        }
        var batch = t_batch ??= new PacketDescriptor[Virtualization.Processor.BatchSize];
        (Virtualization.Processor.Running ?? Vnic.Processor).ChargePoll();
        var n = ring.PollEntry(batch.AsSpan(0, Math.Min(room, batch.Length)), long.MaxValue, out var waiting);
        if (n > 0) Vnic.Receive(ring, batch.AsSpan(0, n));
        if (waiting == 0) ring.InterruptControl(true);
        return n > 0;
    }

    // ---- outbound ------------------------------------------------------------------------------

    /// <summary>A frame, as it is (any frame, even a forged one: summed where it lands): sent now if nothing waits and the allocation allows; queued if there is room; blocked otherwise.</summary>
    public SendStatus Send(ReadOnlySpan<byte> frame) => Send(frame, sealedByStack: false);

    // The stack's output: a frame it built, its checksums sealed (summed again only where it does
    // not land in the very bytes it left in). Not the public Send: a frame any caller hands in is
    // no stack's (found by review: a forged frame sent through it was taken unsummed).
    SendStatus IStackOutput.Send(ReadOnlySpan<byte> frame) => Send(frame, sealedByStack: true);

    private SendStatus Send(ReadOnlySpan<byte> frame, bool sealedByStack)
    {
        Virtualization.Processor.Running?.ChargeTransmit(); // built on a processor (a reply, a segment): its cost is that processor's
        lock (_transmit)
        {
            if (Outbound.Count == 0)
            {
                var status = TryTransmit(frame, sealedByStack);
                if (status != SendStatus.Blocked) return status; // sent, or dropped with its reason
            }
            if (Outbound.TryEnqueue(frame))
            {
                WakeWorkers(); // its worker sends it as credit and ring room allow
                return SendStatus.Queued;
            }
            BlockedSends++;
            return SendStatus.Blocked;
        }
    }

    /// <summary>The host is disposed: a sender waiting for room (<see cref="WhenWritable"/>) looks again, and finds its socket closed.</summary>
    internal void ReleaseWriters()
    {
        TaskCompletionSource? writable;
        lock (_transmit)
        {
            writable = _writable;
            _writable = null;
        }
        if (writable is not null) ApplicationContext.SetResult(writable);
    }

    /// <summary>Completes when the outbound VSQ has room again (at once if it has room now).</summary>
    public Task WhenWritable()
    {
        lock (_transmit)
        {
            if (Outbound.Count < Outbound.Capacity) return Task.CompletedTask;
            return (_writable ??= ApplicationContext.NewWait()).Task;
        }
    }

    private bool FlushOutbound()
    {
        if (Outbound.Count == 0) return false;
        TaskCompletionSource? writable = null;
        var moved = 0;
        using (Outbound.Enter())
        {
            lock (_transmit)
            {
                while (Outbound.Count > 0)
                {
                    var status = TryTransmit(Outbound.Peek(), sealedByStack: false); // a frame that waited: whoever queued it, summed where it lands
                    if (status == SendStatus.Blocked) break;
                    if (StackDropReasons.Of(status) is { } reason) Stack.Counters.DropSend(reason);
                    Outbound.DropHead();
                    moved++;
                }
                if (moved > 0 && _writable is not null)
                {
                    writable = _writable;
                    _writable = null;
                }
            }
        }
        if (writable is not null) ApplicationContext.SetResult(writable);
        return moved > 0;
    }

    // Sent, Blocked (held back by the allocation or a full transmit ring: it waits), or dropped
    // by the VNIC with its reason.
    private SendStatus TryTransmit(ReadOnlySpan<byte> frame, bool sealedByStack)
    {
        var limiter = OutboundLimiter;
        if (limiter is not null && !limiter.CanConsume(frame.Length)) return SendStatus.Blocked;
        var status = Vnic.Transmit(frame, sealedByStack);
        if (status == SendStatus.Sent) limiter?.Consume(frame.Length);
        return status;
    }

    bool IPollingConsumer.Poll() => Poll();

    // A backlog in its VSQ, or frames in its ring where it polls the ring (mode polling, or a ring
    // handed to it) with room to take them.
    bool IPollingConsumer.FramesWaiting =>
        Inbound.Count > 0 || (_poller is { } poller ? poller.FramesWaiting && Room > 0 : Vnic.Ring is { InterruptsEnabled: false, Count: > 0 } && Room > 0);

    /// <summary>Polls that entered the VSQ to run the stack's timers (one may be due): a cost to keep to when one is.</summary>
    internal long TimerPasses => Volatile.Read(ref _timerPasses);

    private long _timerPasses;

    /// <summary>When the VNS next has work that only time brings: a stack timer, credit for a frame waiting in its ring (polling) or in its outbound VSQ.</summary>
    internal long NextDue()
    {
        var due = Stack.NextDue();
        if (_poller is { } poller) due = Math.Min(due, poller.NextDue());
        if (OutboundLimiter is { } limiter && Outbound.Count > 0) due = Math.Min(due, limiter.ReadyAt(Outbound.Peek().Length));
        return due;
    }

    long IPollingConsumer.NextDue() => NextDue();

    public override string ToString() => $"VNS '{Name}' ({Policy})";
}
