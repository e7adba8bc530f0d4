using System.Collections.Concurrent;
using NicBypass.Runtime.Packets;

namespace NicBypass.Runtime.Stacks;

/// <summary>
/// A stack's neighbour cache (ARP for IPv4, neighbour discovery for IPv6): IP address → MAC,
/// learned from answers, solicitations and the unicast packets the stack accepts (gleaned, as
/// Solaris' IP does on input). A frame to a neighbour whose MAC is not known yet waits — up to
/// <see cref="ParkedPerNeighbor"/> per neighbour, as Linux's unresolved queue; past that the
/// oldest is dropped and counted — while the stack solicits the MAC, once a second, three times,
/// before the waiting frames are dropped as <c>unresolved</c>.
///
/// Locking: an entry's lock is held while a frame for it is sent or parked and while parked
/// frames are flushed, so frames to one neighbour leave in the order they were sent. It nests
/// inside a connection's lock and outside the VNS's transmit lock (see docs/architecture.md).
/// </summary>
internal sealed class NeighborCache
{
    /// <summary>Frames that may wait for one neighbour's MAC to be resolved.</summary>
    public const int ParkedPerNeighbor = 8;

    private static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(1);
    private const int MaxSolicitations = 3;

    private readonly NetworkStack _stack;
    private readonly ConcurrentDictionary<NetworkAddress, Entry> _entries = new();
    private int _resolving; // entries being solicited: the timer has nothing to do at 0

    public NeighborCache(NetworkStack stack) => _stack = stack;

    /// <summary>True while some neighbour is being solicited (its timer must run).</summary>
    public bool Resolving => Volatile.Read(ref _resolving) > 0;

    /// <summary>
    /// Sends a built frame to <paramref name="nextHop"/>: fills in its MAC and transmits, or
    /// parks the frame and solicits the MAC. Returns what the output said, or
    /// <see cref="SendStatus.Queued"/> for a parked frame.
    /// </summary>
    public SendStatus Send(Span<byte> frame, NetworkAddress nextHop, bool reply)
    {
        var entry = _entries.GetOrAdd(nextHop, static _ => new Entry());
        var mac = Volatile.Read(ref entry.Mac);
        if (mac != 0)
        {
            EthernetHeader.WriteMac(frame, mac);
            return _stack.Transmit(frame, reply);
        }
        bool first;
        lock (entry)
        {
            if (entry.Mac != 0)
            {
                EthernetHeader.WriteMac(frame, entry.Mac);
                return _stack.Transmit(frame, reply);
            }
            entry.Parked ??= new Queue<byte[]>();
            if (entry.Parked.Count == ParkedPerNeighbor)
            {
                entry.Parked.Dequeue();
                _stack.Counters.DropSend(StackDropReason.Unresolved);
            }
            entry.Parked.Enqueue(frame.ToArray());
            first = entry.Attempts == 0;
            if (first)
            {
                entry.Attempts = 1;
                entry.SolicitedAt = _stack.Time.GetTimestamp();
                Interlocked.Increment(ref _resolving);
            }
        }
        if (first) _stack.Solicit(nextHop);
        StackCounters.AddShared(ref _stack.Counters._sent);
        return SendStatus.Queued;
    }

    /// <summary>Learns (or overrides) a neighbour's MAC and sends what waited for it. Group and zero MACs are ignored.</summary>
    public void Learn(NetworkAddress address, ulong mac)
    {
        if (mac == 0 || (mac & 0x0100_0000_0000UL) != 0) return;
        var entry = _entries.GetOrAdd(address, static _ => new Entry());
        lock (entry)
        {
            Volatile.Write(ref entry.Mac, mac);
            if (entry.Attempts > 0) Interlocked.Decrement(ref _resolving);
            entry.Attempts = 0;
            while (entry.Parked is { Count: > 0 } waiting)
            {
                var parked = waiting.Dequeue();
                EthernetHeader.WriteMac(parked, mac);
                if (_stack.Output.Send(parked) is not (SendStatus.Sent or SendStatus.Queued)) _stack.Counters.DropSend(StackDropReason.OutputBlocked);
            }
        }
    }

    /// <summary>A unicast packet from <paramref name="source"/> came from <paramref name="mac"/>: learn it unless already known.</summary>
    public void Glean(NetworkAddress source, ulong mac)
    {
        if (source.Value == 0) return;
        if (_entries.TryGetValue(source, out var known) && Volatile.Read(ref known.Mac) == mac) return;
        Learn(source, mac);
    }

    /// <summary>When the next solicitation falls due, in the clock's timestamps; <see cref="long.MaxValue"/> for none.</summary>
    public long NextDue()
    {
        if (!Resolving) return long.MaxValue;
        var due = long.MaxValue;
        var interval = (long)(RetryInterval.TotalSeconds * _stack.Time.TimestampFrequency);
        foreach (var pair in _entries)
        {
            var entry = pair.Value;
            if (Volatile.Read(ref entry.Mac) == 0 && entry.Attempts > 0) due = Math.Min(due, entry.SolicitedAt + interval);
        }
        return due;
    }

    /// <summary>Solicits again the neighbours whose answer is overdue; gives up (dropping what waits) after three tries. True if it sent anything.</summary>
    public bool RetryDue(long now)
    {
        var progress = false;
        foreach (var pair in _entries)
        {
            if (Volatile.Read(ref pair.Value.Mac) == 0) progress |= Retry(pair.Key, pair.Value, now);
        }
        return progress;
    }

    private bool Retry(NetworkAddress address, Entry entry, long now)
    {
        lock (entry)
        {
            if (entry.Mac != 0 || entry.Attempts == 0) return false;
            if (_stack.Time.GetElapsedTime(entry.SolicitedAt, now) < RetryInterval) return false;
            if (entry.Attempts >= MaxSolicitations)
            {
                while (entry.Parked is { Count: > 0 } parked)
                {
                    parked.Dequeue();
                    _stack.Counters.DropSend(StackDropReason.Unresolved);
                }
                entry.Attempts = 0;
                Interlocked.Decrement(ref _resolving);
                return false;
            }
            entry.Attempts++;
            entry.SolicitedAt = now;
        }
        _stack.Solicit(address);
        return true;
    }

    private sealed class Entry
    {
        public ulong Mac;
        public Queue<byte[]>? Parked;
        public int Attempts;
        public long SolicitedAt;
    }
}
