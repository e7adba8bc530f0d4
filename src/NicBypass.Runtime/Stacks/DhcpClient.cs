using System.Buffers.Binary;
using NicBypass.Runtime.Packets;

namespace NicBypass.Runtime.Stacks;

/// <summary>
/// A stack's DHCP client (RFC 2131, with the options of RFC 2132) for <c>ip dhcp</c>: from when
/// it starts it broadcasts a DISCOVER, takes the first OFFER with a REQUEST, and on the ACK gives
/// the stack the leased address with its subnet (option 1) and router (option 3). It renews at T1
/// (option 58, else half the lease) by a REQUEST to the server, rebinds at T2 (option 59, else
/// seven eighths) by a broadcast one, and gives the address up when the lease ends, starting over;
/// a NAK starts over at once. A new address is checked before it is taken (RFC 2131 4.4.1, with
/// RFC 5227's probe): three ARP probes one second apart, then two seconds more; an ARP from
/// another MAC claiming the address, or probing for it too, means it is in use — a DHCPDECLINE
/// goes to the server and the client starts over ten seconds later; otherwise the address is
/// taken and announced twice, two seconds apart (gratuitous ARPs, RFC 5227 2.3; not again once
/// renewing or released). Once bound it defends the address (RFC 5227 2.4
/// (b)): another MAC's ARP from it is answered with an announcement, and a second within ten
/// seconds gives the address up — a DHCPDECLINE, and starting over ten seconds later. RFC 5227's
/// random waits are left out, as below.
/// Requests go again after 4, 8, 16, 32 and then every 64 seconds
/// (RFC 2131 4.1, without the random second: the deterministic mode stays deterministic); a
/// REQUEST unanswered four times starts over. While renewing or rebinding it asks again after
/// half the time left, at least 60 s (RFC 2131 4.4.5). Messages are broadcast (the BROADCAST
/// flag asks the server to broadcast its answers too, so a client without an address hears
/// them) except a renewal and a release (<see cref="GiveBack"/>), which go to the server from
/// the leased address. An ACK without a lease time is a lease that never ends. Its timer is the
/// stack's (<see cref="NetworkStack.Tick"/>); answers come from the IP layer
/// (<see cref="Receive"/>) — only those with its transaction ID and its MAC count. Thread-safe:
/// a lock, since the IP layer and the timer may run on different threads.
/// </summary>
internal sealed class DhcpClient
{
    public const int ClientPort = 68;
    public const int ServerPort = 67;

    private const int Discover = 1, Offer = 2, Request = 3, Decline = 4, Ack = 5, Nak = 6, ReleaseMessage = 7;

    // RFC 5227's PROBE_NUM, PROBE_MIN (the probes' spacing) and ANNOUNCE_WAIT; RFC 2131 3.1's wait after a DECLINE.
    private const int Probes = 3;
    private const int ProbeSpacingSeconds = 1, LastProbeWaitSeconds = 2, AfterDeclineSeconds = 10;

    // RFC 5227 2.1.1: past MAX_CONFLICTS conflicts in a row, one new address per RATE_LIMIT_INTERVAL.
    private const int MaxConflicts = 10, RateLimitSeconds = 60;
    private int _conflicts; // addresses declined since one was last taken
    private const uint MagicCookie = 0x63825363;
    private const int MessageLength = 300; // BOOTP's minimum, which some servers insist on

    private static readonly NetworkAddress Unspecified = new(0, false);
    private static readonly NetworkAddress Everyone = new(0xFFFF_FFFF, false);

    private readonly NetworkStack _stack;
    private readonly Lock _lock = new();
    private volatile DhcpState _state = DhcpState.Init; // written under _lock; read without it by Checking
    private uint _xid;
    private int _attempts;
    private long _due = long.MaxValue;
    private NetworkAddress _offered, _server;
    private long _t1, _t2, _expiry;
    private Options _acked;  // the ACK of the address being checked,
    private long _ackedAt;   // and when the REQUEST it answers went (the lease's times count from it)
    private long _requestedAt; // when this exchange's first REQUEST went (RFC 2131 4.4.1: a lease counts from the original request)
    private (uint Xid, DhcpState State) _requestedIn = (0, DhcpState.Init); // the exchange it went in (a retransmission keeps both)
    private int _probed;     // ARP probes sent for it
    private long _declined;
    private long _defendedAt = long.MinValue; // when it last announced its bound address against another's ARP
    private const int DefendIntervalSeconds = 10; // RFC 5227's DEFEND_INTERVAL
    private const int AnnounceIntervalSeconds = 2; // RFC 5227's ANNOUNCE_INTERVAL (ANNOUNCE_NUM 2: one more after the first)
    private long _announceAt = long.MaxValue; // when the second announcement of a newly bound address is due

    internal DhcpClient(NetworkStack stack)
    {
        _stack = stack;
        _xid = (uint)(stack.Mac * 0x9E3779B97F4A7C15UL >> 32);
    }

    public DhcpState State
    {
        get { lock (_lock) return _state; }
    }

    /// <summary>Whether it is checking an ACKed address (read without the lock, on every ARP the stack receives).</summary>
    public bool Checking => _state == DhcpState.Checking;

    /// <summary>The address leased now (null while it has none), its prefix length, router and server: swapped whole, read without the lock.</summary>
    public Leased? Lease
    {
        get => Volatile.Read(ref _lease);
        private set => Volatile.Write(ref _lease, value);
    }

    private Leased? _lease;

    /// <summary>A lease: the address, its prefix length, router and server.</summary>
    internal sealed record Leased(NetworkAddress Address, int PrefixLength, NetworkAddress? Router, NetworkAddress Server);

    /// <summary>When its timer next falls due, in the stack clock's timestamps (<see cref="long.MaxValue"/>: never).</summary>
    public long NextDue => Volatile.Read(ref _due);

    /// <summary>Addresses it declined because another host had them: found by the check (RFC 2131 4.4.1), or claimed again after it defended one it had (RFC 5227 2.4).</summary>
    public long Declined => Interlocked.Read(ref _declined);

    /// <summary>Starts from nothing: a DISCOVER at the next tick.</summary>
    public void Start()
    {
        lock (_lock)
        {
            _state = DhcpState.Init;
            Volatile.Write(ref _due, _stack.Time.GetTimestamp());
        }
        _stack.TimerArmed?.Invoke();
    }

    /// <summary>
    /// Gives its lease back (RFC 2131 4.4.6: a DHCPRELEASE to the server from the leased address)
    /// and stops: the stack is left without the address, and no DISCOVER follows. False when it
    /// had no lease (it stops all the same).
    /// </summary>
    public bool GiveBack()
    {
        lock (_lock)
        {
            // An address still being checked is not given back: the server keeps it until its lease ends.
            var had = Lease is not null;
            if (had)
            {
                _xid++;
                var leased = Lease!.Address;
                Send(ReleaseMessage, _server, leased, client: leased);
                Release();
            }
            _state = DhcpState.Init;
            Volatile.Write(ref _due, long.MaxValue);
            return had;
        }
    }

    /// <summary>Acts on its timer if it is due by <paramref name="now"/>; true if it did (sent, or started over).</summary>
    public bool OnTimer(long now)
    {
        lock (_lock)
        {
            if (now < _due) return false;
            switch (_state)
            {
                case DhcpState.Init:
                    _xid++;
                    _attempts = 0;
                    _state = DhcpState.Selecting;
                    SendDiscover();
                    break;
                case DhcpState.Selecting:
                    SendDiscover();
                    break;
                case DhcpState.Requesting when _attempts >= 4:
                    StartOver(now);
                    break;
                case DhcpState.Requesting:
                    SendRequest(broadcast: true, fromLease: false);
                    break;
                case DhcpState.Checking when _probed < Probes:
                    _stack.SendArp(sender: Unspecified, target: _offered); // a probe: who has it?
                    _probed++;
                    Volatile.Write(ref _due, now + (_probed < Probes ? ProbeSpacingSeconds : LastProbeWaitSeconds) * _stack.Time.TimestampFrequency);
                    break;
                case DhcpState.Checking:
                    if (_acked.LeaseSeconds is { } seconds && now >= _ackedAt + (long)Math.Max(seconds, MinimumLeaseSeconds) * _stack.Time.TimestampFrequency)
                    {
                        StartOver(now); // the check outlasted the lease (a stalled clock): nothing to take
                        break;
                    }
                    Bind(_offered, _acked, _ackedAt);
                    _conflicts = 0;
                    _stack.SendArp(sender: _offered, target: _offered); // no one has it: announced as ours,
                    _announceAt = now + AnnounceIntervalSeconds * _stack.Time.TimestampFrequency; // and again two seconds on (RFC 5227 2.3)
                    Volatile.Write(ref _due, Math.Min(_t1, _announceAt));
                    break;
                case DhcpState.Bound or DhcpState.Renewing when now >= _expiry:
                    // The lease ran out before its renewal could even start (a stalled clock): the
                    // address goes at once (RFC 2131 4.4.5), not after a request sent from it.
                    Release();
                    StartOver(now);
                    break;
                case DhcpState.Bound when _announceAt <= now:
                    _announceAt = long.MaxValue;
                    _stack.SendArp(sender: Lease!.Address, target: Lease.Address);
                    Volatile.Write(ref _due, _t1);
                    break;
                case DhcpState.Bound:
                    _state = DhcpState.Renewing;
                    _announceAt = long.MaxValue; // renewing already (a T1 under two seconds): the address was announced once
                    _attempts = 0;
                    _xid++; // a new exchange: a late answer to the last is not taken for this one
                    SendRequest(broadcast: false, fromLease: true);
                    break;
                case DhcpState.Renewing when now >= _t2:
                    _state = DhcpState.Rebinding;
                    _attempts = 0;
                    _xid++;
                    SendRequest(broadcast: true, fromLease: true);
                    break;
                case DhcpState.Renewing:
                    SendRequest(broadcast: false, fromLease: true);
                    break;
                case DhcpState.Rebinding when now >= _expiry:
                    Release();
                    StartOver(now);
                    break;
                case DhcpState.Rebinding:
                    SendRequest(broadcast: true, fromLease: true);
                    break;
            }
            return true;
        }
    }

    /// <summary>
    /// A UDP datagram from port 67 to port 68 (<paramref name="bootp"/> its payload): true if it
    /// was an answer to this client (its transaction and MAC) that it acted on.
    /// </summary>
    public bool Receive(ReadOnlySpan<byte> bootp, NetworkAddress from)
    {
        if (bootp.Length < 240 || bootp[0] != 2 || bootp[1] != 1 || bootp[2] != 6
            || BinaryPrimitives.ReadUInt32BigEndian(bootp.Slice(236)) != MagicCookie
            || EthernetHeader.ReadMac(bootp.Slice(28)) != _stack.Mac)
        {
            return false;
        }
        var options = Options.Read(bootp);
        var now = _stack.Time.GetTimestamp();
        var armed = false;
        lock (_lock)
        {
            if (BinaryPrimitives.ReadUInt32BigEndian(bootp.Slice(4)) != _xid) return false;
            var yours = new NetworkAddress(BinaryPrimitives.ReadUInt32BigEndian(bootp.Slice(16)), false);
            // While requesting, only the server chosen answers (RFC 2131 4.3.2).
            if (_state == DhcpState.Requesting && options.Server is { } server && server != _server) return false;
            switch (options.Type)
            {
                case Offer when _state == DhcpState.Selecting && Usable(yours):
                    _offered = yours;
                    _server = options.Server ?? from;
                    _state = DhcpState.Requesting;
                    _attempts = 0;
                    SendRequest(broadcast: true, fromLease: false);
                    break;
                case Ack when _state == DhcpState.Requesting && Usable(yours)
                    || _state is DhcpState.Renewing or DhcpState.Rebinding && Usable(yours) && Lease is { } held && held.Address != yours:
                    // A new address: checked before it is taken (RFC 2131 4.4.1) — one a renewal's
                    // ACK names instead of the leased one too (the server moved it: the old goes now).
                    if (_state != DhcpState.Requesting) Release();
                    // Its times count from the REQUEST it answers (RFC 2131 4.4.1), not from its
                    // arrival: a slow server's answer would end the lease later than the server does.
                    _offered = yours;
                    _acked = options;
                    _ackedAt = Math.Min(_requestedAt, now);
                    _probed = 0;
                    _state = DhcpState.Checking;
                    Volatile.Write(ref _due, now);
                    armed = true;
                    break;
                case Ack when _state is DhcpState.Renewing or DhcpState.Rebinding && Usable(yours):
                    Bind(yours, options, Math.Min(_requestedAt, now));
                    armed = true;
                    break;
                case Nak when _state is DhcpState.Requesting or DhcpState.Renewing or DhcpState.Rebinding:
                    Release();
                    StartOver(now);
                    armed = true;
                    break;
                default:
                    return false; // an answer it did not wait for (a second offer, a late ACK)
            }
        }
        if (armed) _stack.TimerArmed?.Invoke();
        return true;
    }

    /// <summary>
    /// An ARP packet the stack received: true when it shows the address being checked is another
    /// host's — an ARP from another MAC with that address as its sender, or probing for it too
    /// (RFC 5227 2.1.1) — and the client declined it.
    /// </summary>
    public bool ArpSeen(ulong senderMac, NetworkAddress sender, NetworkAddress target)
    {
        lock (_lock)
        {
            if (_state != DhcpState.Checking || senderMac == _stack.Mac || !(sender == _offered || sender.Value == 0 && target == _offered)) return false;
            // In use: the server hears so, and the client starts over after a pause (RFC 2131 3.1 step 5).
            DeclineLocked(_stack.Time.GetTimestamp());
        }
        _stack.TimerArmed?.Invoke();
        return true;
    }

    /// <summary>
    /// An ARP from another MAC with the bound address as its sender (RFC 5227 2.4): the first is
    /// answered with an announcement (the address defended); another within ten seconds means
    /// the other host will not give way — the address goes, a DHCPDECLINE tells the server, and
    /// the client starts over ten seconds later. True when it was such an ARP.
    /// </summary>
    public bool ArpClaims(ulong senderMac, NetworkAddress sender)
    {
        lock (_lock)
        {
            if (senderMac == _stack.Mac || Lease is not { } lease || lease.Address != sender) return false;
            var now = _stack.Time.GetTimestamp();
            var interval = DefendIntervalSeconds * _stack.Time.TimestampFrequency;
            if (_defendedAt == long.MinValue || now - _defendedAt >= interval)
            {
                _defendedAt = now;
                _stack.SendArp(sender: lease.Address, target: lease.Address);
                return true;
            }
            _offered = lease.Address;
            Release();
            _defendedAt = long.MinValue;
            DeclineLocked(now);
        }
        _stack.TimerArmed?.Invoke();
        return true;
    }

    // An address a host may have: not 0/8, loopback, multicast or class E (RFC 1122 3.2.1.3).
    private static bool Usable(NetworkAddress address) => (uint)address.Value >> 24 is not (0 or 127) && (uint)address.Value >> 28 < 0xE;

    // The shortest lease taken (a server's 0 would renew without pause); the VNIC's snooping
    // counts a lease the same (a lease of 4 s ended there while the client kept it 10).
    internal const uint MinimumLeaseSeconds = 10;

    private void Bind(NetworkAddress address, in Options options, long now)
    {
        var frequency = _stack.Time.TimestampFrequency;
        long At(uint seconds) => seconds == uint.MaxValue ? long.MaxValue : now + (long)seconds * frequency;
        var lease = Math.Max(options.LeaseSeconds ?? uint.MaxValue, MinimumLeaseSeconds); // none given: it does not end
        // T1 < T2 < the lease's end: options out of that order are set aside for RFC 2131 4.4.5's
        // defaults (half and seven eighths of the lease), as ISC's dhclient does.
        var infinite = lease == uint.MaxValue;
        var defaultT2 = infinite ? uint.MaxValue : (uint)(lease * 7UL / 8);
        // A T1 or T2 of 0 is set aside too: the client renewed once a round trip, for ever (review).
        var t2 = options.RebindSeconds is { } rebind && rebind > 0 && (rebind < lease || infinite) ? rebind : defaultT2;
        var defaultT1 = infinite ? uint.MaxValue : Math.Min(lease / 2, t2);
        var t1 = options.RenewSeconds is { } renew && renew > 0 && (renew < t2 || t2 == uint.MaxValue) ? renew : defaultT1;
        _expiry = At(lease);
        _t2 = At(t2);
        _t1 = At(t1);
        var prefix = options.SubnetMask is { } mask ? System.Numerics.BitOperations.PopCount(mask) : 32;
        // A router not on the leased subnet could not be reached, nor can one that is the leased address: left out.
        var router = options.Router is { } r && r != address && Usable(r) && (prefix == 0 || (r.Value ^ address.Value) >> (32 - prefix) == 0) ? r : (NetworkAddress?)null;
        _server = options.Server ?? _server;
        _stack.SetLease(Lease?.Address, address, prefix, router);
        Lease = new Leased(address, prefix, router, _server);
        _state = DhcpState.Bound;
        _attempts = 0;
        Volatile.Write(ref _due, _t1);
    }

    private void Release()
    {
        if (Lease is { } lease) _stack.SetLease(lease.Address, null, 0, null);
        Lease = null;
        _announceAt = long.MaxValue;
    }

    // A DHCPDECLINE of the offered address, counted, and a new start after RFC 2131 3.1's pause.
    private void DeclineLocked(long now)
    {
        Send(Decline, Everyone, Unspecified, client: Unspecified);
        Interlocked.Increment(ref _declined);
        // A server that keeps offering an address another host holds was asked again every
        // 14 s for ever (found by review): from the tenth conflict in a row, once a minute.
        _conflicts++;
        StartOver(now + (_conflicts >= MaxConflicts ? RateLimitSeconds : AfterDeclineSeconds) * _stack.Time.TimestampFrequency);
    }

    private void StartOver(long now)
    {
        _state = DhcpState.Init;
        Volatile.Write(ref _due, now);
    }

    // The next try: 4, 8, 16, 32, then every 64 s; renewing and rebinding, half the time left to
    // T2 or the lease's end, at least 60 s (never past that point).
    private void Again()
    {
        var now = _stack.Time.GetTimestamp();
        var frequency = _stack.Time.TimestampFrequency;
        long next;
        if (_state is DhcpState.Renewing or DhcpState.Rebinding)
        {
            var until = _state == DhcpState.Renewing ? _t2 : _expiry;
            next = until == long.MaxValue ? now + 60 * frequency : Math.Min(until, now + Math.Max(60 * frequency, (until - now) / 2));
        }
        else
        {
            next = now + (4L << Math.Min(_attempts, 4)) * frequency;
        }
        _attempts++;
        Volatile.Write(ref _due, next);
    }

    private void SendDiscover()
    {
        Send(Discover, Everyone, Unspecified, client: Unspecified);
        Again();
    }

    private void SendRequest(bool broadcast, bool fromLease)
    {
        // Selecting: the offered address and the chosen server in options (RFC 2131 4.3.2);
        // renewing or rebinding: the leased address as ciaddr, and neither option.
        var leased = Lease?.Address ?? Unspecified;
        Send(Request, broadcast ? Everyone : _server, fromLease ? leased : Unspecified, client: fromLease ? leased : Unspecified);
        if (_requestedIn != (_xid, _state))
        {
            // The original request of this exchange: an ACK to any of its retransmissions counts
            // from it, so the lease never ends later than the server's does.
            _requestedIn = (_xid, _state);
            _requestedAt = _stack.Time.GetTimestamp();
        }
        Again();
    }

    private void Send(int type, NetworkAddress to, NetworkAddress from, NetworkAddress client)
    {
        var frame = _stack.BuildIp(from, to, IpProtocol.Udp, 8 + MessageLength, out var udp);
        udp.Clear();
        BinaryPrimitives.WriteUInt16BigEndian(udp, ClientPort);
        BinaryPrimitives.WriteUInt16BigEndian(udp.Slice(2), ServerPort);
        BinaryPrimitives.WriteUInt16BigEndian(udp.Slice(4), 8 + MessageLength);
        var bootp = udp.Slice(8);
        bootp[0] = 1; // BOOTREQUEST
        bootp[1] = 1; // Ethernet
        bootp[2] = 6;
        BinaryPrimitives.WriteUInt32BigEndian(bootp.Slice(4), _xid);
        if (client.Value == 0 && type != Decline) BinaryPrimitives.WriteUInt16BigEndian(bootp.Slice(10), 0x8000); // BROADCAST: answer so an addressless client hears it (a DECLINE is not answered: 0, table 5)
        BinaryPrimitives.WriteUInt32BigEndian(bootp.Slice(12), (uint)client.Value);
        EthernetHeader.WriteMac(bootp.Slice(28), _stack.Mac);
        BinaryPrimitives.WriteUInt32BigEndian(bootp.Slice(236), MagicCookie);
        var options = bootp.Slice(240);
        var at = 0;
        options[at++] = 53; options[at++] = 1; options[at++] = (byte)type;
        // RFC 2131 table 5: a REQUEST while selecting, and a DECLINE, name the offer and its
        // server; a RELEASE names the server; neither of the last two asks for anything.
        if (type is Request or Decline && client.Value == 0) at = Address(options, at, 50, _offered);
        if (type is Request or Decline && client.Value == 0 || type == ReleaseMessage) at = Address(options, at, 54, _server);
        if (type is not (ReleaseMessage or Decline))
        {
            // Parameter request list: subnet mask, router, lease time, server, T1, T2.
            options[at++] = 55; options[at++] = 6;
            options[at++] = 1; options[at++] = 3; options[at++] = 51; options[at++] = 54; options[at++] = 58; options[at++] = 59;
        }
        options[at] = 255;
        NetworkStack.SealTransport(frame, 6);
        _stack.Send(frame, to, reply: type is Decline or ReleaseMessage); // the limited broadcast goes to the broadcast MAC, unresolved; a DECLINE or RELEASE goes once, so a refusal is counted
    }

    // An option carrying an IPv4 address; where the next one starts.
    private static int Address(Span<byte> options, int at, byte code, NetworkAddress address)
    {
        options[at] = code;
        options[at + 1] = 4;
        BinaryPrimitives.WriteUInt32BigEndian(options.Slice(at + 2), (uint)address.Value);
        return at + 6;
    }

    // The options this client reads (RFC 2132), from a BOOTP message's options field.
    private readonly struct Options
    {
        public int Type { get; private init; }
        public uint? SubnetMask { get; private init; }
        public NetworkAddress? Router { get; private init; }
        public NetworkAddress? Server { get; private init; }
        public uint? LeaseSeconds { get; private init; }
        public uint? RenewSeconds { get; private init; }
        public uint? RebindSeconds { get; private init; }

        // Read as RFC 2131's clients must: through the file and sname fields where option 52
        // overloads them, each option's pieces joined (RFC 3396) — DhcpOptions, as link protection reads it.
        public static Options Read(ReadOnlySpan<byte> bootp)
        {
            var type = DhcpOptions.Byte(bootp, 53) ?? 0;
            var mask = DhcpOptions.UInt32(bootp, 1);
            Span<byte> first = stackalloc byte[4];
            NetworkAddress? router = DhcpOptions.TryFind(bootp, 3, first, out var routers) && routers >= 4
                ? new NetworkAddress(BinaryPrimitives.ReadUInt32BigEndian(first), false) // the first of the list
                : null;
            NetworkAddress? server = DhcpOptions.UInt32(bootp, 54) is { } id ? new NetworkAddress(id, false) : null;
            var lease = DhcpOptions.UInt32(bootp, 51);
            var renew = DhcpOptions.UInt32(bootp, 58);
            var rebind = DhcpOptions.UInt32(bootp, 59);
            // A mask that is not a run of ones from the top is no prefix: taken as none.
            if (mask is { } m && (~m & (~m + 1)) != 0) mask = null;
            return new Options { Type = type, SubnetMask = mask, Router = router, Server = server, LeaseSeconds = lease, RenewSeconds = renew, RebindSeconds = rebind };
        }
    }
}
