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
internal sealed class ApplicationContext : SynchronizationContext
{
    private readonly ConcurrentQueue<(SendOrPostCallback Callback, object? State)> _posted = new();

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
}
