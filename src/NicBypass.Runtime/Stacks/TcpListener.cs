using System.Collections.Concurrent;

namespace NicBypass.Runtime.Stacks;

/// <summary>
/// A TCP port in LISTEN: each SYN makes a connection in SYN-RECEIVED; once the handshake
/// completes it waits here until accepted. A full backlog drops further SYNs (counted as
/// socket-full; the peer retransmits its SYN). Half-open connections are bounded by the SYN
/// queue (<see cref="StackSettings.SynBacklog"/>): when it is full a new SYN pushes out the
/// oldest half-open connection, as Linux does without SYN cookies — a SYN flood from many
/// sources costs a bounded number of connections (with no buffers: those are taken on the first
/// byte) and cannot lock out a real client, whose SYN is always admitted.
/// </summary>
public sealed class TcpListener
{
    private readonly NetworkStack _stack;
    private readonly ConcurrentQueue<TcpConnection> _accepted = new();
    private readonly int _backlog;
    private TaskCompletionSource? _waiter;
    private readonly Lock _sync = new();
    private readonly Queue<TcpConnection> _halfOpen = new(); // oldest first; under _sync
    private long _synQueueDrops;

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
            lock (_sync) return _halfOpen.Count(c => c.State == TcpState.SynReceived);
        }
    }

    /// <summary>Admits a new half-open connection; returns the oldest one it pushed out of a full SYN queue, if any.</summary>
    internal TcpConnection? AdmitHalfOpen(TcpConnection connection, int limit)
    {
        lock (_sync)
        {
            TcpConnection? evicted = null;
            if (_halfOpen.Count >= limit)
            {
                // Those that completed or closed leave first; then the oldest half-open one.
                var alive = _halfOpen.Where(c => c.State == TcpState.SynReceived).ToList();
                _halfOpen.Clear();
                foreach (var c in alive) _halfOpen.Enqueue(c);
                if (_halfOpen.Count >= limit)
                {
                    evicted = _halfOpen.Dequeue();
                    _synQueueDrops++;
                }
            }
            _halfOpen.Enqueue(connection);
            return evicted;
        }
    }

    public bool TryAccept(out TcpConnection connection) => _accepted.TryDequeue(out connection!);

    public async Task<TcpConnection> AcceptAsync(CancellationToken cancellation = default)
    {
        while (true)
        {
            Task wait;
            lock (_sync)
            {
                if (_accepted.TryDequeue(out var connection)) return connection;
                _waiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                wait = _waiter.Task;
            }
            await wait.WaitAsync(cancellation).ConfigureAwait(false);
        }
    }

    /// <summary>Stops listening: new SYNs to the port are answered with RST.</summary>
    public void Stop() => _stack.Unbind(this);

    internal void Enqueue(TcpConnection connection)
    {
        TaskCompletionSource? waiter;
        lock (_sync)
        {
            _accepted.Enqueue(connection);
            waiter = _waiter;
            _waiter = null;
        }
        waiter?.TrySetResult();
    }
}
