namespace NicBypass.Runtime.Stacks;

/// <summary>
/// What path MTU discovery has learned about each destination (RFC 1191 6.3, RFC 8201 5.2; Linux
/// keeps it on the route): a router said a packet to it was too big for a link of so many bytes.
/// A datagram to it larger than that leaves in fragments of that size (so IPv6, which routers
/// never cut, is not black-holed), and a new TCP connection to it starts with a segment that fits.
/// An entry expires after ten minutes (Linux's ip_rt_mtu_expires), when the link's MTU is tried
/// again. Bounded: past <see cref="Capacity"/> destinations the entry learned first goes. Never
/// below 552 bytes for IPv4 (Linux's min_pmtu: smaller paths get 552-byte packets without
/// don't-fragment, for their routers to cut) or 1,280 for IPv6.
/// </summary>
internal sealed class PathMtuCache
{
    /// <summary>Destinations remembered at most.</summary>
    public const int Capacity = 256;

    /// <summary>How long a learned path MTU holds (Linux's net.ipv4.route.mtu_expires: 600 s).</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    private readonly Dictionary<NetworkAddress, (int Mtu, long Until, long Order)> _entries = new();
    private readonly Lock _lock = new();
    private long _order;
    private volatile int _count; // read without the lock by the send path: 0 is the common case

    /// <summary>Destinations with a path MTU learned and not yet expired (some may have expired since).</summary>
    public int Count => _count;

    /// <summary>The smallest MTU a path of this family is taken to have.</summary>
    public static int Floor(bool v6) => v6 ? 1280 : 552;

    /// <summary>Learns that the path to <paramref name="destination"/> carries at most <paramref name="mtu"/> bytes (floored), until <paramref name="now"/> + the lifetime; true when that is smaller than what it knew.</summary>
    public bool Learn(NetworkAddress destination, int mtu, int linkMtu, long now, long lifetimeTicks)
    {
        mtu = Math.Max(mtu, Floor(destination.IsV6));
        lock (_lock)
        {
            var known = TryGetLocked(destination, now, out var current) ? current : linkMtu;
            if (mtu >= known) return false;
            if (!_entries.ContainsKey(destination) && _entries.Count >= Capacity) Evict(now);
            _entries[destination] = (mtu, now + lifetimeTicks, _order++);
            _count = _entries.Count;
            return true;
        }
    }

    /// <summary>The path MTU learned for <paramref name="destination"/>, or <paramref name="linkMtu"/> when none holds.</summary>
    public int For(NetworkAddress destination, int linkMtu, long now)
    {
        if (_count == 0) return linkMtu;
        lock (_lock) return TryGetLocked(destination, now, out var mtu) ? Math.Min(mtu, linkMtu) : linkMtu;
    }

    private bool TryGetLocked(NetworkAddress destination, long now, out int mtu)
    {
        if (_entries.TryGetValue(destination, out var entry))
        {
            if (now < entry.Until)
            {
                mtu = entry.Mtu;
                return true;
            }
            _entries.Remove(destination); // expired: the link's MTU is tried again
            _count = _entries.Count;
        }
        mtu = 0;
        return false;
    }

    // Full: the expired go; if none had, the one learned first.
    private void Evict(long now)
    {
        NetworkAddress? oldest = null;
        var oldestOrder = long.MaxValue;
        foreach (var (address, entry) in _entries)
        {
            if (now >= entry.Until) _entries.Remove(address);
            else if (entry.Order < oldestOrder) (oldest, oldestOrder) = (address, entry.Order);
        }
        if (_entries.Count >= Capacity && oldest is { } first) _entries.Remove(first);
        _count = _entries.Count;
    }
}
