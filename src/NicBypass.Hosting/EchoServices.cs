using NicBypass.Runtime.Stacks;
using NicBypass.Runtime.Virtualization;

namespace NicBypass.Hosting;

/// <summary>
/// An echo server on every declared port of every container and service (README.md § Real peers): TCP
/// connections get back every byte they send, then a FIN after theirs; UDP datagrams are sent
/// back to their sender. What <c>nicbypass run</c> serves, and what a test of the stacks against a
/// real peer talks to. Runs on the host's threads (threaded mode); <see cref="DisposeAsync"/>
/// stops listening and waits for the open connections to end.
/// </summary>
public sealed class EchoServices : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _tasks = new();
    private readonly List<TcpListener> _listeners = new();
    private readonly List<UdpSocket> _sockets = new();
    private long _connections;
    private long _bytes;
    private long _datagrams;
    private long _failures;

    private EchoServices()
    {
    }

    /// <summary>Every (stack, transport, port) served, as "c1 tcp/7".</summary>
    public IReadOnlyList<string> Endpoints { get; private set; } = Array.Empty<string>();

    /// <summary>TCP connections accepted.</summary>
    public long Connections => Interlocked.Read(ref _connections);

    /// <summary>TCP bytes echoed.</summary>
    public long BytesEchoed => Interlocked.Read(ref _bytes);

    /// <summary>UDP datagrams echoed.</summary>
    public long DatagramsEchoed => Interlocked.Read(ref _datagrams);

    /// <summary>Echoes that could not be sent (a datagram the full output refused or dropped, a connection reset mid-echo).</summary>
    public long Failures => Interlocked.Read(ref _failures);

    /// <summary>Datagrams not echoed because they came from a service port (below 1024): two echo services would bounce one datagram forever.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    private long _refused;

    /// <summary>Starts the echo servers of <paramref name="host"/>'s containers and services.</summary>
    public static EchoServices Start(NetworkHost host)
    {
        var services = new EchoServices();
        try
        {
            services.Listen(host);
        }
        catch
        {
            services.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(10));
            throw;
        }
        return services;
    }

    private void Listen(NetworkHost host)
    {
        var services = this;
        var endpoints = new List<string>();
        foreach (var vns in host.NetworkStacks)
        {
            foreach (var port in (vns.Settings.Ports ?? Array.Empty<int>()).Distinct())
            {
                if ((vns.Settings.Protocols & StackProtocols.Tcp) != 0)
                {
                    var listener = vns.Stack.ListenTcp(port);
                    services._listeners.Add(listener);
                    services._tasks.Add(services.AcceptLoop(listener));
                    endpoints.Add($"{vns.Name} tcp/{port}");
                }
                if ((vns.Settings.Protocols & StackProtocols.Udp) != 0)
                {
                    var socket = vns.Stack.BindUdp(port);
                    services._sockets.Add(socket);
                    // Echoed in place as each datagram arrives, on the stack's processor: no hop
                    // through a task, and `trace` sees the echo leave within the frame's own pump.
                    socket.Handler = (from, payload) => services.EchoDatagram(socket, from, payload);
                    endpoints.Add($"{vns.Name} udp/{port}");
                }
            }
        }
        services.Endpoints = endpoints;
    }

    private async Task AcceptLoop(TcpListener listener)
    {
        var connections = new List<Task>();
        try
        {
            while (true)
            {
                var connection = await listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
                Interlocked.Increment(ref _connections);
                connections.RemoveAll(t => t.IsCompleted);
                connections.Add(Task.Run(() => Echo(connection)));
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (ObjectDisposedException)
        {
            // The listener stopped under it (its host was disposed): the echo ends.
        }
        await Task.WhenAll(connections).ConfigureAwait(false);
    }

    private async Task Echo(TcpConnection connection)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var n = await connection.ReadAsync(buffer, _stop.Token).ConfigureAwait(false);
                if (n == 0) break; // the peer's FIN (or the connection ended)
                await connection.SendAsync(buffer.AsMemory(0, n), _stop.Token).ConfigureAwait(false);
                Interlocked.Add(ref _bytes, n);
            }
            if (connection.State != TcpState.Closed) connection.Close();
        }
        catch (OperationCanceledException)
        {
            connection.Abort();
        }
        catch (Exception e) when (e is TcpException or InvalidOperationException or ObjectDisposedException)
        {
            Interlocked.Increment(ref _failures);
        }
    }

    private void EchoDatagram(UdpSocket socket, NetworkEndpoint from, ReadOnlySpan<byte> payload)
    {
        if (from.Port < 1024)
        {
            Interlocked.Increment(ref _refused);
            return;
        }
        bool sent;
        try
        {
            // Blocked: the outbound VSQ is full (the stack is over its outbound bandwidth); a
            // handler cannot wait, so the echo is lost and counted, as a loaded UDP server's would be.
            sent = socket.TrySendTo(from, payload) is SendStatus.Sent or SendStatus.Queued;
        }
        catch (ArgumentException)
        {
            sent = false; // larger than the MTU allows back (the stack does not fragment)
        }
        catch (ObjectDisposedException)
        {
            return; // shutting down (run's exit closes the sockets while the processors still run): no answer, and no fault (found by review)
        }
        Interlocked.Increment(ref sent ? ref _datagrams : ref _failures);
    }

    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested) return;
        _stop.Cancel();
        try
        {
            foreach (var listener in _listeners) listener.Stop();
            await Task.WhenAll(_tasks).ConfigureAwait(false);
        }
        finally
        {
            foreach (var socket in _sockets) socket.Close();
            _stop.Dispose();
        }
    }
}
