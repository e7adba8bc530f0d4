using NicBypass.Runtime.Accounting;
using NicBypass.Runtime.Packets;

namespace NicBypass.Runtime.Classification;

/// <summary>
/// A classifier: destination MAC (and VLAN) → receive ring. The NIC's hardware classifier and
/// every software ring's classifier are instances of this one class — the seed's software
/// classifier "has the same functionality as the hardware classifier and is programmed using
/// the same criteria". Group-addressed frames get a <see cref="GroupRoute"/> per VLAN.
/// Rules change on the control path (allocating is fine there); <see cref="Classify"/> is the
/// per-frame hot path: one table lookup and a VLAN compare.
/// </summary>
internal sealed class PacketClassifier : IClassifierProgramming
{
    private readonly List<ClassifierRule> _rules = new();
    private readonly MacTable _table = new();
    private IMacLookup _lookup;
    private int[] _ring = Array.Empty<int>();
    private int[] _vlan = Array.Empty<int>();
    private TrafficCounters[] _counters = Array.Empty<TrafficCounters>();
    private Dictionary<int, GroupRoute> _groups = new();

    public PacketClassifier(string name, ClassifierMatch fields, int capacity)
    {
        Name = name;
        Fields = fields;
        Capacity = capacity;
        _lookup = _table;
    }

    public string Name { get; }

    public ClassifierMatch Fields { get; }

    public int Capacity { get; }

    public IReadOnlyList<ClassifierRule> Rules => _rules;

    /// <summary>The lookup in use: the generic table, or the specialised one loaded by <see cref="LoadLookup"/>.</summary>
    public IMacLookup ActiveLookup => _lookup;

    public void Add(ClassifierRule rule)
    {
        if (_rules.Count >= Capacity)
        {
            throw new ClassifierFullException($"{Name}: cannot add a rule for {Packets.EthernetHeader.FormatMac(rule.Mac)}: all {Capacity} classifier entries are in use");
        }
        if (_table.Lookup(rule.Mac) >= 0)
        {
            throw new ArgumentException($"{Name}: {Packets.EthernetHeader.FormatMac(rule.Mac)} is already programmed", nameof(rule));
        }
        _rules.Add(rule);
        _table.Set(rule.Mac, _rules.Count - 1);
        _lookup = _table;
        Rebuild();
    }

    public bool Remove(ulong mac)
    {
        var index = _table.Lookup(mac);
        if (index < 0) return false;
        _rules.RemoveAt(index);
        _table.Rebuild(_rules.Select((r, i) => (r.Mac, i)));
        _lookup = _table;
        Rebuild();
        return true;
    }

    public void LoadLookup(IMacLookup lookup)
    {
        for (var i = 0; i < _rules.Count; i++)
        {
            if (lookup.Lookup(_rules[i].Mac) != i)
            {
                throw new InvalidOperationException($"{Name}: the specialised lookup does not send {Packets.EthernetHeader.FormatMac(_rules[i].Mac)} to rule {i}");
            }
        }
        _lookup = lookup;
    }

    /// <summary>Classifies one frame by its layer-2 header; <paramref name="rule"/> is set for <see cref="ClassifyResult.Match"/>.</summary>
    public ClassifyResult Classify(in EthernetHeader header, out int rule)
    {
        if (header.IsGroup)
        {
            rule = -1;
            return ClassifyResult.Group;
        }
        rule = _lookup.Lookup(header.Destination);
        // A VNIC with `vlan N` takes frames tagged N; without, untagged frames only.
        if (rule < 0 || _vlan[rule] != header.Vlan)
        {
            rule = -1;
            return ClassifyResult.NoMatch;
        }
        return ClassifyResult.Match;
    }

    public int RingOf(int rule) => _ring[rule];

    public TrafficCounters CountersOf(int rule) => _counters[rule];

    /// <summary>The replication route for group frames in <paramref name="vlan"/>, if any VNIC is in it.</summary>
    public bool TryGetGroupRoute(int vlan, out GroupRoute route) => _groups.TryGetValue(vlan, out route!);

    // Flattens the rules into the arrays the hot path reads, and the per-VLAN group routes.
    private void Rebuild()
    {
        _ring = _rules.Select(r => r.Ring).ToArray();
        _vlan = _rules.Select(r => r.Vlan).ToArray();
        _counters = _rules.Select(r => r.Counters).ToArray();
        var groups = new Dictionary<int, GroupRoute>();
        foreach (var byVlan in _rules.GroupBy(r => r.Vlan))
        {
            var byRing = byVlan.GroupBy(r => r.Ring).OrderBy(g => g.Key).ToList();
            groups[byVlan.Key] = new GroupRoute(
                byRing.Select(g => g.Key).ToArray(),
                byRing.Select(g => g.Select(r => r.Counters).Distinct().ToArray()).ToArray());
        }
        _groups = groups;
    }
}
