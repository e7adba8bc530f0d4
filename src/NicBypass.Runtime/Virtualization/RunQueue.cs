using System.Numerics;

namespace NicBypass.Runtime.Virtualization;

/// <summary>
/// The deterministic mode's scheduler: which processors (host processors, then the VMs' vCPUs)
/// have something to do now, and when each of the others next will. A pump runs only the awake
/// ones, in processor order, round after round until none moves; a processor with nothing to do
/// goes to sleep with the time its pollers next need it (<see cref="Processor.NextDue"/>), kept in
/// a heap. It wakes when that time comes, or when someone gives it work: an interrupt, a virtual
/// interrupt, a frame into a ring it polls, a batch queued in a VSQ it works for, a send, a timer
/// armed in a stack it runs (from whichever thread or processor armed it) — so a host of
/// thousands of VNICs costs per event what the event touches, not what the host holds.
///
/// The public entry points of the deterministic mode (<see cref="NetworkHost.Pump"/>,
/// <see cref="NetworkHost.RunTo"/>, <see cref="NetworkHost.RunUntil"/>) wake every processor
/// first, since an application may have changed anything between calls; the simulation's own
/// loop does not. Debug builds check, at the end of every pump, that no sleeping processor had
/// work or an earlier deadline (a lost wake-up fails loudly instead of stalling a stack); the
/// check runs each sleeper once, so counters of turns that did nothing (a poller's deferrals, a
/// VSQ's entries) read higher in Debug builds than in Release ones.
/// </summary>
internal sealed class RunQueue
{
    private readonly Processor[] _processors;
    private readonly ulong[] _awake;
    private readonly long[] _sleepingUntil; // long.MaxValue: nothing due; valid while asleep
    private readonly long[] _lastQueued;    // the deadline last put in the heap for each processor
    private readonly PriorityQueue<int, long> _deadlines = new(); // an entry counts while its processor sleeps until exactly then
    private readonly int[] _lateWake; // 1: woken from another thread than the rounds' since the processor last looked
    private readonly TimeProvider _clock;

    /// <summary>The thread that runs the rounds (before the first, the one that built the host: it pumps it, as a rule).</summary>
    public DatapathThread Rounds { get; } = new();

    public RunQueue(IReadOnlyList<Processor> processors, TimeProvider clock)
    {
        _processors = processors.ToArray();
        _clock = clock;
        _awake = new ulong[(_processors.Length + 63) / 64];
        _sleepingUntil = new long[_processors.Length];
        _lastQueued = new long[_processors.Length];
        _lateWake = new int[_processors.Length];
        Array.Fill(_lastQueued, long.MaxValue);
        for (var i = 0; i < _processors.Length; i++) _processors[i].Schedule(this, i);
        WakeAll();
    }

    private long Now => VirtualClock.ToNanoseconds(_clock, _clock.GetTimestamp());

    public bool IsAwake(int index) => (_awake[index >> 6] & 1UL << index) != 0;

    // The run queue whose pump or landing runs on this thread now (EnterDatapath). Being the
    // rounds' thread (Rounds.IsCurrent) is not enough: that is the thread that pumped last, and an
    // application's continuation on it may send while another thread has begun to pump.
    [ThreadStatic] private static RunQueue? t_inDatapath;

    /// <summary>This thread runs this host's datapath (a pump, a landing) until <see cref="ExitDatapath"/> with what this returns.</summary>
    public RunQueue? EnterDatapath()
    {
        var outer = t_inDatapath;
        t_inDatapath = this;
        return outer;
    }

    public static void ExitDatapath(RunQueue? outer) => t_inDatapath = outer;

    /// <summary>
    /// A sleeping processor (busy until <paramref name="time"/>) was given work: it stays asleep,
    /// until <paramref name="time"/> at the latest. False, changing nothing, if it is awake or the
    /// caller is not inside this host's pump or landing (the heap is the rounds'): the caller wakes it then.
    /// </summary>
    public bool SleepUntilAtMost(int index, long time)
    {
        if (IsAwake(index) || t_inDatapath != this) return false;
        if (_sleepingUntil[index] > time) SleepUntil(index, time);
        return true;
    }

    /// <summary>Some processor is awake (has work now, or has not looked yet).</summary>
    public bool AnyAwake
    {
        get
        {
            for (var w = 0; w < _awake.Length; w++)
            {
                if (Volatile.Read(ref _awake[w]) != 0) return true;
            }
            return false;
        }
    }

    public void Wake(int index)
    {
        // From another thread (an application's continuation), the processor may be between
        // finding nothing to do and going to sleep, its bit still set: Sleep looks at this after
        // clearing the bit. The exchange is a full fence, so this write is seen there or the
        // cleared bit is seen below.
        if (!Rounds.IsCurrent) Interlocked.Exchange(ref _lateWake[index], 1);
        ref var word = ref _awake[index >> 6];
        var bit = 1UL << index;
        if ((Volatile.Read(ref word) & bit) != 0) return;
        // Atomic: an application's continuation may wake a stack's processor from another thread
        // while the pump puts others to sleep. Its deadline in the heap no longer counts.
        Interlocked.Or(ref word, bit);
    }

    /// <summary>Every processor, each to run all its pollers (an application may have changed anything).</summary>
    public void WakeAll()
    {
        for (var i = 0; i < _processors.Length; i++)
        {
            _processors[i].MarkAllReady();
            Wake(i);
        }
    }

    // Processors whose deadline has come.
    private void WakeDue(long now)
    {
        while (_deadlines.TryPeek(out var index, out var due) && due <= now)
        {
            _deadlines.Dequeue();
            if (_lastQueued[index] == due) _lastQueued[index] = long.MaxValue;
            if (!Counts(index, due))
            {
                // Woken for something else by the time its deadline is looked at (an interrupt
                // landed at that instant): the pollers whose time it is still run. A run that
                // moved used to be followed by one more, which marked them; now a run that
                // serviced its interrupts to the end may be its last (found by review).
                if (IsAwake(index) && _sleepingUntil[index] == due) _processors[index].MarkDue(now);
                continue;
            }
            _processors[index].MarkDue(now); // time brought it work: the pollers whose time it is
            Wake(index);
        }
    }

    /// <summary>A deadline in the heap is due by <paramref name="now"/> (perhaps one that no longer counts: the caller then looks for nothing).</summary>
    public bool AnyDueBy(long now) => _deadlines.TryPeek(out _, out var due) && due <= now;

    private bool Counts(int index, long due) => !IsAwake(index) && _sleepingUntil[index] == due;

    private void Sleep(int index, long now)
    {
        Interlocked.And(ref _awake[index >> 6], ~(1UL << index));
        if (Volatile.Read(ref _lateWake[index]) != 0)
        {
            // Woken from another thread while it ran (the wake saw its bit still set): it looks again.
            Interlocked.Or(ref _awake[index >> 6], 1UL << index);
            return;
        }
        SleepUntil(index, _processors[index].NextDue(now));
    }

    // The sleeping processor looks by `due`: its deadline, in the heap.
    private void SleepUntil(int index, long due)
    {
        _sleepingUntil[index] = due;
        // A processor that sleeps again and again until the same deadline (a stack timer far
        // ahead) has one entry for it, not one per sleep.
        if (due == long.MaxValue || due == _lastQueued[index]) return;
        _deadlines.Enqueue(index, due);
        _lastQueued[index] = due;
        if (_deadlines.Count > 4 * _processors.Length + 64) Compact();
    }

    // Too many entries no longer count (deadlines that moved): keep one per sleeping processor.
    private void Compact()
    {
        _deadlines.Clear();
        for (var i = 0; i < _processors.Length; i++)
        {
            _lastQueued[i] = long.MaxValue;
            if (IsAwake(i) || _sleepingUntil[i] == long.MaxValue) continue;
            _deadlines.Enqueue(i, _sleepingUntil[i]);
            _lastQueued[i] = _sleepingUntil[i];
        }
    }

    // The next awake processor at or after `from`, in processor order; -1 for none. Read afresh
    // each time: a processor woken during a round runs in it if it comes later in the order (as a
    // full round would have run it), else in the next round.
    private int NextAwake(int from)
    {
        for (var w = from >> 6; w < _awake.Length; w++)
        {
            var bits = _awake[w];
            if (w == from >> 6) bits &= ~0UL << (from & 63);
            if (bits != 0) return (w << 6) + BitOperations.TrailingZeroCount(bits);
        }
        return -1;
    }

    /// <summary>
    /// One round: every awake processor once, in order. True if any moved (or still has work it
    /// could not take this round). The caller's pump has claimed <see cref="Rounds"/> for its thread.
    /// </summary>
    public bool RunRound()
    {
        var now = Now;
        WakeDue(now);
        var progress = false;
        for (var i = NextAwake(0); i >= 0; i = NextAwake(i + 1))
        {
            var processor = _processors[i];
            processor.Runs++;
            // It looks now at what that wake brought. An exchange, a full fence, so the look below
            // cannot pass the cleared flag: work behind a wake that set it before is seen there,
            // and one that sets it after leaves it set for Sleep.
            if (_lateWake[i] != 0) Interlocked.Exchange(ref _lateWake[i], 0);
            // A run that moved something is progress for the pump (what it sent goes out, others
            // it woke run), but it runs again only if it left work behind: not once more to find nothing.
            if (processor.RunOnce()) progress = true;
            if (processor.MustRunAgain(now)) progress = true;
            else Sleep(i, now);
        }
        return progress;
    }

    /// <summary>When the next sleeping processor is due (or an awake one's pollers next need it); <see cref="long.MaxValue"/> for none.</summary>
    public long NextDue()
    {
        var now = Now;
        var due = long.MaxValue;
        while (_deadlines.TryPeek(out var index, out var at))
        {
            if (Counts(index, at))
            {
                due = at;
                break;
            }
            // Stale: the processor woke since (and sleeps again with a deadline of its own).
            _deadlines.Dequeue();
            if (_lastQueued[index] == at) _lastQueued[index] = long.MaxValue;
        }
        for (var i = NextAwake(0); i >= 0; i = NextAwake(i + 1)) due = Math.Min(due, _processors[i].NextDue(now));
        return due;
    }

    // Another thread (an application's continuation) arms a timer or queues work and then wakes
    // the processor: seen between the two, the work is there and the wake not yet. Such a wake
    // comes within moments; a lost one never does.
    private bool WokenFromElsewhereSoon(int index)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (waited.ElapsedMilliseconds < 200)
        {
            if (Volatile.Read(ref _lateWake[index]) != 0) return true; // set only by a wake from another thread
            Thread.Sleep(1);
        }
        return false;
    }

    /// <summary>
    /// Debug builds: no sleeping processor may have work now, a deadline earlier than the one it
    /// went to sleep with, or move when run. Each would be a wake-up the datapath forgot.
    /// </summary>
    // The check's own run leaves no marks behind: what it did not move must still be owed a
    // wake by the datapath, or the next check finds it (a run that moved fails the check anyway).
    private static bool RunsWithEveryPoller(Processor processor)
    {
        t_checking = true;
        try
        {
            return processor.RunOnceWithEveryPoller();
        }
        finally
        {
            t_checking = false;
        }
    }

    [ThreadStatic] private static bool t_checking;

    /// <summary>True while the Debug check of sleepers runs a processor (tests: polls it made are not the datapath's).</summary>
    internal static bool IsChecking => t_checking;

    [System.Diagnostics.Conditional("DEBUG")]
    public void CheckSleepers()
    {
        var now = Now;
        for (var i = 0; i < _processors.Length; i++)
        {
            if (IsAwake(i)) continue;
            var processor = _processors[i];
            var recorded = _sleepingUntil[i];
            if (recorded <= now) continue; // due now: the next pump wakes it
            // On a real clock time moves while this looks: a deadline that passes meanwhile is
            // not a lost wake-up, so only what a processor holds now is checked there.
            if (_clock is not VirtualClock)
            {
                if (processor.HasWorkNow(now)) throw new InvalidOperationException($"scheduler: {processor} was asleep (due {recorded}, now {now}) but has work now: a wake-up was lost");
                continue;
            }
            var due = processor.NextDueOfPollers(now);
            // A later deadline than recorded is harmless (it wakes early and sleeps again: an
            // interrupt that preempts a busy processor pushes its end back); an earlier one is missed.
            // The run below runs every poller it has, marked or not.
            if ((processor.HasWorkNow(now) || due < recorded || RunsWithEveryPoller(processor)) && !WokenFromElsewhereSoon(i))
            {
                throw new InvalidOperationException(
                    $"scheduler: {processor} was asleep (due {recorded}, now {now}) but has work (due {due}, work now {processor.HasWorkNow(now)}): a wake-up was lost");
            }
        }
    }
}
