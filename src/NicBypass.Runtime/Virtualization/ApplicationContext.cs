using System.Collections.Concurrent;

namespace NicBypass.Runtime.Virtualization;

/// <summary>
/// The synchronization context <see cref="NetworkHost.Run"/> runs an application's async code
/// under, in the deterministic mode: a continuation an <c>await</c> posts (a socket wait the
/// datapath completed, a task the application awaits) queues here instead of going to the thread
/// pool, and the pumping thread runs it between pumps, before virtual time moves on — so a chain
/// of awaits (accept, then read, then send) runs step by step on virtual time, the same every run.
/// Posts from any thread are taken.
/// </summary>
/// <remarks>
/// A socket wait the application starts under this context (<see cref="NewWait"/>, and
/// <c>PendingWait</c>) is completed through its host's <see cref="DeferredCompletions"/>, after
/// the pump: so a combinator over socket tasks resumes on this thread too. A host has one for
/// its life: what is posted after a run's span ended (code the application left waiting, whose
/// wait completed later) runs in the next run, on its thread, at virtual time (it never resumed;
/// then it resumed on the thread pool, racing the next run).
/// </remarks>
internal sealed class ApplicationContext(DeferredCompletions completions) : SynchronizationContext
{
    private readonly ConcurrentQueue<(SendOrPostCallback Callback, object? State)> _posted = new();

    /// <summary>Where the socket waits the application starts are completed: its host's.</summary>
    public DeferredCompletions Completions { get; } = completions;

    public override void Post(SendOrPostCallback d, object? state) => _posted.Enqueue((d, state));

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

    /// <summary>Where a socket wait the caller starts is to be completed: its run's host's queue when the caller is a run's application; else null.</summary>
    public static DeferredCompletions? OfCaller => (Current as ApplicationContext)?.Completions;

    /// <summary>
    /// A wait for the datapath to complete: under <see cref="NetworkHost.Run"/> completed after the
    /// pump (<see cref="SetResult"/>), else with continuations run asynchronously, never on the datapath.
    /// </summary>
    public static TaskCompletionSource NewWait() => OfCaller is { } completions
        ? new TaskCompletionSource(completions, TaskCreationOptions.None)
        : new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes a <see cref="NewWait"/> (after the pump, where it was started under a run).</summary>
    public static void SetResult(TaskCompletionSource wait)
    {
        if (wait.Task.AsyncState is DeferredCompletions completions) completions.Add(() => wait.TrySetResult());
        else wait.TrySetResult();
    }

    /// <summary>Fails a <see cref="NewWait"/> (after the pump, where it was started under a run).</summary>
    public static void SetException(TaskCompletionSource wait, Exception error)
    {
        if (wait.Task.AsyncState is DeferredCompletions completions) completions.Add(() => wait.TrySetException(error));
        else wait.TrySetException(error);
    }
}
