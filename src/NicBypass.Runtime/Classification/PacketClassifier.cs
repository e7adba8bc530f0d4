using NicBypass.Runtime.Accounting;
using NicBypass.Runtime.Packets;

namespace NicBypass.Runtime.Classification;

/// <summary>
/// A classifier: destination MAC → rule → receive ring, then the fields of the rule its model
/// matches (VLAN, destination IP, transport port; docs/architecture.md § Classification as advertised). The NIC's hardware classifier
/// and every software ring's classifier are instances of this one class — the seed's software
/// classifier "has the same functionality as the hardware classifier and is programmed using
/// the same criteria". Group-addressed frames go to the members of their group, per VLAN
/// (<see cref="GroupRoute"/>). A NIC whose hardware classifier cannot hold every VNIC sends what
/// it does not match to a <see cref="DefaultRing"/>, where a software ring classifies it.
/// Rules change on the control path (allocating is fine there); <see cref="Classify"/> is the
/// per-frame hot path: one table lookup, a VLAN compare, and the IP/port checks a rule has.
/// </summary>
internal sealed class PacketClassifier : IClassifierProgramming
{
    private readonly List<ClassifierRule> _rules = new();
    private readonly MacTable _table = new();
    private readonly bool _matchVlan;
    private IMacLookup _lookup;
    private IFieldLookup? _fieldLookup;
    private int[] _ring = Array.Empty<int>();
    private FieldCheck[] _checks = Array.Empty<FieldCheck>();
    private DestinationFilter?[] _filters = Array.Empty<DestinationFilter?>();
    private Flow[]?[] _blocked = Array.Empty<Flow[]?>();
    private TrafficCounters[] _counters = Array.Empty<TrafficCounters>();
    private Dictionary<ulong, GroupRoute> _groups = new();
    private GroupRoute? _defaultRoute;
    private int _defaultRing = -1;

    public PacketClassifier(string name, ClassifierMatch fields, int capacity)
    {
        Name = name;
        Fields = fields;
        Capacity = capacity;
        _matchVlan = (fields & ClassifierMatch.Vlan) != 0;
        _lookup = _table;
    }

    public string Name { get; }

    public ClassifierMatch Fields { get; }

    public int Capacity { get; }

    public IReadOnlyList<ClassifierRule> Rules => _rules;

    /// <summary>The lookup in use: the generic table, or the specialised one loaded by <see cref="LoadLookup"/>.</summary>
    public IMacLookup ActiveLookup => _lookup;

    /// <summary>
    /// The ring that takes what no rule matches (unknown unicast, and a copy of every group
    /// frame), for a software classifier behind it to judge; -1 (the default) drops it as
    /// <c>no-match</c>. Frames sent there are not counted as any VNIC's yet: the software
    /// classifier that judges them counts them (<see cref="CountsReceipts"/>).
    /// </summary>
    public int DefaultRing
    {
        get => _defaultRing;
        set
        {
            _defaultRing = value;
            _stale = true;
            // A loaded lookup is used only while the tables are built (Classify's fast path).
            if (_fieldLookup is not null) Rebuild();
        }
    }

    /// <summary>True for the software classifier behind a <see cref="DefaultRing"/>: it counts what it classifies as received by the VNIC.</summary>
    public bool CountsReceipts { get; set; }

    public void Add(ClassifierRule rule)
    {
        if (_rules.Count >= Capacity)
        {
            throw new ClassifierFullException($"{Name}: cannot add a rule for {Packets.EthernetHeader.FormatMac(rule.Mac)}: all {Capacity} classifier entries are in use");
        }
        if (Packets.EthernetHeader.IsGroupAddress(rule.Mac))
        {
            throw new ArgumentException($"{Name}: {Packets.EthernetHeader.FormatMac(rule.Mac)} is a group address; a rule's MAC is a unicast one", nameof(rule));
        }
        if (_table.Lookup(rule.Mac) >= 0)
        {
            throw new ArgumentException($"{Name}: {Packets.EthernetHeader.FormatMac(rule.Mac)} is already programmed", nameof(rule));
        }
        _rules.Add(rule);
        _table.Set(rule.Mac, _rules.Count - 1);
        _lookup = _table;
        _fieldLookup = null;
        _stale = true;
    }

    public bool Remove(ulong mac)
    {
        var index = _table.Lookup(mac);
        if (index < 0) return false;
        _rules.RemoveAt(index);
        _table.Rebuild(_rules.Select((r, i) => (r.Mac, i)));
        _lookup = _table;
        _fieldLookup = null;
        _stale = true;
        return true;
    }

    public void LoadLookup(IMacLookup lookup)
    {
        EnsureBuilt();
        for (var i = 0; i < _rules.Count; i++)
        {
            if (lookup.Lookup(_rules[i].Mac) != i)
            {
                throw new InvalidOperationException($"{Name}: the specialised lookup does not send {Packets.EthernetHeader.FormatMac(_rules[i].Mac)} to rule {i}");
            }
            if (lookup is IFieldLookup baked && baked.CheckOf(i) != _checks[i])
            {
                throw new InvalidOperationException($"{Name}: the specialised lookup checks {Packets.EthernetHeader.FormatMac(_rules[i].Mac)} as {baked.CheckOf(i)}, the rule as {_checks[i]}");
            }
        }
        // Group frames reach the lookup (Classify tells them apart after it misses): it must not
        // answer for the broadcast address nor for a rule's MAC with the group bit set.
        foreach (var group in _rules.Select(r => r.Mac | Packets.EthernetHeader.GroupBit).Prepend(0xFFFF_FFFF_FFFFUL))
        {
            if (lookup.Lookup(group) >= 0)
            {
                throw new InvalidOperationException($"{Name}: the specialised lookup answers for the group address {Packets.EthernetHeader.FormatMac(group)}");
            }
        }
        _lookup = lookup;
        _fieldLookup = lookup as IFieldLookup;
    }

    /// <summary>
    /// Classifies one frame; <paramref name="rule"/> is set for <see cref="ClassifyResult.Match"/>.
    /// A frame whose header is too damaged to read a field is matched on the fields it could read.
    /// </summary>
    public ClassifyResult Classify(ReadOnlySpan<byte> frame, in EthernetHeader header, out int rule)
    {
        // A VNIC with `vlan N` takes frames tagged N; without, untagged (or priority-tagged)
        // frames only. Then its IP and port, where this classifier matches them: decided by the
        // rule's 16-byte check for option-less IPv4 (baked into a generated lookup), by its
        // filter for the rest. No rule holds a group address (Add refuses one), so a group frame
        // misses the lookup and is told apart after it, off the unicast path.
        FieldVerdict verdict;
        if (_fieldLookup is { } fused)
        {
            // Loaded only onto built tables, and dropped (or the tables rebuilt) when the rules change.
            verdict = fused.Match(frame, header, out rule);
        }
        else
        {
            if (_stale) Rebuild();
            rule = _lookup.Lookup(header.Destination);
            verdict = rule >= 0 ? _checks[rule].Check(frame, header) : FieldVerdict.NoMatch;
        }
        if (verdict == FieldVerdict.Match) return ClassifyResult.Match;
        return ClassifyOthers(frame, header, verdict, ref rule);
    }

    private ClassifyResult ClassifyOthers(ReadOnlySpan<byte> frame, in EthernetHeader header, FieldVerdict verdict, ref int rule)
    {
        if (header.IsGroup)
        {
            rule = -1;
            // A tag inside the tag (QinQ) is no VNIC's, where the classifier reads VLANs at all.
            return _matchVlan && !DestinationFilter.VlanMatches(header, header.Vlan) ? ClassifyResult.NoMatch : ClassifyResult.Group;
        }
        if (verdict == FieldVerdict.CheckFields && (_filters[rule] is not { } filter || filter.Accepts(frame, header)))
        {
            return ClassifyResult.Match;
        }
        rule = -1;
        return _defaultRing >= 0 ? ClassifyResult.Default : ClassifyResult.NoMatch;
    }

    // The per-rule reads below take a rule Classify returned: Classify has built the tables.

    public int RingOf(int rule) => _ring[rule];

    /// <summary>True when some rule has blocked flows this classifier drops itself.</summary>
    public bool BlocksFlows { get; private set; }

    /// <summary>The blocked flow of rule <paramref name="rule"/>'s VNIC that the frame belongs to, if this classifier can tell; else null.</summary>
    public Flow? BlockedFlow(int rule, ReadOnlySpan<byte> frame, in EthernetHeader header)
    {
        if (_blocked[rule] is not { } flows) return null;
        foreach (var flow in flows)
        {
            if (flow.Matches(frame, header)) return flow;
        }
        return null;
    }

    public TrafficCounters CountersOf(int rule) => _counters[rule];

    /// <summary>The replication route for group frame <paramref name="header"/>: its group's members in its VLAN, and the default ring.</summary>
    public bool TryGetGroupRoute(in EthernetHeader header, out GroupRoute route)
    {
        EnsureBuilt();
        if (_groups.TryGetValue(GroupKey(header), out route!)) return true;
        route = _defaultRoute!;
        return route is not null;
    }

    // Group routes are keyed by group MAC and VLAN; a classifier that cannot match VLANs keys
    // every VLAN as one (the VNIC then checks the VLAN in software).
    private ulong GroupKey(in EthernetHeader header) => header.Destination | (ulong)(_matchVlan ? header.Vlan : 0) << 48;

    /// <summary>Builds the flat tables now (the host does at start, so no datapath thread builds them on its first frame).</summary>
    internal void Prepare() => EnsureBuilt();

    private void EnsureBuilt()
    {
        if (_stale) Rebuild();
    }

    // Rules changed since the arrays were built: they are rebuilt once, when next read — a host
    // of thousands of VNICs programs its classifier rule by rule without rebuilding each time.
    private bool _stale;

    // Flattens the rules into the arrays the hot path reads, and the group routes.
    private void Rebuild()
    {
        _ring = _rules.Select(r => r.Ring).ToArray();
        _checks = _rules.Select(r => DestinationFilter.CheckOf(r, Fields)).ToArray();
        // The checks above hold the VLAN; the filters hold the IPs and ports they cannot decide.
        _filters = _rules.Select(r => DestinationFilter.Create(r, Fields & ~ClassifierMatch.Vlan)).ToArray();
        _counters = _rules.Select(r => r.Counters).ToArray();
        // Blocked flows this classifier can match (transport and local port: a classifier that
        // matches ports) are dropped here, before any ring or processor sees them.
        _blocked = _rules.Select(r => (Fields & ClassifierMatch.Port) != 0 && r.Flows is { } flows && flows.Any(f => f.Settings.Blocked && f.Settings.DestinationOnly)
            ? flows.Where(f => f.Settings.Blocked && f.Settings.DestinationOnly).ToArray() : null).ToArray();
        BlocksFlows = _blocked.Any(b => b is not null);
        var members = new Dictionary<ulong, List<ClassifierRule>>();
        foreach (var rule in _rules)
        {
            foreach (var group in rule.GroupMacs().Distinct())
            {
                var key = group | (ulong)(_matchVlan ? rule.Vlan : 0) << 48;
                if (!members.TryGetValue(key, out var list)) members[key] = list = new List<ClassifierRule>();
                list.Add(rule);
            }
        }
        var groups = new Dictionary<ulong, GroupRoute>();
        foreach (var (key, rules) in members)
        {
            var byRing = rules.GroupBy(r => r.Ring).ToDictionary(g => g.Key, g => g.Select(r => r.Counters).Distinct().ToArray());
            // The default ring takes a copy of every group frame, for the VNICs the hardware does not hold.
            if (_defaultRing >= 0) byRing.TryAdd(_defaultRing, Array.Empty<TrafficCounters>());
            var rings = byRing.Keys.Order().ToArray();
            groups[key] = new GroupRoute(rings, rings.Select(r => byRing[r]).ToArray());
        }
        _groups = groups;
        _defaultRoute = _defaultRing >= 0 ? new GroupRoute(new[] { _defaultRing }, new[] { Array.Empty<TrafficCounters>() }) : null;
        _stale = false;
    }
}
