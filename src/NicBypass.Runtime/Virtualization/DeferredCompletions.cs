namespace NicBypass.Runtime.Virtualization;

/// <summary>
/// A host's socket waits started by <see cref="NetworkHost.Run"/>'s application, completed after
/// the pump instead of inside it: the datapath (which must not run code it does not own, and
/// holds the socket's lock) hands each completion here, and the host's pumping thread makes it
/// after every pump of the deterministic mode — <c>Run</c>'s, <c>RunUntil</c>'s, <c>Pump</c>'s, a
/// later <c>Run</c>'s — outside the datapath and every lock (<see cref="Drain"/>). The tasks have
/// no <see cref="TaskCreationOptions.RunContinuationsAsynchronously"/>, so a combinator's own step
/// (<c>Task.WhenAll</c>/<c>WhenAny</c>, <c>WaitAsync</c>) runs at once and an <c>await</c> under a
/// run's context posts there: they resume on the run's thread at their virtual instant. The drain
/// runs under a context of its own, so code after <c>ConfigureAwait(false)</c> is not run inline
/// there (.NET queues it to the thread pool, as before). In the threaded mode, and once the host
/// is disposed, completions are made on the thread pool at once.
/// </summary>
internal sealed class DeferredCompletions
{
    private readonly Queue<Action> _queue = new(); // under itself
    private int _count; // its length, read without the lock to see there is nothing (every pump asks)
    private bool _direct; // under _queue: the threaded mode, or a disposed host — nobody pumps

    /// <summary>Hands over a completion: made at the next <see cref="Drain"/>, or at once on the thread pool when nobody pumps.</summary>
    public void Add(Action completion)
    {
        lock (_queue)
        {
            if (!_direct)
            {
                _queue.Enqueue(completion);
                Volatile.Write(ref _count, _queue.Count);
                return;
            }
        }
        ThreadPool.UnsafeQueueUserWorkItem(static c => c(), completion, preferLocal: false);
    }

    /// <summary>
    /// Makes the completions handed over so far, and those they lead to, in order, on this thread
    /// (between pumps, never inside one); true if any.
    /// </summary>
    public bool Drain()
    {
        if (Volatile.Read(ref _count) == 0) return false;
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(DrainContext.Instance);
        try
        {
            while (true)
            {
                Action? completion;
                lock (_queue)
                {
                    if (!_queue.TryDequeue(out completion)) break;
                    Volatile.Write(ref _count, _queue.Count);
                }
                completion();
            }
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }
        return true;
    }

    /// <summary>Nobody will pump (threads start, or the host is disposed): what waits is made now, and what comes later at once.</summary>
    public void CompleteDirectly(bool direct)
    {
        lock (_queue) _direct = direct;
        if (direct) Drain();
    }

    // The drain's context: not the base class, so .NET does not run a continuation of
    // ConfigureAwait(false) inline here (user code inside the run's loop, where a nested run would
    // not be refused: found by review); a post goes to the thread pool.
    private sealed class DrainContext : SynchronizationContext
    {
        public static readonly DrainContext Instance = new();
    }
}
