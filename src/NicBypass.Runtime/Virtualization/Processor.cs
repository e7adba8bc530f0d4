using System.Collections.Concurrent;
using NicBypass.Runtime.Packets;
using NicBypass.Runtime.Rings;

namespace NicBypass.Runtime.Virtualization;

/// <summary>
/// One of the host's processors. Rings raise interrupts here (hardware for HRRs, software for
/// SRRs); servicing an interrupt drains the ring into its client in batches of
/// <see cref="BatchSize"/>. Polling consumers (VSQs in polling mode) run here too.
///
/// In the deterministic mode the host calls <see cref="RunOnce"/> for every processor in turn on
/// one thread; in the threaded mode each processor has a thread of its own that waits for
/// interrupts, and a real wire's reader may run its steps at the end of a burst instead of waking
/// that thread (<see cref="TryRunInline"/>; one thread runs a processor at a time, and work done
/// there is not on the processor's pinned core). Pending interrupts sit in a concurrent queue, so
/// the NIC (the producer) never blocks on a processor.
/// </summary>
public sealed class Processor : IInterruptTarget
{
    /// <summary>Descriptors moved per call from a ring to its client.</summary>
    public const int BatchSize = 32;

    private readonly ConcurrentQueue<ReceiveRing> _pending = new();
    private readonly List<IPollingConsumer> _pollers = new();
    // Deterministic mode with costs: which pollers run at its next step. A wake that names its
    // poller (a VSQ's batch, a ring polled by a VNS) marks that one; any other wake, a deadline
    // and a public entry point mark them all. A poller that moved runs again at the next step.
    // So a processor that serves dozens of tenants runs the one with work, not all of them.
    private ulong[] _ready = new ulong[1];
    private int _readyAll = 1;
    // Each poller's time (NextDue) as it was after its last run: all a poller's times change in
    // its own runs or come with a wake that marks it, so while it is not marked this is still its
    // time. Sleeping reads the array instead of asking every poller; a deadline marks those due.
    // Kept in the rounds with costs only (the threaded and free modes ask the pollers).
    private long[] _pollerDue = new long[1];
    private long _earliestPollerDue = long.MaxValue; // at most the earliest of them not marked yet: a deadline before it marks nobody
    private ulong[] _readySaved = new ulong[1]; // the Debug check's copies of the marks and times
    private long[] _dueSaved = new long[1];
    // Marks its own pollers make, on the rounds' thread, for pollers of this processor while they
    // run: they count only if the step moved (as a wake during a step that moved did before the
    // marks); otherwise the pollers they name have their times looked at afresh and that is all,
    // or a poller that re-arms its own timer each run, moving nothing, would keep it from sleeping.
    private bool _inPollers;
    private bool _checkAll; // the Debug check's run: every poller, marked or not
    private ulong[] _stepMarks = new ulong[1];
    private bool _stepMarkedAll;
    private readonly PacketDescriptor[] _batch = new PacketDescriptor[BatchSize];
    // Threaded mode's doorbell: set by an interrupt or a wake, reset by the thread before it looks
    // for work. It never spins: on a machine with fewer cores than busy threads, a spinning
    // waiter takes the core from the thread that would have woken it.
    private readonly ManualResetEventSlim _signal = new(false, spinCount: 0);

    [ThreadStatic] private static Processor? t_running;
    [ThreadStatic] private static List<Processor>? t_deferredWakes; // a real wire's burst: interrupted, not yet woken
    // Threaded mode: held while a step runs, by the processor's own thread or by a real wire's
    // reader running it inline (TryRunInline); one thread runs a processor at a time.
    private readonly Lock _stepping = new();
    private readonly List<ReceiveRing> _polled = new(); // rings switched to polling (dynamic polling)
    private int _nextPolled;
    private long _busyUntil; // ns: the processor is running what it took on until then (cost model)
    private double _charged;  // ns charged to the work in progress

    private readonly string? _name;

    internal Processor(int id, string? name = null)
    {
        Id = id;
        _name = name;
    }

    /// <summary>What each stage costs this processor; <see cref="CostTable.Free"/> runs everything at once.</summary>
    internal CostTable Costs
    {
        get => _costs;
        set
        {
            _costs = value;
            _free = value.IsFree;
            MarkAllReady(); // the pollers' times are looked at afresh (see _pollerDue)
        }
    }

    private CostTable _costs = CostTable.Free;
    private bool _free = true;

    /// <summary>
    /// Dynamic polling (Crossbow): under the cost model, a ring that still holds frames after its
    /// processor took a batch is switched to polling — its interrupt off, the processor taking
    /// batches on its own schedule — and back to interrupts once it is drained. Off
    /// (<c>--interrupts-only</c>), every batch is taken in answer to an interrupt of its own.
    /// </summary>
    internal bool DynamicPolling { get; set; } = true;

    /// <summary>The host's clock (for the cost model's busy time).</summary>
    internal TimeProvider? Clock { get; set; }

    /// <summary>Nanoseconds of datapath work charged to this processor under the cost model.</summary>
    public long BusyNanoseconds { get; private set; }

    /// <summary>Times the deterministic mode's scheduler ran it: only a processor with work, or whose deadline came, is run.</summary>
    internal long Runs { get; set; }

    /// <summary>Busy time done by <paramref name="now"/>: what it has taken on, less the part of its current step (or a preempting interrupt) that still lies ahead.</summary>
    internal long BusyBy(long now) => BusyNanoseconds - Math.Max(0, _busyUntil - now);

    /// <summary>Polls of a ring's poll entry point run on this processor.</summary>
    public long Polls { get; private set; }

    /// <summary>Where the processor is in its current step (ns): the step's start plus what it has charged so far — when the frame it is handling now is done.</summary>
    internal long Now => _stepStart + (long)_charged;

    private long _stepStart;
    private bool _pollersTurn;

    /// <summary>Until when (ns on the host's clock) the processor is busy with work it has taken on.</summary>
    internal long BusyUntil => _busyUntil;

    /// <summary>The processor running datapath work on this thread now (costs are charged to it), if any.</summary>
    internal static Processor? Running => t_running;

    /// <summary>Moving frames from a ring to a VNIC and on (the hand-off and the copy).</summary>
    internal void ChargeFrames(int frames, long bytes) =>
        _charged += frames * Costs.FrameNanoseconds + bytes * Costs.CopyNanosecondsPerByte;

    /// <summary>A stack's IP and transport work for <paramref name="frames"/> frames (a VNS's, or a VM's guest stack on its vCPU).</summary>
    internal void ChargeStack(int frames) => _charged += frames * (double)Costs.StackNanoseconds;

    /// <summary>Taking an interrupt (a VM's virtual interrupt on its vCPU).</summary>
    internal void ChargeInterrupt()
    {
        SoftwareInterrupts++;
        _charged += Costs.InterruptNanoseconds;
    }

    /// <summary>Sending a frame a stack built while this processor runs it.</summary>
    internal void ChargeTransmit() => _charged += Costs.TransmitNanoseconds;

    internal void ChargePoll()
    {
        Polls++;
        _charged += Costs.PollNanoseconds;
    }

    void IInterruptTarget.ChargeClassification(int frames) => _charged += frames * (double)Costs.ClassifyNanoseconds;

    // Interrupts only, under the cost model: a NIC without moderation interrupts for every frame,
    // and the interrupt preempts whatever the processor is doing — the time it takes is lost to
    // the work under way (receive livelock, Mogul & Ramakrishnan 1997).
    void IInterruptTarget.FrameArrived(ReceiveRing ring)
    {
        if (DynamicPolling || Costs.IsFree || ring.InterruptKind != InterruptKind.Hardware) return;
        HardwareInterrupts++;
        var now = Clock is { } clock ? VirtualClock.ToNanoseconds(clock, clock.GetTimestamp()) : 0;
        _busyUntil = Math.Max(_busyUntil, now) + Costs.InterruptNanoseconds;
        BusyNanoseconds += Costs.InterruptNanoseconds;
    }

    public int Id { get; }

    /// <summary>In threaded mode, the machine CPU its thread is pinned to (null: not pinned — not Linux, or refused).</summary>
    public int? PinnedCpu { get; internal set; }

    public long HardwareInterrupts { get; private set; }

    public long SoftwareInterrupts { get; private set; }

    internal IReadOnlyList<IPollingConsumer> Pollers => _pollers;

    /// <summary>Set while a thread of the threaded mode owns this processor.</summary>
    internal bool Threaded
    {
        get => _threaded;
        set
        {
            _threaded = value;
            if (!value) MarkAllReady(); // back to rounds: the pollers' times are looked at afresh (see _pollerDue)
        }
    }

    private bool _threaded;

    void IInterruptTarget.RaiseInterrupt(ReceiveRing ring) => RaiseInterrupt(ring);

    internal void RaiseInterrupt(ReceiveRing ring)
    {
        if (ring.InterruptKind == InterruptKind.Hardware) HardwareInterrupts++;
        else SoftwareInterrupts++;
        _pending.Enqueue(ring);
        if (Threaded) Signal();
        else WakeForInterrupt();
    }

    /// <summary>A ring whose MSI vector is already raised on this processor joins the handler pass: serviced, with no interrupt of its own.</summary>
    internal void JoinInterrupt(ReceiveRing ring)
    {
        _pending.Enqueue(ring);
        if (Threaded) Signal();
        else WakeForInterrupt();
    }

    // Deterministic mode: the interrupt is its work (pending, serviced before any poller), not
    // a poller's: the pollers it gives work to (a VSQ's worker) are woken by name as it does.
    private void WakeForInterrupt() => WakeUnlessBusy();

    // Deterministic mode: a processor busy past now takes new work when it frees up — woken now,
    // it would only find itself busy and go back to sleep. Asleep (on the rounds' thread), it is
    // left asleep with its deadline brought forward to that time if it was later; any other is woken.
    private void WakeUnlessBusy()
    {
        if (_runQueue is not { } queue) return;
        if (!_free && Clock is { } clock && _busyUntil > VirtualClock.ToNanoseconds(clock, clock.GetTimestamp())
            && queue.SleepUntilAtMost(_runIndex, _busyUntil))
        {
            return;
        }
        queue.Wake(_runIndex);
    }

    // Threaded mode: an interrupt wakes the processor's thread, unless a real wire's burst is
    // being read on this thread (then the burst's end runs it or wakes it).
    private void Signal()
    {
        if (t_deferredWakes is { } deferred)
        {
            if (!deferred.Contains(this)) deferred.Add(this);
            return;
        }
        _signal.Set();
    }

    /// <summary>
    /// Threaded mode, a real wire's reader: interrupts raised on this thread from now on wake no
    /// thread but are collected in <paramref name="interrupted"/>, for <see cref="TryRunInline"/>
    /// or <see cref="Wake"/> when the burst ends; null goes back to waking at once.
    /// </summary>
    internal static void DeferWakes(List<Processor>? interrupted) => t_deferredWakes = interrupted;

    /// <summary>Steps one inline run takes at most before it leaves the rest to the processor's own thread.</summary>
    internal const int InlineSteps = 8;

    /// <summary>
    /// Threaded mode: runs this processor's steps on the calling thread (a real wire's reader, in
    /// the interrupt's context) while no other thread is running it, each under the processor's
    /// step lock, with <paramref name="afterStep"/> after each outside the lock (the caller's
    /// transmit drain); false, having run nothing, if its thread (or another reader) was running
    /// it. After <see cref="InlineSteps"/> steps, or with interrupts raised meanwhile, its thread
    /// is woken for the rest; rings it polls wait for its thread's poll, as ever.
    /// </summary>
    internal bool TryRunInline(Action afterStep)
    {
        for (var steps = 0; ; )
        {
            // Taken by another thread: that thread runs it until it has nothing left.
            if (!_stepping.TryEnter()) return steps > 0;
            bool worked;
            try
            {
                worked = RunAsCurrent();
                if (worked && steps == 0) InlineRuns++;
            }
            finally
            {
                _stepping.Exit();
            }
            afterStep();
            if (!worked) break;
            if (++steps == InlineSteps)
            {
                _signal.Set();
                return true;
            }
        }
        if (!_pending.IsEmpty) _signal.Set();
        return true;
    }

    /// <summary>Threaded mode: bursts whose interrupts a real wire's reader serviced itself (running at least one of this processor's steps), instead of waking its thread.</summary>
    internal long InlineRuns { get; private set; }

    private RunQueue? _runQueue;
    private int _runIndex;

    /// <summary>Deterministic mode: the host's scheduler runs this processor as number <paramref name="index"/>.</summary>
    internal void Schedule(RunQueue queue, int index)
    {
        _runQueue = queue;
        _runIndex = index;
    }

    /// <summary>
    /// Deterministic mode: it has work now (an interrupt, a frame in a ring it polls, a packet in
    /// a VSQ it works for, a send): the host's scheduler runs it in the next round. The threaded
    /// mode wakes threads instead (<see cref="Wake"/>).
    /// </summary>
    internal void Awaken()
    {
        if (Threaded) return;
        MarkAllReady();
        WakeUnlessBusy();
    }

    /// <summary>Deterministic mode: poller <paramref name="poller"/> (as <see cref="AddPoller"/> numbered it) has work now; it runs in the next round.</summary>
    internal void AwakenPoller(int poller)
    {
        if (Threaded) return;
        MarkReady(poller);
        WakeUnlessBusy();
    }

    /// <summary>No poller's turn is named by the wake: at its next step it runs every one.</summary>
    internal void MarkAllReady()
    {
        if (InOwnPollers)
        {
            _stepMarkedAll = true;
            return;
        }
        if (Volatile.Read(ref _readyAll) == 0) Interlocked.Exchange(ref _readyAll, 1);
    }

    // Running its pollers, and the caller is one of them (this processor's run on this thread), not an application.
    private bool InOwnPollers => _inPollers && ReferenceEquals(t_running, this);

    /// <summary>Stands for no poller in <see cref="AwakenToPoll"/>: only the rings it polls itself (<see cref="PollBacklogged"/>).</summary>
    internal const int RingsOnly = -2;

    // poller: its index; -1: all of them; RingsOnly: none. From any thread (an application's
    // call): the mark is made before the run queue's wake, which fences it for the rounds' thread.
    private void MarkReady(int poller)
    {
        if (poller == RingsOnly) return;
        if (poller < 0)
        {
            MarkAllReady();
            return;
        }
        if (InOwnPollers)
        {
            _stepMarks[poller >> 6] |= 1UL << poller;
            return;
        }
        MarkReadyNow(poller);
    }

    private void MarkReadyNow(int poller)
    {
        ref var word = ref _ready[poller >> 6];
        var bit = 1UL << poller;
        if ((Volatile.Read(ref word) & bit) == 0) Interlocked.Or(ref word, bit);
    }

    private bool IsMarked(int poller) => (Volatile.Read(ref _ready[poller >> 6]) & 1UL << poller) != 0;

    /// <summary>
    /// Deterministic mode: a frame went into a ring it polls. A processor busy past now, asleep
    /// until it frees up (or earlier), takes the frame then: waking it would only put it back to
    /// sleep. Any other is woken — free, or busy without a deadline that brings it back (charged
    /// while asleep, or a cost model switched off since).
    /// </summary>
    /// <param name="poller">The poller that will take the frame (its index), -1 when any may, or
    /// <see cref="RingsOnly"/> for a ring it polls itself.</param>
    internal void AwakenToPoll(int poller = -1)
    {
        if (Threaded) return;
        MarkReady(poller);
        WakeUnlessBusy();
    }

    /// <summary>It has work it can do now but did not take in its last step (free, with interrupts pending or backlogged rings to poll).</summary>
    internal bool HasWorkNow(long now) => now >= _busyUntil && WorkWaits;

    // A poller marked to run (deterministic mode with costs: see _ready).
    private bool AnyPollerReady
    {
        get
        {
            if (!UsesDueTimes) return false;
            if (Volatile.Read(ref _readyAll) != 0) return _pollers.Count > 0;
            foreach (var word in _ready)
            {
                if (word != 0) return true;
            }
            return false;
        }
    }

    private bool UsesDueTimes => !Threaded && !_free;

    /// <summary>
    /// The Debug check of sleepers: runs once with every poller marked; when nothing moved, the
    /// marks are put back as they were, so the check changes nothing the datapath owes.
    /// </summary>
    internal bool RunOnceWithEveryPoller()
    {
        var readyAll = _readyAll;
        if (_readySaved.Length != _ready.Length) _readySaved = new ulong[_ready.Length];
        if (_dueSaved.Length != _pollerDue.Length) _dueSaved = new long[_pollerDue.Length];
        _ready.CopyTo(_readySaved, 0);
        _pollerDue.CopyTo(_dueSaved, 0);
        var earliest = _earliestPollerDue;
        _checkAll = true; // not a mark: a busy processor would keep it past the check
        bool moved;
        try
        {
            moved = RunOnce();
        }
        finally
        {
            _checkAll = false;
        }
        if (!moved)
        {
            // Added back to what came meanwhile (an application's wake during the run stays), and
            // the times as they were: the check leaves the datapath's state as it found it.
            if (readyAll != 0) MarkAllReady();
            for (var w = 0; w < _readySaved.Length; w++)
            {
                if (_readySaved[w] != 0) Interlocked.Or(ref _ready[w], _readySaved[w]);
            }
            _dueSaved.CopyTo(_pollerDue, 0);
            _earliestPollerDue = earliest;
        }
        return moved;
    }

    /// <summary>Its deadline came (the run queue woke it): the pollers whose time it was run at its next step.</summary>
    internal void MarkDue(long now)
    {
        if (!UsesDueTimes)
        {
            MarkAllReady();
            return;
        }
        if (now < _earliestPollerDue) return; // the usual case: its deadline was the end of a busy step
        var earliest = long.MaxValue;
        var times = _pollerDue;
        for (var i = 0; i < _pollers.Count; i++)
        {
            var due = times[i];
            if (due <= now) MarkReady(i); // its time is written again when it runs
            else if (due < earliest) earliest = due;
        }
        _earliestPollerDue = earliest;
    }

    /// <summary>Adds a poller; returns its index, for <see cref="AwakenPoller"/>.</summary>
    internal int AddPoller(IPollingConsumer poller)
    {
        _pollers.Add(poller);
        if (_pollers.Count > _ready.Length * 64)
        {
            Array.Resize(ref _ready, _ready.Length * 2);
            Array.Resize(ref _stepMarks, _ready.Length);
        }
        if (_pollers.Count > _pollerDue.Length) Array.Resize(ref _pollerDue, _pollerDue.Length * 2);
        _pollerDue[_pollers.Count - 1] = long.MaxValue;
        MarkAllReady();
        return _pollers.Count - 1;
    }

    /// <summary>
    /// Services pending interrupts and runs the pollers; true if anything moved. Without costs it
    /// services every pending interrupt and runs every poller once. With costs it takes one step
    /// — a batch of one pending interrupt (interrupts come first), else one round of its pollers —
    /// charges what the step cost and is then busy until that much time has passed: work that
    /// arrives meanwhile waits in its ring.
    /// </summary>
    internal bool RunOnce()
    {
        // Deterministic and free: nothing is charged and nothing queues, so nobody asks who runs.
        if (!Threaded && _free) return RunAll();
        if (!Threaded) return RunAsCurrent();
        lock (_stepping) return RunAsCurrent();
    }

    private bool RunAsCurrent()
    {
        var outer = t_running;
        t_running = this;
        try
        {
            return _free ? RunAll() : RunStep();
        }
        finally
        {
            t_running = outer;
        }
    }

    private bool RunStep()
    {
        var now = Clock is { } clock ? VirtualClock.ToNanoseconds(clock, clock.GetTimestamp()) : 0;
        if (now < _busyUntil) return false;
        _charged = 0;
        _stepStart = now;
        // Interrupts first, then the rings it polls because they backed up, then its pollers.
        // Backlogged rings and the pollers take turns — each ring one, then the pollers one — so
        // a flooded ring cannot starve the timers and outbound queues of the other tenants on
        // this processor, and the pollers (a VSQ's worker pulling its own ring) get a tenant's
        // share, not one turn in two whatever the number of rings (two VMs and a container got
        // 23, 23 and 41 thousand frames: found by review).
        bool progress;
        if (_pending.TryDequeue(out var ring)) progress = ServiceBatch(ring);
        else if (_polled.Count > 0 && (_pollers.Count == 0 || !_pollersTurn))
        {
            progress = PollBacklogged();
            if (_nextPolled >= _polled.Count) _pollersTurn = true; // every backlogged ring had its turn
        }
        else
        {
            progress = RunPollers();
            _pollersTurn = false;
        }
        if (_charged > 0)
        {
            var busy = (long)Math.Ceiling(_charged);
            _busyUntil = now + busy;
            BusyNanoseconds += busy;
        }
        return progress;
    }

    // One batch of an interrupting ring, through its poll entry point: the interrupt stays
    // asserted while frames remain (interrupt blanking), so the rest comes in the next step
    // without another interrupt.
    private bool ServiceBatch(ReceiveRing ring)
    {
        // Work that waited on this processor before this batch (not what the batch itself gives
        // a poller: a polling VNIC behind a software ring is marked by every frame it gets).
        var othersWaited = DynamicPolling && !_free && ring.InterruptsEnabled && FramesWaitElsewhere();
        _charged += Costs.InterruptNanoseconds;
        var client = ring.Client!;
        // Interrupts only, nothing switches to polling: the handler takes a batch whether or not
        // its client has room (a VNS whose VSQ is full drops what does not fit, counted), as an
        // interrupt-driven kernel drops at a full backlog queue — the receive livelock.
        var room = DynamicPolling ? client.Room : _batch.Length;
        var batch = _batch.AsSpan(0, Math.Min(_batch.Length, Math.Max(room, 0)));
        var waiting = 1;
        var n = batch.Length > 0 ? ring.PollEntry(batch, long.MaxValue, out waiting) : 0;
        try
        {
            if (n > 0) Hand(client, ring, batch.Slice(0, n), saturated: waiting > 0 || !_pending.IsEmpty);
        }
        catch
        {
            // User code threw on the way (the VNIC has counted the batch): the interrupt is
            // serviced all the same, so the ring interrupts again for what it still holds.
            ring.InterruptServiced();
            throw;
        }
        if (waiting > 0 && client.Room > 0)
        {
            if (DynamicPolling && ring.InterruptsEnabled)
            {
                // It could not keep up: poll the ring until it drains, with its interrupt off.
                SwitchToPolling(ring, client);
                ring.InterruptServiced();
                return true;
            }
            ring.InterruptServiced(); // interrupts only: what is left raises the next interrupt
            return true;
        }
        if (client.Room <= 0 && waiting > 0 && DynamicPolling)
        {
            // Its client is full (a VNS's inbound VSQ at its threshold): the ring switches to
            // polling and keeps the rest until the client drains and takes them.
            ring.InterruptControl(false);
            ring.PollingSwitches++;
            client.Backlogged();
        }
        else if (DynamicPolling && ring.InterruptsEnabled && (client.BackedUp || othersWaited))
        {
            // The ring kept up, but what it feeds did not (a software ring's SRR went to polling:
            // a consumer behind it cannot keep up), or other work waited on this processor (a
            // ring it polls, a VSQ's worker with packets). Its interrupts, served first, would
            // leave that work no turn for as long as its frames come faster than the processor
            // frees up: two containers behind a software ring delivered nothing at 0.8 Gbit/s of
            // 64-byte frames, and a busy VM starved a container on its processor, 90 of 610,351
            // frames (both found by new users' drives; receive livelock of a poller, Mogul &
            // Ramakrishnan). It goes to polling too, taking turns, and back to interrupts once drained.
            SwitchToPolling(ring, client);
        }
        ring.InterruptServiced();
        return true;
    }

    // Dynamic polling: the ring's interrupt off, polled until it drains — by its client, if that
    // polls for itself (a VNS: when its VSQ has drained), or by this processor.
    private void SwitchToPolling(ReceiveRing ring, IReceiveRingClient client)
    {
        ring.InterruptControl(false);
        ring.PollingSwitches++;
        if (client.PollsItself) client.Backlogged();
        else AddPolled(ring);
    }

    // A ring joins those it polls just behind the turn: every other backlogged ring goes before
    // it. Appended where the turn stood, a ring that drained at once and interrupted again took
    // every turn — two VMs on one processor, one got 169 of 61,035 frames (found by review).
    private void AddPolled(ReceiveRing ring)
    {
        if (_polled.Contains(ring)) return;
        if (_nextPolled > _polled.Count) _nextPolled = _polled.Count;
        _polled.Insert(_nextPolled, ring);
        _nextPolled++;
    }

    // Frames wait on this processor for something other than an interrupt: in a ring it polls, or
    // for a poller marked to run (only marked ones are asked: a poller with work is marked; in
    // the threaded mode, which keeps no marks, every poller is asked).
    private bool FramesWaitElsewhere()
    {
        foreach (var polled in _polled)
        {
            if (polled.Count > 0) return true;
        }
        if (!UsesDueTimes)
        {
            foreach (var poller in _pollers)
            {
                if (poller.FramesWaiting) return true;
            }
            return false;
        }
        var all = Volatile.Read(ref _readyAll) != 0;
        for (var w = 0; w < _ready.Length; w++)
        {
            var bits = all ? ulong.MaxValue : Volatile.Read(ref _ready[w]);
            while (bits != 0)
            {
                var i = (w << 6) + System.Numerics.BitOperations.TrailingZeroCount(bits);
                if (i >= _pollers.Count) break;
                bits &= bits - 1;
                if (_pollers[i].FramesWaiting) return true;
            }
        }
        return false;
    }

    // Hands a batch to the ring's client; `saturated` says this processor has more work waiting
    // (the ring holds more, or other interrupts are pending), so a VNS should queue rather than
    // process inline (its worker drains the queue when the processor gets to it).
    private void Hand(IReceiveRingClient client, ReceiveRing ring, ReadOnlySpan<PacketDescriptor> batch, bool saturated)
    {
        // Deterministic and free, everything runs at once anyway: inline is the same and cheaper.
        Saturated = saturated && (Threaded || !_free);
        try
        {
            client.Receive(ring, batch);
        }
        finally
        {
            Saturated = false;
        }
    }

    /// <summary>Set while this processor hands a batch on with more work waiting behind it: a serialization queue then queues instead of processing inline.</summary>
    internal bool Saturated { get; private set; }

    // One batch from the next backlogged ring; a drained ring goes back to interrupt mode.
    private bool PollBacklogged()
    {
        if (_nextPolled >= _polled.Count) _nextPolled = 0;
        var ring = _polled[_nextPolled];
        if (ring.InterruptsEnabled)
        {
            // Its owner (a VNS that drained it) switched it back to interrupts already.
            _polled.RemoveAt(_nextPolled);
            return false;
        }
        ChargePoll();
        var client = ring.Client!;
        var room = Math.Max(client.Room, 0);
        var waiting = 1;
        var n = room > 0 ? ring.PollEntry(_batch.AsSpan(0, Math.Min(_batch.Length, room)), long.MaxValue, out waiting) : 0;
        if (n > 0) Hand(client, ring, _batch.AsSpan(0, n), saturated: waiting > 0);
        if (waiting == 0 || room == 0)
        {
            _polled.RemoveAt(_nextPolled);
            if (waiting == 0) ring.InterruptControl(true);
            else client.Backlogged(); // its client is full: it takes the ring over (a VNS at its threshold)
        }
        else
        {
            _nextPolled++;
        }
        return n > 0;
    }

    private bool RunPollers()
    {
        var progress = false;
        if (Threaded)
        {
            foreach (var poller in _pollers) progress |= poller.Poll();
            return progress;
        }
        // Times that came while it was awake for others (the run queue counts a deadline only
        // for a sleeper), then the marked ones, in the order they were added (as a run of all of
        // them would go).
        MarkDue(_stepStart);
        var all = (Volatile.Read(ref _readyAll) != 0 && Interlocked.Exchange(ref _readyAll, 0) != 0) | _checkAll;
        var ready = _ready;
        _inPollers = true;
        var done = false;
        try
        {
            progress = RunMarked(ready, all);
            done = true;
        }
        finally
        {
            _inPollers = false;
            // User code threw: the marks taken for this step are gone with it, so every poller
            // looks again at the next (as before the marks, when each step ran them all).
            if (!done) MarkAllReady();
            SettleStepMarks(progress || !done);
        }
        return progress;
    }

    private bool RunMarked(ulong[] ready, bool all)
    {
        var progress = false;
        for (var w = 0; w < ready.Length; w++)
        {
            var bits = Volatile.Read(ref ready[w]);
            if (bits != 0) bits = Interlocked.Exchange(ref ready[w], 0);
            if (all)
            {
                var count = _pollers.Count - (w << 6);
                bits = count >= 64 ? ulong.MaxValue : count > 0 ? (1UL << count) - 1 : 0;
            }
            while (bits != 0)
            {
                var i = (w << 6) + System.Numerics.BitOperations.TrailingZeroCount(bits);
                bits &= bits - 1;
                var poller = _pollers[i];
                var moved = poller.Poll();
                RefreshDue(i);
                if (!moved) continue;
                progress = true;
                if (poller.HasMoreNow) MarkReadyNow(i); // it moved and has more: at the next step
            }
        }
        return progress;
    }

    // The marks this step's pollers made here: kept for the next step if the step moved; else
    // only the named pollers' times are looked at again (a timer one of them armed).
    private void SettleStepMarks(bool progress)
    {
        if (_stepMarkedAll)
        {
            _stepMarkedAll = false;
            if (progress) MarkAllReady();
            else
            {
                for (var i = 0; i < _pollers.Count; i++) RefreshDue(i);
            }
        }
        for (var w = 0; w < _stepMarks.Length; w++)
        {
            var bits = _stepMarks[w];
            if (bits == 0) continue;
            _stepMarks[w] = 0;
            if (progress)
            {
                Interlocked.Or(ref _ready[w], bits);
                continue;
            }
            while (bits != 0)
            {
                RefreshDue((w << 6) + System.Numerics.BitOperations.TrailingZeroCount(bits));
                bits &= bits - 1;
            }
        }
    }

    private void RefreshDue(int poller)
    {
        var due = _pollerDue[poller] = _pollers[poller].NextDue();
        if (due < _earliestPollerDue) _earliestPollerDue = due;
    }

    // Without costs: every pending interrupt drained, every poller run once.
    private bool RunAll()
    {
        var progress = false;
        var batch = _batch.AsSpan();
        while (_pending.TryDequeue(out var ring))
        {
            var client = ring.Client!;
            var poll = ring.PollEntry;
            int n, room, waiting = 0;
            try
            {
                while ((room = client.Room) > 0 && (n = poll(room >= batch.Length ? batch : batch.Slice(0, room), long.MaxValue, out waiting)) > 0)
                {
                    Hand(client, ring, batch.Slice(0, n), saturated: waiting > 0);
                    if (waiting == 0) break;
                }
            }
            catch
            {
                ring.InterruptServiced(); // as in ServiceBatch: user code threw, the ring may interrupt again
                throw;
            }
            if (room <= 0 && (waiting > 0 || ring.Count > 0))
            {
                // The client is full (a VNS's inbound VSQ at its threshold): the ring switches to
                // polling and keeps the rest until the client drains and takes them.
                ring.InterruptControl(false);
                ring.PollingSwitches++;
                client.Backlogged();
            }
            ring.InterruptServiced();
            progress = true;
        }
        var more = false;
        foreach (var poller in _pollers)
        {
            if (!poller.Poll()) continue;
            progress = true;
            // Only the deterministic mode asks (MustRunAgain): a threaded loop runs again while it
            // moves, and the answer may read state another thread changes under its own lock (a
            // guest's bandwidth credit; found by review).
            if (!Threaded) more |= poller.HasMoreNow;
        }
        _pollersMoved = more;
        return progress;
    }

    // No costs: its last run ran every poller, and one that moved says it has more now.
    private bool _pollersMoved;

    /// <summary>
    /// After a run of the deterministic mode: whether it must run again before it sleeps — work it
    /// can do now (<see cref="HasWorkNow"/>: an interrupt pending, a backlogged ring, a poller
    /// marked, a poller that moved and has more marked again under costs), or, without costs,
    /// where each run runs every poller, a poller that moved and has more
    /// (<see cref="IPollingConsumer.HasMoreNow"/>). Interrupts it serviced to the end leave nothing
    /// behind: the frames are in their clients, and whatever those owe has woken its poller.
    /// </summary>
    internal bool MustRunAgain(long now) => (_free && _pollersMoved) || HasWorkNow(now);

    /// <summary>When something it runs next has work that only time brings; <see cref="long.MaxValue"/> for none.</summary>
    internal long NextDue(long now)
    {
        // Busy: nothing it runs can happen before it is free — and if nothing waits for it then
        // (no interrupt pending, no backlogged ring, no poller marked or due by then), it sleeps
        // on to its pollers' next time: a run as it frees up would find nothing (it used to run
        // all the same, one run in two of a lightly loaded host's). Free: the earliest of its
        // pollers' times still to come (one already due has been run by the pump, or cannot run yet).
        if (_busyUntil > now)
        {
            if (!UsesDueTimes || WorkWaits || _earliestPollerDue <= _busyUntil) return _busyUntil;
            return _earliestPollerDue; // no poller marked: at most the earliest of their times
        }
        if (!UsesDueTimes || Volatile.Read(ref _readyAll) != 0) return NextDueOfPollers(now);
        var due = long.MaxValue;
        var times = _pollerDue;
        for (var i = 0; i < _pollers.Count; i++)
        {
            // A marked poller's time may have changed since it ran (the wake that marked it says so).
            var next = IsMarked(i) ? _pollers[i].NextDue() : times[i];
            if (next > now && next < due) due = next;
        }
        return due;
    }

    /// <summary><see cref="NextDue"/> as the pollers tell it now (the Debug check of sleepers: a time that moved without a wake shows).</summary>
    internal long NextDueOfPollers(long now)
    {
        var due = long.MaxValue;
        foreach (var poller in _pollers)
        {
            var next = poller.NextDue();
            if (next > now && next < due) due = next;
        }
        if (_busyUntil > now && (!UsesDueTimes || WorkWaits || due <= _busyUntil)) return _busyUntil;
        return due;
    }

    // Work it would take as soon as it is free: an interrupt pending, a backlogged ring, a poller marked.
    private bool WorkWaits => !_pending.IsEmpty || _polled.Count > 0 || AnyPollerReady;

    /// <summary>Threaded mode: waits until an interrupt arrives or <paramref name="timeout"/> passes.</summary>
    internal bool Wait(TimeSpan timeout, CancellationToken cancellation)
    {
        try
        {
            var woken = _signal.Wait(timeout, cancellation);
            _signal.Reset(); // before the caller looks for work: a wake from here on rings again
            return woken;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    internal bool HasPending => !_pending.IsEmpty;

    /// <summary>Wakes the processor's thread (threaded mode) so it re-checks its work.</summary>
    internal void Wake() => _signal.Set();

    /// <summary>It has work, whichever mode runs it: its thread is signalled (threaded mode) or it is put back in the run queue (<see cref="Awaken"/>).</summary>
    internal void WakeForWork()
    {
        if (Threaded) Wake();
        else Awaken();
    }

    public override string ToString() => _name ?? "cpu" + Id;
}
