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

    public void Exit()
    {
        if (Policy == SerializationPolicy.MutualExclusion)
        {
            Debug.Assert(_lock.IsHeldByCurrentThread && _inside == 1, "a mutually exclusive gate is left by the one thread inside it");
            _inside--;
            _lock.Exit();
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
