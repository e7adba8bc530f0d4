namespace NicBypass.Runtime;

/// <summary>
/// Virtual time for the deterministic mode: a <see cref="TimeProvider"/> that only moves when
/// told to. Timestamps are nanoseconds, so rates down to bits per second are exact. Its timers
/// (<see cref="CreateTimer"/>: <c>Task.Delay(span, clock)</c>, <c>new CancellationTokenSource(span,
/// clock)</c>, <c>task.WaitAsync(span, clock)</c>) run on virtual time too: each fires, on the
/// thread that moves the clock, as the clock passes its due time — at that instant — and a host
/// on the clock counts the next one among what is due, so its event loop stops there.
/// </summary>
public sealed class VirtualClock(DateTimeOffset start) : TimeProvider
{
    private long _nanoseconds;
    private readonly Lock _timers = new();
    private readonly PriorityQueue<(VirtualTimer Timer, long Version), (long Due, long Order)> _due = new(); // under _timers; equal times in the order scheduled
    private long _order; // under _timers
    private long _nextTimer = long.MaxValue; // the earliest due time in _due (read without the lock)

    public VirtualClock() : this(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero)) { }

    public override long TimestampFrequency => 1_000_000_000;

    public override long GetTimestamp() => Volatile.Read(ref _nanoseconds);

    public override DateTimeOffset GetUtcNow() => start.AddTicks(Volatile.Read(ref _nanoseconds) / 100);

    /// <summary>Nanoseconds since the clock started.</summary>
    public long Nanoseconds => Volatile.Read(ref _nanoseconds);

    /// <summary>When the next timer is due, in nanoseconds since the start; <see cref="long.MaxValue"/> for none.</summary>
    public long NextTimer => Volatile.Read(ref _nextTimer);

    /// <summary>A timestamp of <paramref name="clock"/> in nanoseconds (exact for a virtual clock).</summary>
    internal static long ToNanoseconds(TimeProvider clock, long timestamp) =>
        clock.TimestampFrequency == 1_000_000_000 ? timestamp : (long)((Int128)timestamp * 1_000_000_000 / clock.TimestampFrequency);

    public void Advance(TimeSpan by) => AdvanceTo(Nanoseconds + by.Ticks * 100);

    /// <summary>
    /// Moves to <paramref name="nanoseconds"/> since the start; time never goes back. Timers due
    /// on the way fire in order, each with the clock at its due time, on this thread.
    /// </summary>
    public void AdvanceTo(long nanoseconds)
    {
        if (nanoseconds < Nanoseconds) throw new ArgumentOutOfRangeException(nameof(nanoseconds), "virtual time cannot go back");
        while (Volatile.Read(ref _nextTimer) <= nanoseconds)
        {
            VirtualTimer? timer = null;
            lock (_timers)
            {
                while (_due.TryPeek(out var entry, out var key) && key.Due <= nanoseconds)
                {
                    var due = key.Due;
                    _due.Dequeue();
                    if (entry.Version != entry.Timer.Version) continue; // changed or disposed since
                    Volatile.Write(ref _nanoseconds, Math.Max(Nanoseconds, due));
                    timer = entry.Timer;
                    timer.Fired(this, due); // a period schedules its next turn
                    break;
                }
                Volatile.Write(ref _nextTimer, NextLive());
            }
            if (timer is null) break;
            timer.Invoke(); // outside the lock: the callback may make or change timers
        }
        Volatile.Write(ref _nanoseconds, nanoseconds);
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(callback);
        var timer = new VirtualTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    // (Re)schedules `timer` for `due`, or takes it off (long.MaxValue); its version says which entry is live.
    private void Schedule(VirtualTimer timer, long due)
    {
        lock (_timers)
        {
            timer.Version++;
            if (due != long.MaxValue) _due.Enqueue((timer, timer.Version), (due, _order++));
            Volatile.Write(ref _nextTimer, NextLive());
        }
    }

    // The earliest live entry's due time (under _timers): entries a change or dispose left behind
    // are dropped as they reach the top, so the next timer is never one that will not fire.
    private long NextLive()
    {
        while (_due.TryPeek(out var entry, out var key))
        {
            if (entry.Version == entry.Timer.Version) return key.Due;
            _due.Dequeue();
        }
        return long.MaxValue;
    }

    private static long ToNanoseconds(TimeSpan span) => span.Ticks > long.MaxValue / 100 ? long.MaxValue : span.Ticks * 100;

    // A timer on virtual time (Timeout.InfiniteTimeSpan: not due, or not periodic).
    private sealed class VirtualTimer(VirtualClock clock, TimerCallback callback, object? state) : ITimer
    {
        private long _period = long.MaxValue;
        private bool _disposed;

        public long Version { get; set; } // under the clock's lock

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            if (dueTime < TimeSpan.Zero && dueTime != Timeout.InfiniteTimeSpan) throw new ArgumentOutOfRangeException(nameof(dueTime));
            if (period < TimeSpan.Zero && period != Timeout.InfiniteTimeSpan) throw new ArgumentOutOfRangeException(nameof(period));
            if (Volatile.Read(ref _disposed)) return false;
            _period = period == Timeout.InfiniteTimeSpan || period == TimeSpan.Zero ? long.MaxValue : ToNanoseconds(period);
            var due = dueTime == Timeout.InfiniteTimeSpan ? long.MaxValue : SaturatingAdd(clock.Nanoseconds, ToNanoseconds(dueTime));
            clock.Schedule(this, due);
            return true;
        }

        // Taken off the queue to fire at `due` (under the clock's lock): a periodic one goes back for its next turn.
        public void Fired(VirtualClock owner, long due)
        {
            if (_period != long.MaxValue)
            {
                Version++;
                owner._due.Enqueue((this, Version), (SaturatingAdd(due, _period), owner._order++));
            }
        }

        public void Invoke() => callback(state);

        public void Dispose()
        {
            Volatile.Write(ref _disposed, true);
            clock.Schedule(this, long.MaxValue);
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }

        private static long SaturatingAdd(long a, long b) => a > long.MaxValue - b ? long.MaxValue - 1 : a + b;
    }
}
