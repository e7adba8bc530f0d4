using NicBypass.Runtime.Packets;
using NicBypass.Runtime.Virtualization;

namespace NicBypass.Runtime.Stacks;

/// <summary>
/// A UDP socket bound to a port: received datagrams wait in a fixed queue (copied into a slab,
/// no allocation per datagram; one longer than the MTU, reassembled from fragments, in a buffer
/// rented from the shared array pool, <see cref="MaxLargeBytes"/> of them at most) until read; a
/// full queue drops and counts (socket-full).
/// A datagram longer than the MTU is sent in IP fragments.
/// Thread-safe: a UDP-only stack delivers from several threads at once.
/// </summary>
public sealed class UdpSocket
{
    private readonly NetworkStack _stack;
    private readonly Lock _sync = new();
    private byte[]? _slab; // allocated with the first datagram queued: a socket read in place (Handler) never needs it
    private readonly int _slot;
    private readonly int _capacity;
    private (NetworkEndpoint From, int Length, byte[]? Large)[] _entries = Array.Empty<(NetworkEndpoint, int, byte[]?)>();
    private int _head, _count;
    private int _largeBytes; // of datagrams longer than a slot, queued in rented buffers

    /// <summary>Bytes of datagrams longer than the MTU a socket holds unread at most (more is socket-full): a peer cannot pin memory without bound.</summary>
    public const int MaxLargeBytes = 4 << 20;
    private LinkedList<PendingWait<(NetworkEndpoint, int)>>? _receivers; // ReceiveAsync calls waiting, oldest first; under _sync

    internal UdpSocket(NetworkStack stack, ushort port, int capacity, int mtu)
    {
        _stack = stack;
        Port = port;
        _slot = mtu;
        _capacity = capacity;
    }

    public ushort Port { get; }

    /// <summary>Datagrams waiting to be read.</summary>
    public int Pending
    {
        get { lock (_sync) return _count; }
    }

    /// <summary>Datagrams received (queued, or handed to <see cref="Handler"/>).</summary>
    public long Received => Volatile.Read(ref _received);

    private long _received;

    /// <summary>
    /// Zero-copy receive: when set, each datagram is handed to it as it arrives, in place — the
    /// payload span is valid only during the call — instead of being queued for
    /// <see cref="TryReceive"/>. On a UDP-only stack it may run on several threads at once. It runs
    /// on the thread servicing the receive path — a processor's, or a TAP reader's at the end of a
    /// burst — so it must not wait for a frame still to come in.
    /// </summary>
    public DatagramHandler? Handler { get; set; }

    /// <summary>Takes the oldest datagram: its payload into <paramref name="buffer"/> (cut to fit), its sender and full length.</summary>
    public bool TryReceive(Span<byte> buffer, out NetworkEndpoint from, out int length)
    {
        lock (_sync)
        {
            if (_count == 0)
            {
                from = default;
                length = 0;
                return false;
            }
            (from, length, var large) = _entries[_head];
            if (large is null)
            {
                _slab!.AsSpan(_head * _slot, Math.Min(length, buffer.Length)).CopyTo(buffer);
            }
            else
            {
                large.AsSpan(0, Math.Min(length, buffer.Length)).CopyTo(buffer);
                System.Buffers.ArrayPool<byte>.Shared.Return(large);
                _largeBytes -= length;
                _entries[_head].Large = null;
            }
            if (++_head == _entries.Length) _head = 0;
            _count--;
            return true;
        }
    }

    /// <summary>
    /// Waits for a datagram and takes it (its payload into <paramref name="buffer"/>, cut to fit;
    /// its sender and full length): at once if one waits, else the task completes as the datagram
    /// arrives — in the deterministic mode within the pump that delivered it, so
    /// <c>RunUntil(() => receive.IsCompleted, …)</c> sees it (it used to wait for a thread-pool
    /// hop that <c>RunUntil</c> did not: found by a new user's drive). Continuations run
    /// asynchronously, never on the datapath.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The socket was closed (or its host disposed) and no datagram waits: a wait in progress ends with it too.</exception>
    public Task<(NetworkEndpoint From, int Length)> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellation = default)
    {
        if (cancellation.IsCancellationRequested) return Task.FromCanceled<(NetworkEndpoint, int)>(cancellation);
        lock (_sync)
        {
            if (TryReceive(buffer.Span, out var from, out var length)) return Task.FromResult((from, length));
            if (_closed) return Task.FromException<(NetworkEndpoint, int)>(Closed());
            return new PendingWait<(NetworkEndpoint, int)>(_sync, buffer).Enqueue(_receivers ??= new(), cancellation);
        }
    }

    private ObjectDisposedException Closed() => new(nameof(UdpSocket), $"UDP socket on port {Port} is closed");


    /// <summary>
    /// Sends a datagram now if the output takes it: <see cref="SendStatus.Blocked"/> means the
    /// outbound VSQ is full (the stack exceeds its outbound bandwidth) — wait with
    /// <see cref="SendToAsync"/> instead of spinning.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The socket is closed (it still sent: found by a new user's drive; Linux says EBADF).</exception>
    public SendStatus TrySendTo(NetworkEndpoint to, ReadOnlySpan<byte> payload)
    {
        if (Volatile.Read(ref _closed)) throw Closed();
        // The IP length fields' limit (RFC 768 over RFC 791 / RFC 8200); past the MTU it leaves in fragments.
        var maxPayload = to.Address.IsV6 ? 65535 - 8 : 65535 - 20 - 8;
        if (payload.Length > maxPayload) throw new ArgumentException($"a {payload.Length}-byte datagram is longer than UDP over {(to.Address.IsV6 ? "IPv6" : "IPv4")} allows ({maxPayload} bytes)", nameof(payload));
        // A multicast datagram stays on the link unless told otherwise (RFC 1112 6.1: TTL 1).
        var multicast = to.Address.IsGroup && (to.Address.IsV6 || (uint)to.Address.Value != uint.MaxValue);
        var frame = _stack.BuildIp(_stack.SourceFor(to.Address), to.Address, IpProtocol.Udp, 8 + payload.Length, out var udp, hopLimit: multicast ? (byte)1 : (byte)64);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(udp, Port);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(udp.Slice(2), to.Port);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(udp.Slice(4), (ushort)(8 + payload.Length));
        payload.CopyTo(udp.Slice(8));
        NetworkStack.SealTransport(frame, 6);
        using (_stack.EnterTransport()) return _stack.Send(frame, to.Address);
    }

    /// <summary>
    /// Sends a datagram, waiting while the outbound VSQ holds the stack back: the task completes
    /// when the datagram has been accepted (sent, or queued to go). False if it was dropped.
    /// </summary>
    public async Task<bool> SendToAsync(NetworkEndpoint to, ReadOnlyMemory<byte> payload, CancellationToken cancellation = default)
    {
        while (true)
        {
            var writable = _stack.Output.WhenWritable();
            switch (TrySendTo(to, payload.Span))
            {
                case SendStatus.Sent or SendStatus.Queued: return true;
                case SendStatus.Spoofed or SendStatus.Malformed or SendStatus.Oversize: return false;
            }
            // Under NetworkHost.Run its continuation comes back to the run's context (the wait
            // completes after the pump): with ConfigureAwait(false) the retry left it, and a send
            // with a token stalled once the queue pushed back (found by a new user's drive).
            // Anywhere else it needs no context of the caller's (a UI's, a test framework's).
            var wait = cancellation.CanBeCanceled ? writable.WaitAsync(cancellation) : writable;
            if (ApplicationContext.OfCaller is null) await wait.ConfigureAwait(false);
            else await wait;
        }
    }

    /// <summary>Closes the socket: later datagrams to its port are answered with port unreachable, and a <see cref="ReceiveAsync"/> waiting (or called later, with nothing queued) throws <see cref="ObjectDisposedException"/>.</summary>
    public void Close()
    {
        _stack.Unbind(this);
        lock (_sync)
        {
            _closed = true;
            while (_receivers?.First is { } first)
            {
                _receivers.RemoveFirst();
                first.Value.Dequeued();
                first.Value.Fail(Closed());
            }
        }
    }

    private bool _closed; // under _sync

    internal bool Enqueue(NetworkEndpoint from, ReadOnlySpan<byte> payload)
    {
        if (Handler is { } handler)
        {
            Interlocked.Increment(ref _received);
            try
            {
                handler(from, payload);
            }
            catch
            {
                _stack.Counters.Drop(StackDropReason.HandlerFault); // neither delivered nor dropped otherwise
                throw;
            }
            return true;
        }
        lock (_sync)
        {
            // The oldest ReceiveAsync still waiting takes it, copied into its buffer (cut to fit);
            // one cancelled meanwhile is passed over. (A receiver waits only while none is queued.)
            while (_receivers?.First is { } first)
            {
                _receivers.RemoveFirst();
                var pending = first.Value;
                pending.Dequeued();
                if (pending.IsDone) continue;
                payload.Slice(0, Math.Min(payload.Length, pending.Buffer.Length)).CopyTo(pending.Buffer.Span);
                pending.Complete((from, payload.Length)); // not completed, and no cancel can come between (it takes this lock)
                _received++;
                return true;
            }
            if (_slab is null)
            {
                _slab = new byte[_capacity * _slot];
                _entries = new (NetworkEndpoint, int, byte[]?)[_capacity];
            }
            if (_count == _entries.Length) return false;
            var index = _head + _count;
            if (index >= _entries.Length) index -= _entries.Length;
            byte[]? large = null;
            if (payload.Length <= _slot)
            {
                payload.CopyTo(_slab.AsSpan(index * _slot));
            }
            else
            {
                if (_largeBytes + payload.Length > MaxLargeBytes) return false;
                large = System.Buffers.ArrayPool<byte>.Shared.Rent(payload.Length);
                payload.CopyTo(large);
                _largeBytes += payload.Length;
            }
            _entries[index] = (from, payload.Length, large);
            _count++;
            _received++;
        }
        return true;
    }
}
