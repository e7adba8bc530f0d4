using System.Collections.Concurrent;
using NicBypass.Runtime.Packets;

namespace NicBypass.Runtime.Stacks;

/// <summary>
/// A stack's neighbour cache (ARP for IPv4, neighbour discovery for IPv6): IP address → MAC. A
/// frame to a neighbour whose MAC is not known yet waits — up to <see cref="ParkedPerNeighbor"/>
/// frames and <see cref="ParkedBytesPerNeighbor"/> bytes per neighbour, as Linux's unresolved
/// queue (unres_qlen, unres_qlen_bytes); past that the oldest is dropped and counted —
/// while the stack solicits the MAC, once a second, three times, before the waiting frames are
/// dropped as <c>unresolved</c>.
///
/// Hardened against a hostile link (RFC 4861's states, Linux's bounds):
/// <list type="bullet">
/// <item>An entry is <b>reachable</b> for <see cref="ReachableTime"/> after a <i>solicited</i>
/// answer confirmed it (an ARP reply or a neighbour advertisement with the S flag, to a
/// solicitation of ours) and <b>stale</b> otherwise. Nothing unsolicited — a gleaned packet, an
/// ARP request, a neighbour solicitation, an unsolicited ARP reply or advertisement — changes a
/// reachable entry's MAC; gleaning only ever creates entries; unsolicited answers only update
/// entries that exist (RFC 4861 7.2.5: with no entry, an advertisement is ignored).</item>
/// <item>Nothing is learned for a group or zero MAC, or for the stack's own addresses.</item>
/// <item>At most <see cref="MaxEntries"/> entries: a new one first pushes out a stale entry with
/// nothing waiting; when none can go, nothing new is learned and a frame to a new neighbour is
/// dropped as <c>unresolved</c>.</item>
/// <item>Solicitations are rate-limited per stack (a burst of 20, then 100 a second); one held
/// back is sent by the retry timer.</item>
/// <item>Neighbour unreachability detection (RFC 4861 7.3.3): a stale entry used to send waits
/// <see cref="DelayFirstProbe"/> (DELAY), then is probed with unicast solicitations — an ARP
/// request or neighbour solicitation sent to its cached MAC — once a second (PROBE); a solicited
/// answer makes it reachable again, and after three unanswered probes the entry is deleted, so
/// the next frame resolves the address afresh. A gateway in use is so re-confirmed every
/// <see cref="ReachableTime"/> and never stays stale, where an unsolicited answer could move it.</item>
/// </list>
/// Static entries (<see cref="NetworkStack.AddNeighbor"/>) are never replaced or pushed out.
///
/// Locking: an entry's lock is held while a frame for it is sent or parked and while parked
/// frames are flushed, so frames to one neighbour leave in the order they were sent. It nests
/// inside a connection's lock and outside the VNS's transmit lock (see docs/architecture.md).
/// </summary>
internal sealed class NeighborCache
{
    /// <summary>Frames that may wait for one neighbour's MAC to be resolved (Linux's unres_qlen default).</summary>
    public const int ParkedPerNeighbor = 101;

    /// <summary>Bytes of frames that may wait for one neighbour's MAC (Linux's unres_qlen_bytes default, SK_WMEM_MAX).</summary>
    public const int ParkedBytesPerNeighbor = 212_992;

    /// <summary>Most entries (Linux's gc_thresh3).</summary>
    public const int MaxEntries = 1024;

    /// <summary>How long a solicited answer keeps an entry reachable (RFC 4861's REACHABLE_TIME).</summary>
    public static readonly TimeSpan ReachableTime = TimeSpan.FromSeconds(30);

    /// <summary>How long a stale entry in use waits before it is probed (RFC 4861's DELAY_FIRST_PROBE_TIME).</summary>
    public static readonly TimeSpan DelayFirstProbe = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(1);
    private const int MaxSolicitations = 3;   // MAX_MULTICAST_SOLICIT
    private const int MaxProbes = 3;          // MAX_UNICAST_SOLICIT
    private const long SolicitationsPerSecond = 100, SolicitationBurst = 20;

    private readonly NetworkStack _stack;
    private readonly ConcurrentDictionary<NetworkAddress, Entry> _entries = new();
    private int _count; // the entries' number, kept here: ConcurrentDictionary.Count takes every lock of the table
    private readonly Lock _admission = new(); // adding an entry to a full cache
    private readonly RateLimit _solicitations;
    private int _resolving; // entries being solicited or probed: the timer has nothing to do at 0

    // No resolution or probe timer falls due before this (timestamps): a lower bound, lowered
    // whenever one is set and raised by a scan, so the timer scans the entries (and allocates an
    // enumerator) only when something may be due, not on every tick.
    private long _earliest = long.MaxValue;

    private long RetryTicks => (long)(RetryInterval.TotalSeconds * _stack.Time.TimestampFrequency);

    private void Lower(long due)
    {
        var seen = Volatile.Read(ref _earliest);
        while (due < seen)
        {
            var was = Interlocked.CompareExchange(ref _earliest, due, seen);
            if (was == seen) return;
            seen = was;
        }
    }

    // The true earliest deadline, from a scan begun after reading `seen`; kept unless another
    // thread lowered the bound meanwhile (then theirs stays: it may be earlier).
    private void Raise(long seen, long found) => Interlocked.CompareExchange(ref _earliest, found, seen);

    public NeighborCache(NetworkStack stack)
    {
        _stack = stack;
        _solicitations = new RateLimit(stack.Time, SolicitationsPerSecond, SolicitationBurst);
    }

    /// <summary>True while some neighbour is being solicited, or is waiting for or under a probe (its timer must run).</summary>
    public bool Resolving => Volatile.Read(ref _resolving) > 0;

    /// <summary>Entries now.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>The MAC known for <paramref name="address"/> (0: none), and whether the entry is reachable now.</summary>
    public (ulong Mac, bool Reachable) Lookup(NetworkAddress address) =>
        _entries.TryGetValue(address, out var entry) ? (Volatile.Read(ref entry.Mac), IsReachable(entry)) : (0, false);

    /// <summary>
    /// Sends a built frame to <paramref name="nextHop"/>: fills in its MAC and transmits, or
    /// parks the frame and solicits the MAC. Returns what the output said, or
    /// <see cref="SendStatus.Queued"/> for a parked frame (or one dropped because the cache is full).
    /// </summary>
    public SendStatus Send(Span<byte> frame, NetworkAddress nextHop, bool reply)
    {
    again:
        if (!TryRecent(nextHop, out var entry) && !_entries.TryGetValue(nextHop, out entry))
        {
            // A group has no entry: it is never resolved (off the path of a transfer's frames, which hit the last entry).
            if (nextHop.IsGroup) return _stack.SendToGroup(frame, nextHop, reply);
            // The broadcast address of one of its subnets (10.0.0.255 for 10.0.0.1/24) is no
            // neighbour: to every station, as Linux sends it (it was solicited, then dropped
            // unresolved: found by a new user's drive). No entry is learned for it (Learnable).
            if (_stack.IsSubnetBroadcast(nextHop)) return _stack.SendToBroadcast(frame, reply);
            entry = Admit(nextHop);
            if (entry is null)
            {
                _stack.Counters.DropSend(StackDropReason.Unresolved);
                return SendStatus.Queued;
            }
        }
        var mac = Volatile.Read(ref entry.Mac);
        if (mac != 0)
        {
            // Written only when it changes: several threads sending through one cache would
            // otherwise all write one shared line every frame.
            if (!ReferenceEquals(Volatile.Read(ref _recent), entry)) Volatile.Write(ref _recent, entry);
            // A stale entry in use is checked: DELAY, then PROBE (RFC 4861 7.3.3).
            if (Volatile.Read(ref entry.ProbeAt) == 0 && !IsReachable(entry)) Delay(entry);
            EthernetHeader.WriteMac(frame, mac);
            return _stack.Transmit(frame, reply);
        }
        bool first;
        lock (entry)
        {
            if (entry.Removed) goto again; // pushed out meanwhile: nothing may wait on it
            if (entry.Mac != 0)
            {
                EthernetHeader.WriteMac(frame, entry.Mac);
                return _stack.Transmit(frame, reply);
            }
            entry.Parked ??= new Queue<byte[]>();
            while (entry.Parked.Count > 0 && (entry.Parked.Count == ParkedPerNeighbor || entry.ParkedBytes + frame.Length > ParkedBytesPerNeighbor))
            {
                entry.ParkedBytes -= entry.Parked.Dequeue().Length; // the oldest makes room, as Linux's __neigh_event_send does
                _stack.Counters.DropSend(StackDropReason.Unresolved);
            }
            entry.Parked.Enqueue(frame.ToArray());
            entry.ParkedBytes += frame.Length;
            first = entry.Attempts == 0;
            if (first)
            {
                entry.Attempts = 1;
                entry.SolicitedAt = _stack.Time.GetTimestamp();
                Lower(entry.SolicitedAt + RetryTicks);
                Interlocked.Increment(ref _resolving);
                _stack.TimerArmed?.Invoke();
            }
        }
        if (first) Solicit(nextHop, entry);
        return SendStatus.Queued; // counted as sent when it leaves (or dropped, if it never does)
    }

    // A stale entry was used: probe it after DelayFirstProbe unless something confirms it first.
    private void Delay(Entry entry)
    {
        lock (entry)
        {
            if (entry.Removed || entry.ProbeAt != 0 || entry.Mac == 0 || IsReachable(entry)) return;
            entry.ProbeAt = _stack.Time.GetTimestamp() + (long)(DelayFirstProbe.TotalSeconds * _stack.Time.TimestampFrequency);
            Lower(entry.ProbeAt);
            entry.Probes = 0;
            Interlocked.Increment(ref _resolving);
        }
        _stack.TimerArmed?.Invoke();
    }

    /// <summary>
    /// An answer (an ARP reply, a neighbour advertisement with the S flag): it confirms an entry
    /// we are resolving, or one waiting for or under a probe if it names the MAC we hold; anything
    /// else is unsolicited, whatever its flags say.
    /// </summary>
    public void Answered(NetworkAddress address, ulong mac)
    {
        if (!Confirm(address, mac)) Unsolicited(address, mac);
    }

    /// <summary>A static entry (configuration, tests): always used, never replaced or pushed out.</summary>
    public void AddStatic(NetworkAddress address, ulong mac)
    {
        if (!Learnable(address, mac)) return;
        var entry = AddEntry(address);
        entry.Static = true;
        Update(entry, mac, confirmed: true);
    }

    // Confirms an entry we asked about; false (nothing changed) otherwise.
    private bool Confirm(NetworkAddress address, ulong mac)
    {
        if (!Learnable(address, mac) || !_entries.TryGetValue(address, out var entry) || entry.Static) return false;
        lock (entry)
        {
            // Answers only what we asked: an entry being resolved (the first answer wins), or one
            // in DELAY or PROBE — and then only for the MAC it holds: a neighbour that really moved
            // does not answer there, so its entry is deleted and resolved afresh.
            var resolving = entry.Mac == 0 && entry.Attempts > 0;
            var checking = entry.Mac != 0 && entry.ProbeAt != 0 && entry.Mac == mac;
            if (!resolving && !checking) return false;
        }
        Update(entry, mac, confirmed: true);
        return true;
    }

    /// <summary>A neighbour told us its MAC unasked (an ARP request or neighbour solicitation for us): a stale entry, new or updated — never over one that was ever confirmed.</summary>
    public void Observe(NetworkAddress address, ulong mac)
    {
        if (!Learnable(address, mac)) return;
        var entry = _entries.TryGetValue(address, out var known) ? known : Admit(address);
        if (entry is null || entry.Static) return;
        if (Volatile.Read(ref entry.Mac) == mac) return;
        if (!Movable(entry)) return;
        Update(entry, mac, confirmed: false);
    }

    /// <summary>An unsolicited answer (an ARP reply or advertisement nobody asked for): updates an existing entry that was never confirmed only.</summary>
    public bool Unsolicited(NetworkAddress address, ulong mac)
    {
        if (!Learnable(address, mac) || !_entries.TryGetValue(address, out var entry) || entry.Static) return false;
        if (Volatile.Read(ref entry.Mac) == 0 || Volatile.Read(ref entry.Mac) == mac || !Movable(entry)) return false;
        Update(entry, mac, confirmed: false);
        return true;
    }

    // Whether unsolicited news may move an entry's MAC: only one that no answer of ours ever
    // confirmed and that is not waiting for or under a probe. A confirmed entry whose neighbour
    // really moved is re-checked by its probes (unanswered at the old MAC, it is deleted and
    // resolved afresh), so a forged reply can never take over a neighbour we once confirmed —
    // stale or not (RFC 4861 lets an override flag move a stale entry; this is stricter).
    private static bool Movable(Entry entry) =>
        Volatile.Read(ref entry.ConfirmedAt) == 0 && Volatile.Read(ref entry.ProbeAt) == 0;

    /// <summary>
    /// An upper layer saw forward progress with <paramref name="address"/> (RFC 4861 7.3.1: a TCP
    /// ACK for new data): the neighbour is reachable, and a probe waiting for it is called off.
    /// </summary>
    public void ConfirmProgress(NetworkAddress address)
    {
        if (!_entries.TryGetValue(address, out var entry) || entry.Static) return;
        lock (entry)
        {
            if (entry.Removed || Volatile.Read(ref entry.Mac) == 0) return;
            entry.ConfirmedAt = Math.Max(1, _stack.Time.GetTimestamp());
            if (entry.ProbeAt != 0)
            {
                entry.ProbeAt = 0;
                entry.Probes = 0;
                Interlocked.Decrement(ref _resolving);
            }
        }
    }

    /// <summary>A unicast packet from <paramref name="source"/> came from <paramref name="mac"/>: a new stale entry if it has none; an existing entry is never changed by it.</summary>
    public void Glean(NetworkAddress source, ulong mac)
    {
        // An existing entry — known, or being resolved (left to the solicitation's answer) — is never changed by it.
        if (TryRecent(source, out _) || _entries.ContainsKey(source) || !Learnable(source, mac)) return;
        var entry = Admit(source);
        if (entry is null || Volatile.Read(ref entry.Mac) != 0) return;
        Update(entry, mac, confirmed: false);
    }

    // Not a subnet's broadcast address either: a station claiming it (ARP "tell 10.0.0.255") would
    // draw every broadcast datagram to itself (found by review).
    private bool Learnable(NetworkAddress address, ulong mac) =>
        mac != 0 && !EthernetHeader.IsGroupAddress(mac) && address.Value != 0 && !_stack.OwnsAddress(address) && !_stack.IsSubnetBroadcast(address);

    private bool IsReachable(Entry entry) =>
        entry.Static || entry.ConfirmedAt != 0 && _stack.Time.GetElapsedTime(entry.ConfirmedAt) < ReachableTime;

    // A new entry for `address`, if the cache has room (pushing out a stale entry with nothing waiting if it must).
    private Entry? Admit(NetworkAddress address)
    {
        if (Count < MaxEntries) return AddEntry(address);
        lock (_admission)
        {
            if (_entries.TryGetValue(address, out var existing)) return existing;
            if (Count >= MaxEntries)
            {
                foreach (var pair in _entries)
                {
                    // A stale entry goes, even one waiting for or under a probe (a flood's entries
                    // all are, once answered); an entry being resolved or reachable stays.
                    var candidate = pair.Value;
                    if (candidate.Static || candidate.Attempts > 0 || candidate.Parked is { Count: > 0 } || IsReachable(candidate)) continue;
                    if (Remove(pair, evicting: true)) break;
                }
                // None stale: push out the reachable entry confirmed longest ago, rather than
                // refuse every new neighbour while a flood of answered entries holds the cache.
                if (Count >= MaxEntries)
                {
                    var oldest = default(KeyValuePair<NetworkAddress, Entry>);
                    foreach (var pair in _entries)
                    {
                        var e = pair.Value;
                        if (e.Static || e.Attempts > 0 || e.Parked is { Count: > 0 }) continue;
                        if (oldest.Value is null || e.ConfirmedAt < oldest.Value.ConfirmedAt) oldest = pair;
                    }
                    if (oldest.Value is not null) Remove(oldest, evicting: true);
                }
                if (Count >= MaxEntries) return null;
            }
            return AddEntry(address);
        }
    }

    // The entry a frame was last sent through, if it is for `address` and still in the cache: a
    // connection's segments go to one neighbour, and each took a dictionary look-up (the frames
    // coming back from it another, to glean).
    private Entry? _recent;

    private bool TryRecent(NetworkAddress address, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Entry? entry)
    {
        entry = Volatile.Read(ref _recent);
        if (entry is not null && entry.Address == address && !Volatile.Read(ref entry.Removed)) return true;
        entry = null;
        return false;
    }

    // The entry for `address`, made and counted if it has none.
    private Entry AddEntry(NetworkAddress address)
    {
        var fresh = new Entry { Address = address };
        var entry = _entries.GetOrAdd(address, fresh);
        if (ReferenceEquals(entry, fresh)) Interlocked.Increment(ref _count);
        return entry;
    }

    // Takes an entry out of the cache (marked removed, so a sender holding it looks again) and
    // ends its probe timer. False if it was gone already.
    // Eviction chose it without its lock: a sender may have started resolving it or parked a
    // frame on it since, and then it stays.
    private bool Remove(KeyValuePair<NetworkAddress, Entry> pair, bool evicting = false)
    {
        var entry = pair.Value;
        lock (entry)
        {
            if (evicting && (entry.Attempts > 0 || entry.Parked is { Count: > 0 })) return false;
            if (entry.Removed || !_entries.TryRemove(pair)) return false;
            Interlocked.Decrement(ref _count);
            entry.Removed = true;
            if (entry.ProbeAt != 0)
            {
                entry.ProbeAt = 0;
                Interlocked.Decrement(ref _resolving);
            }
            return true;
        }
    }

    private void Update(Entry entry, ulong mac, bool confirmed)
    {
        lock (entry)
        {
            if (confirmed) entry.ConfirmedAt = Math.Max(1, _stack.Time.GetTimestamp());
            if (confirmed && entry.ProbeAt != 0)
            {
                entry.ProbeAt = 0; // reachable again: no more probes
                entry.Probes = 0;
                Interlocked.Decrement(ref _resolving);
            }
            if (entry.Attempts > 0) Interlocked.Decrement(ref _resolving);
            entry.Attempts = 0;
            entry.Solicited = 0;
            entry.ParkedBytes = 0;
            while (entry.Parked is { Count: > 0 } waiting)
            {
                var parked = waiting.Dequeue();
                EthernetHeader.WriteMac(parked, mac);
                // As any frame leaves (counted as sent, or dropped with its reason; one longer
                // than the MTU in fragments); none may wait any longer, so a blocked one is dropped.
                _stack.Transmit(parked, reply: true);
            }
            // Published only now: a sender that finds it on the lock-free path goes after the
            // frames that waited for it (one that finds none takes the lock, and waits its turn).
            Volatile.Write(ref entry.Mac, mac);
        }
    }

    // Solicitations are rate-limited per stack; one held back is left to the retry timer (and
    // not counted towards giving up: a burst of connects to many peers gave up on some having
    // asked fewer than three times; found by review).
    private bool Solicit(NetworkAddress address, Entry entry)
    {
        if (!_solicitations.TryTake()) return false;
        Interlocked.Increment(ref entry.Solicited);
        _stack.Solicit(address);
        return true;
    }

    /// <summary>
    /// True when a solicitation or probe may be due at <paramref name="now"/> (the bound is at or
    /// before every deadline). A stale entry in use waits five seconds for its probe: a worker
    /// that polls on every frame meanwhile must not walk the table each time.
    /// </summary>
    public bool DueBy(long now) => Resolving && now >= Volatile.Read(ref _earliest);

    /// <summary>When the next solicitation falls due, in the clock's timestamps; <see cref="long.MaxValue"/> for none.</summary>
    public long NextDue()
    {
        if (!Resolving) return long.MaxValue;
        // The bound is exact unless a deadline it counted has gone (an answer came, an entry was
        // removed) and it has passed: then look again.
        var seen = Volatile.Read(ref _earliest);
        if (seen > _stack.Time.GetTimestamp()) return seen;
        var due = Scan();
        Raise(seen, due);
        return due;
    }

    // The earliest resolution or probe deadline of the entries (a scan).
    private long Scan()
    {
        var due = long.MaxValue;
        var interval = RetryTicks;
        foreach (var pair in _entries)
        {
            var entry = pair.Value;
            if (Volatile.Read(ref entry.Mac) == 0 && entry.Attempts > 0) due = Math.Min(due, entry.SolicitedAt + interval);
            else if (Volatile.Read(ref entry.ProbeAt) is var probe and not 0) due = Math.Min(due, probe);
        }
        return due;
    }

    /// <summary>Solicits again the neighbours whose answer is overdue; gives up (dropping what waits) after three tries. True if it sent anything.</summary>
    public bool RetryDue(long now)
    {
        var seen = Volatile.Read(ref _earliest);
        if (now < seen) return false; // nothing can be due yet
        var progress = false;
        foreach (var pair in _entries)
        {
            if (Volatile.Read(ref pair.Value.Mac) == 0) progress |= Retry(pair.Key, pair.Value, now);
            else if (Volatile.Read(ref pair.Value.ProbeAt) is var probe and not 0 && probe <= now) progress |= Probe(pair, now);
        }
        Raise(seen, Scan());
        return progress;
    }

    // PROBE: a unicast solicitation to the cached MAC, once a second; after MaxProbes unanswered, the entry goes.
    private bool Probe(KeyValuePair<NetworkAddress, Entry> pair, long now)
    {
        var (address, entry) = (pair.Key, pair.Value);
        ulong mac;
        lock (entry)
        {
            if (entry.ProbeAt == 0 || entry.ProbeAt > now) return false;
            if (entry.Probes >= MaxProbes)
            {
                if (Remove(pair)) Interlocked.Increment(ref _stack.Counters._neighborsUnreachable); // unreachable: the next frame resolves it afresh
                return false;
            }
            // Held back by the rate limit: try again in a second without spending a probe.
            if (!_solicitations.TryTake())
            {
                entry.ProbeAt = now + RetryTicks;
                Lower(entry.ProbeAt);
                return false;
            }
            entry.Probes++;
            entry.ProbeAt = now + RetryTicks;
            Lower(entry.ProbeAt);
            mac = entry.Mac;
        }
        _stack.Solicit(address, mac);
        return true;
    }

    private bool Retry(NetworkAddress address, Entry entry, long now)
    {
        bool unresolved;
        lock (entry)
        {
            if (entry.Mac != 0 || entry.Attempts == 0) return false;
            if (_stack.Time.GetElapsedTime(entry.SolicitedAt, now) < RetryInterval) return false;
            unresolved = Volatile.Read(ref entry.Solicited) >= MaxSolicitations;
            if (!unresolved)
            {
                entry.Attempts++;
                entry.SolicitedAt = now;
                Lower(now + RetryTicks);
            }
            else
            {
                while (entry.Parked is { Count: > 0 } parked)
                {
                    parked.Dequeue();
                    _stack.Counters.DropSend(StackDropReason.Unresolved);
                }
                entry.ParkedBytes = 0;
                entry.Attempts = 0;
                entry.Solicited = 0;
                Interlocked.Decrement(ref _resolving);
            }
        }
        if (!unresolved) return Solicit(address, entry);
        // Outside the entry's lock: a connection's lock comes first where both are taken (its
        // sends resolve through here). Only connections whose first SYN was parked by then: one
        // opened since, on another thread, resolves afresh (found by review).
        _stack.NeighborUnresolved(address, now);
        return false;
    }

    private sealed class Entry
    {
        public NetworkAddress Address;
        public ulong Mac;
        public Queue<byte[]>? Parked;
        public int Solicited; // solicitations actually sent in this round of resolution (the rate limiter may hold one back)
        public int ParkedBytes; // of the frames in Parked
        public int Attempts;
        public long SolicitedAt;
        public long ConfirmedAt; // timestamp of the last solicited answer; 0: never (stale)
        public long ProbeAt;     // DELAY or PROBE: when the next probe is due; 0: neither
        public int Probes;       // unicast probes sent in this PROBE
        public bool Removed;     // taken out of the cache: a sender holding it looks again
        public bool Static;
    }
}
