using NicBypass.Runtime.Accounting;
using NicBypass.Runtime.Classification;
using NicBypass.Runtime.Packets;

namespace NicBypass.Runtime.Tests;

public class ClassifierTests
{
    private static EthernetHeader Header(ulong destination, int vlan = 0) => new(destination, 0x02AA00000001UL, vlan, 0x0800, vlan == 0 ? 14 : 18);

    [Fact]
    public void Capacity_is_enforced_with_a_clear_error()
    {
        var classifier = new PacketClassifier("e0 hardware classifier", ClassifierMatch.DestinationMac, 2);
        classifier.Add(new ClassifierRule(1, 0, 0, new TrafficCounters()));
        classifier.Add(new ClassifierRule(2, 0, 1, new TrafficCounters()));

        var error = Assert.Throws<ClassifierFullException>(() => classifier.Add(new ClassifierRule(3, 0, 0, new TrafficCounters())));
        Assert.Equal("e0 hardware classifier: cannot add a rule for 00:00:00:00:00:03: all 2 classifier entries are in use", error.Message);
    }

    [Fact]
    public void Rules_added_and_removed_through_the_api_decide_the_ring()
    {
        var classifier = new PacketClassifier("c", ClassifierMatch.DestinationMac | ClassifierMatch.Vlan, 16);
        classifier.Add(new ClassifierRule(0x020000000001, 0, 3, new TrafficCounters()));
        classifier.Add(new ClassifierRule(0x020000000002, 7, 1, new TrafficCounters()));

        Assert.Equal(ClassifyResult.Match, classifier.Classify(default, Header(0x020000000001), out var rule));
        Assert.Equal(3, classifier.RingOf(rule));
        Assert.Equal(ClassifyResult.Match, classifier.Classify(default, Header(0x020000000002, 7), out rule));
        Assert.Equal(1, classifier.RingOf(rule));
        Assert.Equal(ClassifyResult.NoMatch, classifier.Classify(default, Header(0x020000000002), out _));
        Assert.Equal(ClassifyResult.Group, classifier.Classify(default, Header(0xFFFFFFFFFFFF), out _));

        Assert.True(classifier.Remove(0x020000000001));
        Assert.Equal(ClassifyResult.NoMatch, classifier.Classify(default, Header(0x020000000001), out _));
        Assert.Equal(ClassifyResult.Match, classifier.Classify(default, Header(0x020000000002, 7), out rule));
        Assert.Equal(1, classifier.RingOf(rule));
        Assert.False(classifier.Remove(0x020000000001));
    }

    [Fact]
    public void Programming_the_same_mac_twice_is_refused()
    {
        var classifier = new PacketClassifier("c", ClassifierMatch.DestinationMac, 16);
        classifier.Add(new ClassifierRule(5, 0, 0, new TrafficCounters()));

        Assert.Throws<ArgumentException>(() => classifier.Add(new ClassifierRule(5, 0, 1, new TrafficCounters())));
    }

    [Fact]
    public void A_group_address_is_no_rules_mac_so_a_group_frame_always_misses_the_lookup()
    {
        var classifier = new PacketClassifier("c", ClassifierMatch.DestinationMac, 16);
        var error = Assert.Throws<ArgumentException>(() => classifier.Add(new ClassifierRule(0x01_00_5E_00_00_01, 0, 0, new TrafficCounters())));
        Assert.Contains("01:00:5e:00:00:01 is a group address", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Empty(classifier.Rules);
    }

    [Fact]
    public void Group_routes_list_each_ring_once_with_the_vnics_behind_it()
    {
        var a = new TrafficCounters();
        var b = new TrafficCounters();
        var c = new TrafficCounters();
        var classifier = new PacketClassifier("c", ClassifierMatch.DestinationMac | ClassifierMatch.Vlan, 16);
        classifier.Add(new ClassifierRule(1, 0, 0, a));
        classifier.Add(new ClassifierRule(2, 0, 1, b));
        classifier.Add(new ClassifierRule(3, 0, 1, c));
        classifier.Add(new ClassifierRule(4, 0, 1, c)); // a second MAC of c
        classifier.Add(new ClassifierRule(5, 9, 0, new TrafficCounters()));

        Assert.True(classifier.TryGetGroupRoute(Header(GroupAddress.Broadcast), out var route));
        Assert.Equal(new[] { 0, 1 }, route.Rings);
        Assert.Equal(new[] { a }, route.Targets[0]);
        Assert.Equal(new[] { b, c }, route.Targets[1]);
        Assert.False(classifier.TryGetGroupRoute(Header(GroupAddress.Broadcast, 8), out _));
        Assert.False(classifier.TryGetGroupRoute(Header(0x01005E0000FB), out _)); // a group nobody joined
    }

    [Fact]
    public void A_specialised_lookup_is_checked_against_the_rules()
    {
        var classifier = new PacketClassifier("c", ClassifierMatch.DestinationMac, 16);
        classifier.Add(new ClassifierRule(10, 0, 0, new TrafficCounters()));
        classifier.Add(new ClassifierRule(20, 0, 1, new TrafficCounters()));

        Assert.Throws<InvalidOperationException>(() => classifier.LoadLookup(new ConstantLookup(0)));
        // Right for every rule, but it answers for broadcast: group frames reach the lookup, so it is refused.
        var error = Assert.Throws<InvalidOperationException>(() => classifier.LoadLookup(new BroadcastLookup()));
        Assert.Contains("group address ff:ff:ff:ff:ff:ff", error.Message, StringComparison.OrdinalIgnoreCase);
        classifier.LoadLookup(new SwitchLookup());
        Assert.Equal(ClassifyResult.Match, classifier.Classify(default, Header(20), out var rule));
        Assert.Equal(1, rule);
    }

    [Fact]
    public void A_specialised_lookup_whose_baked_checks_differ_from_the_rules_is_refused()
    {
        var classifier = new PacketClassifier("c", ClassifierMatch.DestinationMac | ClassifierMatch.DestinationIp, 16);
        classifier.Add(new ClassifierRule(10, 0, 0, new TrafficCounters(), new[] { System.Net.IPAddress.Parse("10.0.0.1") }));
        var right = new FieldCheck(FieldCheckOptions.Ipv4, 0, 0x0A000001, 0);

        var error = Assert.Throws<InvalidOperationException>(() => classifier.LoadLookup(new FieldLookup(new FieldCheck(FieldCheckOptions.Ipv4, 0, 0x0A000002, 0))));
        Assert.Contains("checks 00:00:00:00:00:0a", error.Message);
        Assert.Throws<InvalidOperationException>(() => classifier.LoadLookup(new FieldLookup(default))); // checks nothing: it would let every IP through
        classifier.LoadLookup(new FieldLookup(right));
        Assert.Same(typeof(FieldLookup), classifier.ActiveLookup.GetType());
    }

    private sealed class FieldLookup(FieldCheck check) : IFieldLookup
    {
        public int Lookup(ulong mac) => mac == 10 ? 0 : -1;

        public FieldCheck CheckOf(int rule) => check;

        public FieldVerdict Match(ReadOnlySpan<byte> frame, in EthernetHeader header, out int rule)
        {
            rule = Lookup(header.Destination);
            return rule >= 0 ? check.Check(frame, header) : FieldVerdict.NoMatch;
        }
    }

    [Fact]
    public void The_mac_table_finds_every_key_and_nothing_else()
    {
        var table = new MacTable();
        var random = new Random(5);
        var keys = Enumerable.Range(0, 5000).Select(_ => (ulong)random.NextInt64(1, 1L << 48)).Distinct().ToList();
        for (var i = 0; i < keys.Count; i++) table.Set(keys[i], i);

        for (var i = 0; i < keys.Count; i++) Assert.Equal(i, table.Lookup(keys[i]));
        Assert.Equal(-1, table.Lookup(0));
        Assert.Equal(keys.Count, table.Count);
        var set = keys.ToHashSet();
        for (var i = 0; i < 1000; i++)
        {
            var probe = (ulong)random.NextInt64(0, 1L << 48);
            if (!set.Contains(probe)) Assert.Equal(-1, table.Lookup(probe));
        }
    }

    private sealed class ConstantLookup(int value) : IMacLookup
    {
        public int Lookup(ulong mac) => value;
    }

    private sealed class BroadcastLookup : IMacLookup
    {
        public int Lookup(ulong mac) => mac switch { 10 => 0, 20 => 1, 0xFFFF_FFFF_FFFF => 0, _ => -1 };
    }

    private sealed class SwitchLookup : IMacLookup
    {
        public int Lookup(ulong mac) => mac switch { 10 => 0, 20 => 1, _ => -1 };
    }
}
