using System.Collections.Concurrent;
using NicBypass.Runtime.Packets;
using NicBypass.Runtime.Rings;

namespace NicBypass.Runtime.Virtualization;

/// <summary>
/// One of the host's processors. Rings raise interrupts here (hardware for HRRs, software for
/// SRRs); servicing an interrupt drains the ring into its client in batches of
/// <see cref="BatchSize"/>. Polling consumers (VSQs in polling mode) run here too.
///
/// In the deterministic mode the host calls <see cref="RunOnce"/> for every processor in turn on
/// one thread; in the threaded mode each processor has a thread of its own that waits for
/// interrupts. Pending interrupts sit in a concurrent queue, so the NIC (the producer) never
/// blocks on a processor.
/// </summary>
public sealed class Processor : IInterruptTarget
{
    /// <summary>Descriptors moved per call from a ring to its client.</summary>
    public const int BatchSize = 32;

    private readonly ConcurrentQueue<ReceiveRing> _pending = new();
    private readonly List<IPollingConsumer> _pollers = new();
    private readonly PacketDescriptor[] _batch = new PacketDescriptor[BatchSize];
    private readonly SemaphoreSlim _signal = new(0);

    internal Processor(int id) => Id = id;

    public int Id { get; }

    public long HardwareInterrupts { get; private set; }

    public long SoftwareInterrupts { get; private set; }

    internal IReadOnlyList<IPollingConsumer> Pollers => _pollers;

    /// <summary>Set while a thread of the threaded mode owns this processor.</summary>
    internal bool Threaded { get; set; }

    public void RaiseInterrupt(ReceiveRing ring)
    {
        if (ring.InterruptKind == InterruptKind.Hardware) HardwareInterrupts++;
        else SoftwareInterrupts++;
        _pending.Enqueue(ring);
        if (Threaded) _signal.Release();
    }

    internal void AddPoller(IPollingConsumer poller) => _pollers.Add(poller);

    /// <summary>Services every pending interrupt and runs every poller once; true if anything moved.</summary>
    public bool RunOnce()
    {
        var progress = false;
        var batch = _batch.AsSpan();
        while (_pending.TryDequeue(out var ring))
        {
            var client = ring.Client!;
            int n, room;
            while ((room = client.Room) > 0 && (n = ring.Queue.Dequeue(room >= batch.Length ? batch : batch.Slice(0, room))) > 0)
            {
                client.Receive(ring, batch.Slice(0, n));
            }
            if (room <= 0 && !ring.Queue.IsEmpty)
            {
                // The client is full (a VNS's inbound VSQ at its threshold): the ring switches to
                // polling and keeps the rest until the client drains and takes them.
                ring.DisableInterrupts();
                client.Backlogged();
            }
            ring.InterruptServiced();
            progress = true;
        }
        foreach (var poller in _pollers) progress |= poller.Poll();
        return progress;
    }

    /// <summary>When something it runs next has work that only time brings; <see cref="long.MaxValue"/> for none.</summary>
    internal long NextDue()
    {
        var due = long.MaxValue;
        foreach (var poller in _pollers) due = Math.Min(due, poller.NextDue());
        return due;
    }

    /// <summary>Threaded mode: waits until an interrupt arrives or <paramref name="timeout"/> passes.</summary>
    internal bool Wait(TimeSpan timeout, CancellationToken cancellation)
    {
        try
        {
            return _signal.Wait(timeout, cancellation);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    internal bool HasPending => !_pending.IsEmpty;

    /// <summary>Wakes the processor's thread (threaded mode) so it re-checks its work.</summary>
    internal void Wake() => _signal.Release();

    public override string ToString() => "cpu" + Id;
}
