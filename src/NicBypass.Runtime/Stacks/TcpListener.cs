using System.Collections.Concurrent;

namespace NicBypass.Runtime.Stacks;

/// <summary>
/// A TCP port in LISTEN: each SYN makes a connection in SYN-RECEIVED; once the handshake
/// completes it waits here until accepted. A full backlog drops further SYNs (counted as
/// socket-full; the peer retransmits its SYN). Half-open connections are bounded by the SYN
/// queue (<see cref="StackSettings.SynBacklog"/>). When it is full a new SYN is answered with a
/// SYN cookie and no state (<see cref="SynCookieMode.OnOverflow"/>, Linux's default), so a SYN
/// flood from many sources costs a bounded number of connections (with no buffers: those are
/// taken on the first byte) and a real client completes its handshake however fast the flood
/// comes; with cookies off it pushes out the oldest half-open connection instead, as Linux does
/// without them.
/// </summary>
public sealed class TcpListener
{
    private readonly NetworkStack _stack;
    private readonly ConcurrentQueue<TcpConnection> _accepted = new();
    private readonly int _backlog;
    private LinkedList<PendingWait<TcpConnection>>? _acceptors; // AcceptAsync calls waiting, oldest first; under _sync
    private readonly Lock _sync = new();
    private readonly LinkedList<TcpConnection> _halfOpen = new(); // in SYN-RECEIVED, oldest first (each leaves it as it leaves the state); under _sync
    private long _synQueueDrops;
    private long _lastCookieAt = long.MinValue;                // when this listener last sent a SYN cookie (clock timestamps)

    internal TcpListener(NetworkStack stack, ushort port, int backlog)
    {
        _stack = stack;
        Port = port;
        _backlog = backlog;
    }

    public ushort Port { get; }

    /// <summary>Established connections waiting to be accepted.</summary>
    public int Pending => _accepted.Count;

    internal bool HasRoom => _accepted.Count < _backlog;

    /// <summary>Half-open connections pushed out of a full SYN queue by newer SYNs.</summary>
    public long SynQueueDrops => Interlocked.Read(ref _synQueueDrops);

    /// <summary>Half-open connections now (SYN received, handshake not complete).</summary>
    public int HalfOpen
    {
        get
        {
            lock (_sync) return _halfOpen.Count;
        }
    }

    /// <summary>Whether the SYN queue holds <paramref name="limit"/> half-open connections.</summary>
    internal bool SynQueueFull(int limit) => HalfOpen >= limit;

    /// <summary>Notes that a SYN cookie went at <paramref name="now"/>: for two minutes after, ACKs to this port may bring cookies back.</summary>
    internal void CookieSent(long now) => Interlocked.Exchange(ref _lastCookieAt, now);

    /// <summary>Whether a cookie went within <paramref name="window"/> clock ticks of <paramref name="now"/> (Linux accepts cookies only after a recent overflow).</summary>
    internal bool CookiesRecent(long now, long window)
    {
        var last = Interlocked.Read(ref _lastCookieAt);
        return last != long.MinValue && now - last <= window;
    }

    /// <summary>
    /// Admits a connection that has just entered SYN-RECEIVED (called under its lock; it is the
    /// node's value); returns the oldest half-open one, for a full SYN queue to push out, if any:
    /// the caller abandons it outside that lock.
    /// </summary>
    internal TcpConnection? AdmitHalfOpen(LinkedListNode<TcpConnection> node, int limit)
    {
        lock (_sync)
        {
            var oldest = _halfOpen.Count >= limit ? _halfOpen.First!.Value : null;
            _halfOpen.AddLast(node);
            return oldest;
        }
    }

    /// <summary>A connection <see cref="AdmitHalfOpen"/> took has left SYN-RECEIVED (established, closed, or pushed out): its place is free.</summary>
    internal void HalfOpenEnded(LinkedListNode<TcpConnection> node)
    {
        lock (_sync) _halfOpen.Remove(node);
    }

    /// <summary>A half-open connection a full queue pushed out was dropped.</summary>
    internal void CountPushedOut() => Interlocked.Increment(ref _synQueueDrops);

    public bool TryAccept(out TcpConnection connection) => _accepted.TryDequeue(out connection!);

    /// <summary>
    /// The next established connection: at once if one waits, else the task completes with the
    /// connection the moment its handshake completes — in the deterministic mode within the pump
    /// that completed it, so <c>RunUntil(() => accept.IsCompleted, …)</c> sees it (it used to wait
    /// for a thread-pool hop that <c>RunUntil</c> did not, and timed out: found by a new user's
    /// drive). Continuations run asynchronously, never on the datapath.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The listener was stopped (or its host disposed) and no connection waits: a wait in progress ends with it too.</exception>
    public Task<TcpConnection> AcceptAsync(CancellationToken cancellation = default)
    {
        if (cancellation.IsCancellationRequested) return Task.FromCanceled<TcpConnection>(cancellation);
        lock (_sync)
        {
            if (_accepted.TryDequeue(out var connection)) return Task.FromResult(connection);
            if (_stopped) return Task.FromException<TcpConnection>(Stopped());
            return new PendingWait<TcpConnection>(_sync).Enqueue(_acceptors ??= new(), cancellation);
        }
    }

    private ObjectDisposedException Stopped() => new(nameof(TcpListener), $"TCP listener on port {Port} is stopped");


    /// <summary>
    /// Stops listening: new SYNs to the port are answered with RST; the connections waiting to be
    /// accepted, and those still completing their handshake, are reset (RST), as Linux's close of
    /// a listening socket does — nobody would ever accept them (they stayed established, their
    /// data acknowledged, and a new listener on the port never saw them: found by a new user's
    /// drive); an <see cref="AcceptAsync"/> waiting (or called later) throws <see cref="ObjectDisposedException"/>.
    /// </summary>
    public void Stop()
    {
        _stack.Unbind(this);
        var reset = new List<TcpConnection>();
        lock (_sync)
        {
            _stopped = true;
            while (_acceptors?.First is { } first)
            {
                _acceptors.RemoveFirst();
                first.Value.Dequeued();
                first.Value.Fail(Stopped());
            }
            while (_accepted.TryDequeue(out var waiting)) reset.Add(waiting);
            reset.AddRange(_halfOpen);
        }
        // Outside the listener's lock: a connection's lock is taken before it, never after.
        foreach (var connection in reset) connection.Abort();
    }

    private bool _stopped; // under _sync

    /// <summary>Hands an established connection to the oldest waiting accept, or queues it; false when the listener is stopped (the connection resets itself: nobody will accept it).</summary>
    internal bool Enqueue(TcpConnection connection)
    {
        lock (_sync)
        {
            if (_stopped) return false;
            // The oldest AcceptAsync still waiting takes it (one cancelled meanwhile is passed over).
            while (_acceptors?.First is { } first)
            {
                _acceptors.RemoveFirst();
                first.Value.Dequeued();
                if (first.Value.Complete(connection)) return true;
            }
            _accepted.Enqueue(connection);
            return true;
        }
    }
}
