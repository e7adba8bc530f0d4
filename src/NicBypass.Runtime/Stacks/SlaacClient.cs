using System.Buffers.Binary;
using NicBypass.Runtime.Packets;

namespace NicBypass.Runtime.Stacks;

/// <summary>
/// IPv6 stateless address autoconfiguration (RFC 4862) for <c>ip dhcp</c>, beside the DHCP
/// client: the stack takes the link-local address fe80::/64 with its modified EUI-64 interface
/// identifier (RFC 4291 appendix A, from its MAC), asks for routers (a Router Solicitation to
/// ff02::2 once its link-local address is detected as its own, then after 4 and 8 s until one answers: RFC 4861 6.3.7, without the random
/// delay), and from each Router Advertisement (valid as RFC 4861 6.1.2 says: from a link-local
/// address, hop limit 255; processed as 6.3.4) takes: the router as its IPv6 router while its lifetime lasts, the sender's MAC from the
/// source link-layer option, and for each prefix information option with the autonomous flag and
/// a 64-bit prefix an address of that prefix and its identifier, on-link with the on-link flag,
/// valid for the option's valid lifetime (renewed by later advertisements as RFC 4862 5.5.3 (e)
/// says: never cut below two hours by one). An address whose lifetime ends goes (its TCP
/// connections are aborted). Each address is tentative for a second first (duplicate address
/// detection, RFC 4862 5.4: one neighbour solicitation from the unspecified address); a
/// neighbour advertisement for it, or another node's detection of it, means it is taken — a
/// duplicate link-local address stops autoconfiguration altogether (5.4.5). Router solicitations
/// start once the link-local address is the stack's. Thread-safe.
/// </summary>
internal sealed class SlaacClient
{
    private const int Solicitations = 3;

    /// <summary>Addresses advertisements may give it at most (Linux's max_addresses): a flood of prefixes adds no more.</summary>
    public const int MaxAddresses = 16;
    private const int SolicitationIntervalSeconds = 4;
    private static readonly TimeSpan TwoHours = TimeSpan.FromHours(2);

    private readonly NetworkStack _stack;
    private readonly Lock _lock = new();
    private readonly Dictionary<NetworkAddress, long> _valid = new(); // autoconfigured address → valid until (ticks; MaxValue: for ever)
    private readonly Dictionary<NetworkAddress, (long Checked, int PrefixLength, long ValidUntil)> _tentative = new(); // being detected: when it is taken, its subnet, its lifetime
    private int _detecting; // _tentative's count, written under the lock, read without it
    private bool _stopped;   // the link-local address is another node's (RFC 4862 5.4.5)
    private long _duplicates;
    private const int DetectionSeconds = 1; // RFC 4861's RetransTimer: how long one solicitation is given an answer
    private NetworkAddress? _router;
    private long _routerUntil = long.MaxValue;
    private int _solicited;
    private bool _advertised;
    private long _due = long.MaxValue;

    internal SlaacClient(NetworkStack stack)
    {
        _stack = stack;
        LinkLocal = new NetworkAddress((UInt128)0xFE80 << 112 | InterfaceId(stack.Mac), true);
    }

    /// <summary>Its link-local address (fe80::/64 and the interface identifier).</summary>
    public NetworkAddress LinkLocal { get; }

    /// <summary>The modified EUI-64 interface identifier of <paramref name="mac"/> (RFC 4291 appendix A): the universal/local bit flipped, ff:fe in the middle.</summary>
    public static UInt128 InterfaceId(ulong mac) =>
        (UInt128)((mac >> 24 ^ 0x02_0000UL) << 40 | 0xFF_FE00_0000UL | mac & 0xFF_FFFF);

    /// <summary>
    /// The groups a VNIC of <paramref name="mac"/> joins beyond <paramref name="declared"/>: with
    /// <c>ip dhcp</c> (classified on its MAC alone, so no address of its own programs a group), the
    /// solicited-node group (ff02::1:ffXX:XXXX) its autoconfigured addresses share — each ends in
    /// the MAC's last 24 bits — and those of the IPv6 <paramref name="addresses"/> it declares, so
    /// neighbours' solicitations for them reach it.
    /// </summary>
    public static IReadOnlyList<System.Net.IPAddress>? Groups(ulong mac, bool dhcp, IReadOnlyList<System.Net.IPAddress>? declared, IReadOnlyList<System.Net.IPAddress>? addresses)
    {
        if (!dhcp) return declared;
        return [.. declared ?? [], NetworkStack.SolicitedNode(new NetworkAddress(mac, true)).ToIPAddress(),
            .. (addresses ?? []).Where(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6).Select(a => NetworkStack.SolicitedNode(NetworkAddress.From(a)).ToIPAddress())];
    }

    /// <summary>When its timer next falls due (long.MaxValue: never).</summary>
    public long NextDue => Volatile.Read(ref _due);

    /// <summary>The addresses it configured from advertisements (not the link-local one), and its router now.</summary>
    public (IReadOnlyList<NetworkAddress> Addresses, NetworkAddress? Router) Learned
    {
        get
        {
            lock (_lock) return (_valid.Keys.ToArray(), _router);
        }
    }

    /// <summary>Addresses found to be another node's by duplicate address detection.</summary>
    public long Duplicates => Interlocked.Read(ref _duplicates);

    /// <summary>Starts at the next tick (the host may not run yet): detecting its link-local address, then soliciting routers.</summary>
    public void Start()
    {
        lock (_lock) Volatile.Write(ref _due, _stack.Time.GetTimestamp());
        _stack.TimerArmed?.Invoke();
    }

    private bool _begun; // its link-local address's detection has begun

    // Addresses another node was found to hold: never tried again (RFC 4862 5.4.5: a duplicate
    // MUST NOT be assigned; each later advertisement started a new detection, and a lost answer
    // to its one solicitation took the duplicate: found by review). At most 64.
    private readonly HashSet<NetworkAddress> _failed = new();

    /// <summary>
    /// A neighbour solicitation (135) or advertisement (136) for <paramref name="target"/> from
    /// <paramref name="senderMac"/>: true when it shows a tentative address is another node's — an
    /// advertisement for it, or a solicitation from the unspecified address (another node detecting
    /// it too) — which is then given up.
    /// </summary>
    public bool DuplicateSeen(byte type, NetworkAddress target, NetworkAddress source, ulong senderMac)
    {
        if (Volatile.Read(ref _detecting) == 0) return false; // nothing tentative: the lock is not taken for every solicitation
        lock (_lock)
        {
            if (senderMac == _stack.Mac || !_tentative.ContainsKey(target) || type == 135 && source.Value != 0) return false;
            _tentative.Remove(target);
            if (_failed.Count < 64) _failed.Add(target); // bounded: a forger defending prefix after prefix grows it no further
            Volatile.Write(ref _detecting, _tentative.Count);
            Interlocked.Increment(ref _duplicates);
            if (target == LinkLocal)
            {
                // RFC 4862 5.4.5: IPv6 autoconfiguration stops on this link — altogether: what is
                // still tentative (a global address of the same interface identifier, a duplicate
                // too) is never taken, and a router an earlier advertisement gave is forgotten
                // (both were kept: found by review).
                _stopped = true;
                _tentative.Clear();
                Volatile.Write(ref _detecting, 0);
                if (_router is not null)
                {
                    _router = null;
                    _stack.SetAutoconfiguredRouter(null);
                }
            }
            Reschedule(_stack.Time.GetTimestamp());
            return true;
        }
    }

    // A new address: detected first (one solicitation from ::), taken a second later if no one answers.
    private void Tentative(NetworkAddress address, int prefixLength, long validUntil, long now)
    {
        _tentative[address] = (now + DetectionSeconds * _stack.Time.TimestampFrequency, prefixLength, validUntil);
        Volatile.Write(ref _detecting, _tentative.Count);
        _stack.SendNeighborSolicitation(new NetworkAddress(0, true), address);
    }

    /// <summary>Acts on its timer if due by <paramref name="now"/>: ends what expired, solicits again; true if it did.</summary>
    public bool OnTimer(long now)
    {
        List<NetworkAddress>? gone = null;
        lock (_lock)
        {
            if (now < _due) return false;
            if (!_begun)
            {
                _begun = true;
                Tentative(LinkLocal, 64, long.MaxValue, now);
            }
            foreach (var (address, until) in _valid)
            {
                if (now >= until) (gone ??= new()).Add(address);
            }
            foreach (var address in gone ?? [])
            {
                _valid.Remove(address);
                _stack.RemoveAutoconfigured(address); // under the lock: an advertisement cannot put it back in between
            }
            List<NetworkAddress>? detected = null;
            foreach (var (address, entry) in _tentative)
            {
                if (now >= entry.Checked) (detected ??= new()).Add(address);
            }
            foreach (var address in detected ?? [])
            {
                // No one claimed it: the stack's now.
                var entry = _tentative[address];
                _tentative.Remove(address);
                Volatile.Write(ref _detecting, _tentative.Count);
                if (address != LinkLocal) _valid[address] = entry.ValidUntil;
                _stack.AddAutoconfigured(address, entry.PrefixLength);
            }
            if (_router is not null && now >= _routerUntil)
            {
                _router = null;
                _stack.SetAutoconfiguredRouter(null);
            }
            if (Soliciting && _stack.OwnsAddress(LinkLocal))
            {
                SendSolicitation();
                _solicited++;
            }
            Reschedule(now);
        }
        return true;
    }

    /// <summary>
    /// A Router Advertisement (<paramref name="icmp"/>, the ICMPv6 message) from
    /// <paramref name="source"/>, already checked to be link-local with hop limit 255: true if it
    /// was well formed and taken.
    /// </summary>
    public bool Receive(ReadOnlySpan<byte> icmp, NetworkAddress source)
    {
        if (icmp.Length < 16 || icmp[1] != 0) return false;
        var frequency = _stack.Time.TimestampFrequency;
        var now = _stack.Time.GetTimestamp();
        long Until(uint seconds) => seconds == uint.MaxValue || seconds > (long.MaxValue - now) / frequency ? long.MaxValue : now + seconds * frequency;
        // Options first, each checked (RFC 4861 6.1.2: a zero length drops the whole message).
        var options = icmp.Slice(16);
        for (var rest = options; rest.Length > 0;)
        {
            if (rest.Length < 8 || rest[1] == 0 || rest[1] * 8 > rest.Length) return false;
            rest = rest.Slice(rest[1] * 8);
        }
        var lifetime = BinaryPrimitives.ReadUInt16BigEndian(icmp.Slice(6));
        lock (_lock)
        {
            if (_stopped) return true; // its link-local address is another node's: nothing is configured here
            _advertised |= lifetime > 0; // RFC 4861 6.3.7: solicitations stop at an advertisement from a router
            if (lifetime > 0)
            {
                _router = source;
                _routerUntil = Until(lifetime);
                _stack.SetAutoconfiguredRouter(source);
            }
            else if (_router == source)
            {
                _router = null; // it stops being a router (RFC 4861 6.3.4)
                _stack.SetAutoconfiguredRouter(null);
            }
            for (var rest = options; rest.Length > 0; rest = rest.Slice(rest[1] * 8))
            {
                switch (rest[0])
                {
                    case 1 when rest.Length >= 8: // source link-layer address
                        _stack.ObserveNeighbor(source, EthernetHeader.ReadMac(rest.Slice(2)));
                        break;
                    case 3 when rest[1] == 4: // prefix information (RFC 4861 4.6.2)
                        var prefixLength = rest[2];
                        var autonomous = (rest[3] & 0x40) != 0;
                        var valid = BinaryPrimitives.ReadUInt32BigEndian(rest.Slice(4));
                        var preferred = BinaryPrimitives.ReadUInt32BigEndian(rest.Slice(8));
                        var prefix = BinaryPrimitives.ReadUInt128BigEndian(rest.Slice(16));
                        // RFC 4862 5.5.3 (a)-(d): autonomous, not link-local (nor multicast, as Linux),
                        // preferred within valid, a 64-bit prefix to put the identifier after.
                        var address = new NetworkAddress(prefix >> 64 << 64 | InterfaceId(_stack.Mac), true);
                        if (!autonomous || address.IsLinkLocal || address.IsGroup || preferred > valid || prefixLength != 64) break;
                        if (_tentative.TryGetValue(address, out var pending))
                        {
                            _tentative[address] = pending with { ValidUntil = Renewed(pending.ValidUntil, valid, now) }; // still being detected
                        }
                        else if (_valid.TryGetValue(address, out var until))
                        {
                            _valid[address] = Renewed(until, valid, now);
                        }
                        else if (valid > 0 && !_failed.Contains(address) && _valid.Count + _tentative.Count - (_tentative.ContainsKey(LinkLocal) ? 1 : 0) < MaxAddresses)
                        {
                            Tentative(address, (rest[3] & 0x80) != 0 ? 64 : 128, Until(valid), now); // on-link: its /64; otherwise the address alone
                        }
                        break;
                }
            }
            Reschedule(now);
        }
        _stack.TimerArmed?.Invoke();
        return true;
    }

    // RFC 4862 5.5.3 (e): a valid lifetime over two hours or past the one left is taken; a shorter
    // one cuts what is left to two hours when more was left, and is ignored when two hours or less were.
    private long Renewed(long until, uint valid, long now)
    {
        var frequency = _stack.Time.TimestampFrequency;
        var remaining = until == long.MaxValue ? long.MaxValue : until - now;
        var twoHours = (long)(TwoHours.TotalSeconds * frequency);
        var offered = valid == uint.MaxValue || valid > long.MaxValue / frequency ? long.MaxValue : valid * frequency;
        if (offered > twoHours || offered > remaining) return offered == long.MaxValue || offered > long.MaxValue - now ? long.MaxValue : now + offered;
        return remaining > twoHours ? now + twoHours : until;
    }

    private bool Soliciting => !_stopped && !_advertised && _solicited < Solicitations;

    private void Reschedule(long now)
    {
        // The first solicitation goes once the link-local address is taken; the others 4 s apart.
        var due = !_begun ? now : Soliciting && !_tentative.ContainsKey(LinkLocal) ? now + (_solicited == 0 ? 0 : SolicitationIntervalSeconds * _stack.Time.TimestampFrequency) : long.MaxValue;
        foreach (var entry in _tentative.Values) due = Math.Min(due, entry.Checked);
        foreach (var until in _valid.Values) due = Math.Min(due, until);
        if (_router is not null) due = Math.Min(due, _routerUntil);
        Volatile.Write(ref _due, due);
    }

    // A Router Solicitation to all routers, from the link-local address, with its MAC (RFC 4861 4.1).
    private void SendSolicitation()
    {
        var allRouters = new NetworkAddress((UInt128)0xFF02 << 112 | 2, true);
        var frame = _stack.BuildIp(LinkLocal, allRouters, IpProtocol.IcmpV6, 16, out var icmp, hopLimit: 255);
        icmp.Clear();
        icmp[0] = 133;
        icmp[8] = 1; // source link-layer address option
        icmp[9] = 1;
        EthernetHeader.WriteMac(icmp.Slice(10), _stack.Mac);
        NetworkStack.SealTransport(frame, 2);
        _stack.SendToGroup(frame, allRouters, reply: true);
    }
}
