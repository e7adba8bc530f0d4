using System.Collections.Concurrent;

namespace NicBypass.Runtime.Stacks;

/// <summary>
/// A TCP port in LISTEN: each SYN makes a connection in SYN-RECEIVED; once the handshake
/// completes it waits here until accepted. A full backlog drops further SYNs (counted as
/// socket-full; the peer retransmits its SYN).
/// </summary>
public sealed class TcpListener
{
    private readonly NetworkStack _stack;
    private readonly ConcurrentQueue<TcpConnection> _accepted = new();
    private readonly int _backlog;
    private TaskCompletionSource? _waiter;
    private readonly Lock _sync = new();

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
