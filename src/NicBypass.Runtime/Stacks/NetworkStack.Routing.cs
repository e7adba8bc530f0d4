using System.Net;

namespace NicBypass.Runtime.Stacks;

/// <summary>
/// Routing: the subnets the stack's addresses are on (their prefix lengths) and one router per
/// family (<c>gateway</c>, docs/dsl.md). A unicast destination outside every subnet of its family
/// goes to that family's router — the frame to the router's MAC, resolved by ARP or neighbour
/// discovery like any neighbour — instead of being resolved itself. Without a router of its family,
/// every destination is on-link, as before routes existed.
/// </summary>
public sealed partial class NetworkStack
{
    private (NetworkAddress Network, UInt128 Mask)[] _subnets = Array.Empty<(NetworkAddress, UInt128)>();
    // Its routers, swapped whole (a DHCP lease changes them while senders read them): a reader
    // never sees half of one.
    private Routers _routers = new(null, null);
    private NetworkAddress? _staticGateway4;                       // the declared IPv4 router, which a lease's replaces while it lasts
    private NetworkAddress? _staticGateway6;                       // the declared IPv6 router, which an advertised one replaces while it lasts
    private readonly Dictionary<NetworkAddress, ((NetworkAddress Network, UInt128 Mask) Subnet, bool Appended)> _autoconfigured = new(); // under _bind: each address's subnet, and whether the address was not there already
    private (NetworkAddress Network, UInt128 Mask)? _leasedSubnet; // the subnet a DHCP lease brought

    private sealed record Routers(NetworkAddress? V4, NetworkAddress? V6);

    /// <summary>
    /// A DHCP lease changed (<see cref="DhcpClient"/>): <paramref name="old"/>'s address, subnet
    /// and router go, <paramref name="address"/> (if any) comes with its subnet of
    /// <paramref name="prefixLength"/> and <paramref name="router"/> as the IPv4 router.
    /// </summary>
    internal void SetLease(NetworkAddress? old, NetworkAddress? address, int prefixLength, NetworkAddress? router)
    {
        lock (_bind)
        {
            // One of each removed (a declared address or subnet equal to the lease's stays).
            var addresses = Volatile.Read(ref _addresses).ToList();
            if (old is { } previous) addresses.Remove(previous);
            var subnets = _subnets.ToList();
            if (_leasedSubnet is { } leasedSubnet) subnets.Remove(leasedSubnet);
            _leasedSubnet = null;
            var router4 = _staticGateway4;
            if (address is { } leased)
            {
                addresses.Add(leased);
                var mask = Mask(prefixLength, 32);
                _leasedSubnet = (new NetworkAddress(leased.Value & mask, false), mask);
                subnets.Add(_leasedSubnet.Value);
                router4 = router ?? _staticGateway4;
            }
            _subnets = subnets.ToArray();
            Volatile.Write(ref _routers, _routers with { V4 = router4 });
            Volatile.Write(ref _addresses, addresses.ToArray());
        }
        if (old is { } gone && gone != address) AbortConnectionsOn(gone);
    }

    /// <summary>An address autoconfiguration gave it (<see cref="SlaacClient"/>), with its subnet of <paramref name="prefixLength"/>.</summary>
    internal void AddAutoconfigured(NetworkAddress address, int prefixLength)
    {
        lock (_bind)
        {
            var addresses = Volatile.Read(ref _addresses);
            var appended = !addresses.Contains(address);
            if (appended) Volatile.Write(ref _addresses, addresses.Append(address).ToArray());
            var mask = Mask(prefixLength, 128);
            var subnet = (new NetworkAddress(address.Value & mask, true), mask);
            var subnets = _subnets.ToList();
            if (_autoconfigured.Remove(address, out var before))
            {
                subnets.Remove(before.Subnet); // again: its subnet replaced, not added twice
                appended |= before.Appended;
            }
            subnets.Add(subnet);
            _subnets = subnets.ToArray();
            _autoconfigured[address] = (subnet, appended);
        }
    }

    /// <summary>An autoconfigured address whose lifetime ended: it goes, with its subnet, and its TCP connections are aborted.</summary>
    internal void RemoveAutoconfigured(NetworkAddress address)
    {
        lock (_bind)
        {
            if (!_autoconfigured.Remove(address, out var entry)) return;
            var subnets = _subnets.ToList();
            subnets.Remove(entry.Subnet); // one of two equal entries, if a declared address shares it
            _subnets = subnets.ToArray();
            if (!entry.Appended) return; // a declared address as well: it stays
            Volatile.Write(ref _addresses, Volatile.Read(ref _addresses).Where(a => a != address).ToArray());
        }
        AbortConnectionsOn(address);
    }

    // A neighbour that did not resolve (given up at `at`): the connections connecting through it
    // since then or before end (host unreachable).
    internal void NeighborUnresolved(NetworkAddress address, long at)
    {
        foreach (var connection in Volatile.Read(ref _timedConnections)) connection.NeighborUnresolved(address, at);
    }

    // An address the stack no longer has (a lease or an autoconfigured lifetime ended): its TCP
    // connections end as aborted, with no RST from an address no longer its own.
    private void AbortConnectionsOn(NetworkAddress address)
    {
        foreach (var connection in Volatile.Read(ref _timedConnections))
        {
            if (connection.LocalAddress == address) connection.AddressLost();
        }
    }

    /// <summary>A neighbour's MAC a router's advertisement told (a stale entry, as from a solicitation).</summary>
    internal void ObserveNeighbor(NetworkAddress address, ulong mac) => _neighbors.Observe(address, mac);

    /// <summary>The IPv6 router routers' advertisements named (null: none now; the declared one, if any, comes back).</summary>
    internal void SetAutoconfiguredRouter(NetworkAddress? router)
    {
        lock (_bind) Volatile.Write(ref _routers, _routers with { V6 = router ?? _staticGateway6 });
    }

    /// <summary>Its routers (at most one IPv4 and one IPv6).</summary>
    public IReadOnlyList<NetworkAddress> Gateways
    {
        get
        {
            var routers = Volatile.Read(ref _routers);
            return new[] { routers.V4, routers.V6 }.OfType<NetworkAddress>().ToArray();
        }
    }

    /// <summary>
    /// Sets the subnets — <paramref name="addresses"/>[i] with prefix length
    /// <paramref name="prefixLengths"/>[i] (null or missing: a host route) — and its routers, which
    /// must be on one of those subnets (or, for IPv6, link-local: on every link).
    /// </summary>
    internal void SetRoutes(IReadOnlyList<IPAddress> addresses, IReadOnlyList<int>? prefixLengths, IReadOnlyList<IPAddress>? gateways)
    {
        var subnets = new List<(NetworkAddress, UInt128)>();
        for (var i = 0; i < addresses.Count; i++)
        {
            var address = NetworkAddress.From(addresses[i]);
            var width = address.IsV6 ? 128 : 32;
            var length = prefixLengths is { } lengths && i < lengths.Count ? lengths[i] : width;
            if (length < 0 || length > width) throw new ArgumentOutOfRangeException(nameof(prefixLengths), $"prefix length {length} for {address}");
            var mask = Mask(length, width);
            subnets.Add((new NetworkAddress(address.Value & mask, address.IsV6), mask));
        }
        _subnets = subnets.ToArray();
        NetworkAddress? v4 = null, v6 = null;
        foreach (var gateway in gateways ?? Array.Empty<IPAddress>())
        {
            var address = NetworkAddress.From(gateway);
            if (!OnLink(address) && !address.IsLinkLocal) throw new ArgumentException($"gateway {address} is not on any subnet of the stack ({string.Join(", ", addresses)} with prefix lengths {string.Join(", ", prefixLengths ?? Array.Empty<int>())})", nameof(gateways));
            if (address.IsV6) v6 = address;
            else v4 = address;
        }
        _staticGateway4 = v4;
        _staticGateway6 = v6;
        Volatile.Write(ref _routers, new Routers(v4, v6));
    }

    /// <summary>
    /// True when <paramref name="address"/> is the broadcast address of one of its IPv4 subnets
    /// (prefix up to /30): no host sends from it, so nothing answers it (a smurf's reflector).
    /// </summary>
    public bool IsSubnetBroadcast(NetworkAddress address)
    {
        if (address.IsV6) return false;
        foreach (var (network, mask) in _subnets)
        {
            if (!network.IsV6 && (uint)mask != 0 && (uint)~mask > 2 && (address.Value & mask) == network.Value && ((uint)address.Value | (uint)mask) == uint.MaxValue) return true;
        }
        return false;
    }

    /// <summary>True when <paramref name="address"/> is on one of the stack's subnets.</summary>
    public bool OnLink(NetworkAddress address)
    {
        foreach (var (network, mask) in _subnets)
        {
            if (network.IsV6 == address.IsV6 && (address.Value & mask) == network.Value) return true;
        }
        return false;
    }

    /// <summary>Where a packet to <paramref name="destination"/> goes next: itself when on-link (or group-addressed, or no router of its family), else the router.</summary>
    public NetworkAddress NextHop(NetworkAddress destination)
    {
        var routers = Volatile.Read(ref _routers);
        var gateway = destination.IsV6 ? routers.V6 : routers.V4;
        // IPv6 link-local (fe80::/10) is on every link, whatever the prefixes say.
        if (gateway is not { } router || destination.IsGroup || destination.IsLinkLocal || OnLink(destination)) return destination;
        return router;
    }

    private static UInt128 Mask(int length, int width) =>
        length == 0 ? UInt128.Zero : (UInt128.MaxValue << (128 - length)) >> (128 - width);
}
