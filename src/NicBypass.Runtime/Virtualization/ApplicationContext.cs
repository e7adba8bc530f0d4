using System.Collections.Concurrent;

namespace NicBypass.Runtime.Virtualization;

/// <summary>
/// The synchronization context <see cref="NetworkHost.Run"/> runs an application's async code
/// under, in the deterministic mode: a continuation an <c>await</c> posts (a socket wait the
/// datapath completed, a task the application awaits) queues here instead of going to the thread
/// pool, and the pumping thread runs it between pumps, before virtual time moves on — so a chain
/// of awaits (accept, then read, then send) runs step by step on virtual time, the same every run.
/// Posts from any thread are taken; nothing is allocated on the datapath.
/// </summary>
/// <remarks>
/// A socket wait the application starts under this context (<see cref="NewWait"/>, and
/// <c>PendingWait</c>) is completed through it: the datapath, which must not run code it does not
/// own, hands the completion here, and the pumping thread completes the task after the pump
/// (<see cref="CompleteDeferred"/>), outside the datapath and every lock, with its continuations
/// run synchronously. So a combinator over socket tasks (<c>Task.WhenAll</c>/<c>WhenAny</c>,
/// <c>WaitAsync</c>) completes on this thread too and its <c>await</c> posts here, instead of
/// hopping through the thread pool, which the run did not wait for. Once the run is over
/// (<see cref="Close"/>), what is still posted or completed goes to the thread pool: waits the
/// application left behind resume there (they never resumed).
/// </remarks>
internal sealed class ApplicationContext : SynchronizationContext
{
    private readonly ConcurrentQueue<(SendOrPostCallback Callback, object? State)> _posted = new();
    private readonly Queue<Action> _completions = new(); // under itself
    private bool _closed; // under _completions

    public override void Post(SendOrPostCallback d, object? state)
    {
        if (Volatile.Read(ref _closed))
        {
            ThreadPool.UnsafeQueueUserWorkItem(static work => work.Callback(work.State), (Callback: d, State: state), preferLocal: false);
            return;
        }
        _posted.Enqueue((d, state));
    }

    /// <summary>Not supported: a synchronous send from the datapath would run application code inside it.</summary>
    public override void Send(SendOrPostCallback d, object? state) =>
        throw new NotSupportedException("NetworkHost.Run's context takes posts only (its continuations run between pumps)");

    public override SynchronizationContext CreateCopy() => this;

    /// <summary>
    /// Runs what was queued when it was called, on this thread, under this context; true if
    /// anything ran. What those queue in turn (a <c>Task.Yield</c> loop) waits for the next call —
    /// after the next event — so a loop that yields cannot hold virtual time still (it hung the
    /// run for ever: found by review).
    /// </summary>
    public bool RunPending()
    {
        var ran = false;
        var previous = Current;
        SetSynchronizationContext(this);
        try
        {
            for (var queued = _posted.Count; queued > 0 && _posted.TryDequeue(out var work); queued--)
            {
                work.Callback(work.State);
                ran = true;
            }
        }
        finally
        {
            SetSynchronizationContext(previous);
        }
        return ran;
    }

    /// <summary>A socket's completion of a wait started under this context: done by <see cref="CompleteDeferred"/> (after the run, on the thread pool).</summary>
    public void Complete(Action completion)
    {
        lock (_completions)
        {
            if (!_closed)
            {
                _completions.Enqueue(completion);
                return;
            }
        }
        ThreadPool.UnsafeQueueUserWorkItem(static c => c(), completion, preferLocal: false);
    }

    /// <summary>
    /// Completes the waits the datapath finished since the last call, in order, on this thread with
    /// no context of its own (an <c>await</c> posts its continuation here; a combinator's own step
    /// runs at once); true if any. Called between pumps, never inside one.
    /// </summary>
    public bool CompleteDeferred()
    {
        var ran = false;
        var previous = Current;
        SetSynchronizationContext(null);
        try
        {
            while (true)
            {
                Action? completion;
                lock (_completions)
                {
                    if (!_completions.TryDequeue(out completion)) break;
                }
                completion();
                ran = true;
            }
        }
        finally
        {
            SetSynchronizationContext(previous);
        }
        return ran;
    }

    /// <summary>The run is over: what waits here, or comes later, goes to the thread pool.</summary>
    public void Close()
    {
        lock (_completions)
        {
            Volatile.Write(ref _closed, true);
            while (_completions.TryDequeue(out var completion)) ThreadPool.UnsafeQueueUserWorkItem(static c => c(), completion, preferLocal: false);
        }
        while (_posted.TryDequeue(out var work)) ThreadPool.UnsafeQueueUserWorkItem(static w => w.Callback(w.State), work, preferLocal: false);
    }

    /// <summary>The run's context when the caller is its application (a socket call it makes); else null.</summary>
    public static ApplicationContext? OfCaller => Current as ApplicationContext;

    /// <summary>
    /// A wait for the datapath to complete: under <see cref="NetworkHost.Run"/> completed through
    /// its context (<see cref="SetResult"/>), else with continuations run asynchronously, never on the datapath.
    /// </summary>
    public static TaskCompletionSource NewWait() => OfCaller is { } application
        ? new TaskCompletionSource(application, TaskCreationOptions.None)
        : new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes a <see cref="NewWait"/> (through the run's context, where it was started under one).</summary>
    public static void SetResult(TaskCompletionSource wait)
    {
        if (wait.Task.AsyncState is ApplicationContext application) application.Complete(() => wait.TrySetResult());
        else wait.TrySetResult();
    }

    /// <summary>Fails a <see cref="NewWait"/> (through the run's context, where it was started under one).</summary>
    public static void SetException(TaskCompletionSource wait, Exception error)
    {
        if (wait.Task.AsyncState is ApplicationContext application) application.Complete(() => wait.TrySetException(error));
        else wait.TrySetException(error);
    }
}
