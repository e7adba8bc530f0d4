using NicBypass.Runtime.Virtualization;

namespace NicBypass.Runtime.Stacks;

/// <summary>
/// A socket call waiting (<see cref="TcpListener.AcceptAsync"/>, <see cref="TcpConnection.ReadAsync"/>,
/// <see cref="TcpConnection.SendAsync"/>, <see cref="UdpSocket.ReceiveAsync"/>): completed by the
/// datapath with its result — into <see cref="Buffer"/> there, for a read; out of it, as the send
/// buffer frees, for a send — or cancelled, or failed when the socket closes. Its
/// continuations run asynchronously, never on the datapath (under <c>NetworkHost.Run</c>, started by
/// the application, it completes through the run's context after the pump: <c>ApplicationContext</c>).
/// The cancel takes the socket's lock,
/// so it never lands between the datapath's copy into the buffer and the completion (a cancelled
/// call's buffer is never written), and takes the call out of its queue at once (a loop with a
/// timeout each call piled them up, each holding its buffer; found by review).
/// </summary>
internal sealed class PendingWait<TResult>(Lock sync, Memory<byte> buffer = default)
    : TaskCompletionSource<TResult>(ApplicationContext.OfCaller, ApplicationContext.OfCaller is null ? TaskCreationOptions.RunContinuationsAsynchronously : TaskCreationOptions.None)
{
    public Memory<byte> Buffer { get; } = buffer;

    /// <summary>How much of <see cref="Buffer"/> the datapath has used so far (a send's bytes taken into the send buffer; under the socket's lock).</summary>
    public int Progress { get; set; }

    private CancellationTokenRegistration _registration;
    private CancellationToken _token;
    private LinkedListNode<PendingWait<TResult>>? _node;

    /// <summary>Queues it last in <paramref name="queue"/> (under the socket's lock), cancelled by <paramref name="cancellation"/>.</summary>
    public Task<TResult> Enqueue(LinkedList<PendingWait<TResult>> queue, CancellationToken cancellation)
    {
        _token = cancellation;
        _node = queue.AddLast(this);
        if (cancellation.CanBeCanceled) _registration = cancellation.Register(static state => ((PendingWait<TResult>)state!).Cancel(), this);
        return Task;
    }

    /// <summary>Taken out of its queue by the datapath (under the socket's lock): its cancellation is no longer wanted.</summary>
    public void Dequeued() => _registration.Unregister();

    private bool _claimed; // under the socket's lock: its completion is decided (and made after the pump, under Run)

    /// <summary>Completed, cancelled or failed — or its completion decided, to be made after the pump (under the socket's lock).</summary>
    public bool IsDone => _claimed || Task.IsCompleted;

    /// <summary>Completes it with <paramref name="result"/> (under the socket's lock); false if it was done already (cancelled meanwhile).</summary>
    public bool Complete(TResult result) =>
        Task.AsyncState is DeferredCompletions completions ? Claim(completions, CompleteLater(result)) : TrySetResult(result);

    /// <summary>Fails it with <paramref name="error"/> (under the socket's lock); false if it was done already.</summary>
    public bool Fail(Exception error) =>
        Task.AsyncState is DeferredCompletions completions ? Claim(completions, () => TrySetException(error)) : TrySetException(error);

    // Under a run: the outcome is decided now (a cancel coming later finds it done) and made
    // after the pump, outside the datapath and the socket's lock.
    private bool Claim(DeferredCompletions completions, Action completion)
    {
        if (IsDone) return false;
        _claimed = true;
        completions.Add(completion);
        return true;
    }

    // (Its own method: the closure over `result` is made only under a run.)
    private Action CompleteLater(TResult result) => () => TrySetResult(result);

    private void Cancel()
    {
        lock (sync)
        {
            // Under a run cancelled after the pump too, not here under the socket's lock, where the
            // code after the application's await would run (found by review).
            var cancelled = Task.AsyncState is DeferredCompletions completions ? Claim(completions, () => TrySetCanceled(_token)) : TrySetCanceled(_token);
            if (cancelled && _node?.List is { } list) list.Remove(_node);
        }
    }
}
