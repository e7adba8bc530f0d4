namespace NicBypass.Runtime.Stacks;

/// <summary>
/// What path MTU discovery has learned about each destination (RFC 1191 6.3, RFC 8201 5.2; Linux
/// keeps it on the route): a router said a packet to it was too big for a link of so many bytes.
/// A datagram to it larger than that leaves in fragments of that size (so IPv6, which routers
/// never cut, is not black-holed), and a new TCP connection to it starts with a segment that fits.
/// An entry expires ten minutes after it was last lowered or confirmed (Linux's
/// ip_rt_mtu_expires), when the link's MTU is tried again; expired entries are purged when the
/// first of them falls due, so a cache that has emptied costs the send path nothing. Bounded: past
/// <see cref="Capacity"/> destinations the entry due to expire first goes. An IPv4 path below 552
/// bytes (Linux's min_pmtu) is kept as 552 and marked locked: packets to it go without
/// don't-fragment, for its routers to cut. Thread-safe.
/// </summary>
internal sealed class PathMtuCache
{
    /// <summary>Destinations remembered at most.</summary>
    public const int Capacity = 256;

    /// <summary>How long a learned path MTU holds (Linux's net.ipv4.route.mtu_expires: 600 s).</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    private readonly Dictionary<NetworkAddress, (int Mtu, bool Locked, long Until)> _entries = new();
    private readonly Lock _lock = new();
    private long _nextExpiry = long.MaxValue; // the earliest Until among the entries
    private volatile int _count;              // read without the lock by the send path: 0 is the common case

    /// <summary>Destinations with a path MTU learned (expired ones are purged at the next look after the first falls due).</summary>
    public int Count => _count;

    /// <summary>The smallest MTU a path of this family is taken to have.</summary>
    public static int Floor(bool v6) => v6 ? 1280 : 552;

    /// <summary>
    /// Learns that the path to <paramref name="destination"/> carries at most <paramref name="mtu"/>
    /// bytes, until <paramref name="now"/> + <paramref name="lifetimeTicks"/>; true when it lowers a
    /// learned entry (or the link's MTU) or confirms one (its life starts again); false when larger,
    /// or equal to the link's MTU with nothing learned.
    /// </summary>
    public bool Learn(NetworkAddress destination, int mtu, int linkMtu, long now, long lifetimeTicks)
    {
        var floor = Floor(destination.IsV6);
        var locked = mtu < floor;
        mtu = Math.Max(mtu, floor);
        lock (_lock)
        {
            Purge(now);
            var known = _entries.TryGetValue(destination, out var entry) ? entry : (Mtu: linkMtu, Locked: false, Until: 0L);
            if (mtu > known.Mtu || mtu == known.Mtu && !locked && !known.Locked && known.Until == 0) return false; // teaches nothing
            if (mtu == known.Mtu) locked |= known.Locked;
            if (known.Until == 0 && _entries.Count >= Capacity) EvictFirstDue();
            _entries[destination] = (mtu, locked, now + lifetimeTicks);
            _nextExpiry = Math.Min(_nextExpiry, now + lifetimeTicks);
            _count = _entries.Count;
            return true;
        }
    }

    /// <summary>The path MTU learned for <paramref name="destination"/> (at most <paramref name="linkMtu"/>), and whether it is locked below IPv4's floor; <paramref name="linkMtu"/> and false when none holds.</summary>
    public (int Mtu, bool Locked) For(NetworkAddress destination, int linkMtu, long now)
    {
        if (_count == 0) return (linkMtu, false);
        lock (_lock)
        {
            Purge(now);
            return _entries.TryGetValue(destination, out var entry) ? (Math.Min(entry.Mtu, linkMtu), entry.Locked) : (linkMtu, false);
        }
    }

    // Expired entries go once the first of them is due: the link's MTU is tried again.
    private void Purge(long now)
    {
        if (now < _nextExpiry) return;
        var next = long.MaxValue;
        foreach (var (address, entry) in _entries)
        {
            if (now >= entry.Until) _entries.Remove(address);
            else next = Math.Min(next, entry.Until);
        }
        _nextExpiry = next;
        _count = _entries.Count;
    }

    // Full (and nothing expired): the entry due to expire first goes.
    private void EvictFirstDue()
    {
        NetworkAddress? first = null;
        var firstDue = long.MaxValue;
        foreach (var (address, entry) in _entries)
        {
            if (entry.Until < firstDue) (first, firstDue) = (address, entry.Until);
        }
        if (first is { } gone) _entries.Remove(gone);
    }
}
