using System.Diagnostics;

namespace NicBypass.Runtime.Stacks;

/// <summary>
/// The entry policy of a serialization queue: a lock for mutual exclusion, nothing for
/// concurrent access. It counts who is inside, so tests (and operators) can see the policy hold.
/// A bidirectional VSQ shares one gate between its two directions.
/// </summary>
internal sealed class SerializationGate(SerializationPolicy policy)
{
    private readonly Lock _lock = new();
    private int _inside;
    private int _maxInside;
    private long _entries;
    private int _handBack; // 1: a worker found the gate taken with work waiting (TryEnterOrHandBack)

    public SerializationPolicy Policy { get; } = policy;

    public int Inside => Volatile.Read(ref _inside);

    public int MaxInside => Volatile.Read(ref _maxInside);

    public long Entries => Interlocked.Read(ref _entries);

    /// <summary>Enters; false (mutual exclusion) if the thread already holds it — then it must not <see cref="Exit"/>.</summary>
    public bool Enter()
    {
        if (Policy == SerializationPolicy.MutualExclusion)
        {
            if (_lock.IsHeldByCurrentThread) return false;
            _lock.Enter();
        }
        Track();
        return true;
    }

    /// <summary>Enters only if no wait is needed.</summary>
    public bool TryEnter()
    {
        if (Policy == SerializationPolicy.MutualExclusion && (_lock.IsHeldByCurrentThread || !_lock.TryEnter())) return false;
        Track();
        return true;
    }

    /// <summary>What the thread leaving runs when a worker left it work waiting behind the gate (<see cref="TryEnterOrHandBack"/>): its owner wakes its workers.</summary>
    internal Action? HandBack { get; set; }

    /// <summary>
    /// <see cref="TryEnter"/> for a worker with work waiting behind the gate: when another thread
    /// is inside (an application's call on a thread of its own, another worker), that thread runs
    /// <see cref="HandBack"/> as it leaves — else the work would wait for whatever next wakes the
    /// worker (in the deterministic mode, nothing may: the worker sleeps).
    /// </summary>
    public bool TryEnterOrHandBack()
    {
        if (TryEnter()) return true;
        if (Policy != SerializationPolicy.MutualExclusion || _lock.IsHeldByCurrentThread) return false;
        // The flag first, then a second look (each a full fence, as is the leaving thread's
        // release and read of the flag): that thread sees the flag as it leaves, or has left and
        // this one enters. (Entering leaves the flag set: one spare wake at most.)
        Interlocked.Exchange(ref _handBack, 1);
        return TryEnter();
    }

    public void Exit()
    {
        if (Policy == SerializationPolicy.MutualExclusion)
        {
            Debug.Assert(_lock.IsHeldByCurrentThread && _inside == 1, "a mutually exclusive gate is left by the one thread inside it");
            _inside--;
            _lock.Exit();
            if (Interlocked.CompareExchange(ref _handBack, 0, 1) == 1) HandBack?.Invoke();
            return;
        }
        var left = Interlocked.Decrement(ref _inside);
        Debug.Assert(left >= 0, "a gate was left more often than entered");
    }

    private void Track()
    {
        if (Policy == SerializationPolicy.MutualExclusion)
        {
            // Inside the lock: one thread, plain counts.
            var alone = ++_inside;
            Debug.Assert(alone == 1, "two threads inside a mutually exclusive gate");
            _entries++;
            if (alone > _maxInside) _maxInside = alone;
            return;
        }
        var inside = Interlocked.Increment(ref _inside);
        Interlocked.Increment(ref _entries);
        var max = Volatile.Read(ref _maxInside);
        while (inside > max)
        {
            var seen = Interlocked.CompareExchange(ref _maxInside, inside, max);
            if (seen == max) break;
            max = seen;
        }
    }
}
