using NicBypass.Generators;
using Xunit;

namespace NicBypass.Generators.Tests;

/// <summary>The build-time layout of a classifier's MAC table (docs/architecture.md § the generator).</summary>
public class BakedMacTableTests
{
    [Theory]
    [InlineData(3)]
    [InlineData(8)]
    [InlineData(64)]
    public void A_small_table_widens_until_every_mac_sits_in_its_home_slot(int count)
    {
        var macs = RandomMacs(count, seed: count);
        var table = BakedMacTable.Build(macs);

        Assert.Equal(0, table.Probes);
        Assert.True(table.Keys.Length <= BakedMacTable.MaxPerfectSize);
        for (var rule = 0; rule < count; rule++)
        {
            Assert.Equal(table.Slots[rule], Home(table, macs[rule]));
            Assert.Equal(macs[rule] | 1UL << 63, table.Keys[table.Slots[rule]]);
        }
        Assert.Equal(count, table.Slots.Distinct().Count()); // a slot for each rule
    }

    [Fact]
    public void A_large_table_keeps_half_load_and_probes_to_every_mac()
    {
        var macs = RandomMacs(1024, seed: 7);
        var table = BakedMacTable.Build(macs);

        Assert.Equal(2048, table.Keys.Length);
        for (var rule = 0; rule < macs.Count; rule++)
        {
            // Linear probing from the home slot reaches the MAC's slot before any empty one.
            var slot = Home(table, macs[rule]);
            while (slot != table.Slots[rule])
            {
                Assert.NotEqual(0UL, table.Keys[slot]);
                slot = (slot + 1) & (table.Keys.Length - 1);
            }
        }
    }

    private static int Home(BakedMacTable table, ulong mac) => (int)(unchecked(mac * table.Multiplier) >> table.Shift);

    internal static List<ulong> RandomMacs(int count, int seed)
    {
        var random = new Random(seed);
        var macs = new HashSet<ulong>();
        while (macs.Count < count) macs.Add(0x02_00_00_00_00_00UL | (ulong)random.NextInt64(1, 1L << 40));
        return macs.ToList();
    }
}

/// <summary>The generated lookups, compiled and run: both layouts send every MAC to its rule and no other MAC anywhere.</summary>
public class GeneratedLookupTests
{
    [Theory]
    [InlineData(8, "one read decides")]
    [InlineData(300, "while (true)")]
    public void A_generated_lookup_finds_every_mac_of_its_classifier_and_no_other(int vms, string layout)
    {
        // Compiled as a consumer with <CheckForOverflowUnderflow> would: the hash's multiply wraps
        // by design, and threw OverflowException in every generated host's constructor (found by a
        // new user's drive).
        // Random MACs: evenly spaced ones hash perfectly into any table (Fibonacci hashing spreads progressions).
        var macs = BakedMacTableTests.RandomMacs(vms, seed: vms).ToArray();
        var body = string.Concat(macs.Select((mac, i) => $" vm v{i} on e0 {{ mac {NicBypass.Runtime.Packets.EthernetHeader.FormatMac(mac)} }}\n"));
        var (_, output, diagnostics) = GeneratorHarness.Run(("lookup.nicdsl", $"host lookup {{\n nic e0 {{ model simnic-100g; rx-rings 4; soft-ring-width {vms} }}\n{body}}}\n"));
        Assert.DoesNotContain(diagnostics, d => d.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error);
        var hardware = output.SyntaxTrees.Single(t => t.FilePath.EndsWith(".g.cs", StringComparison.Ordinal)).ToString();
        Assert.Contains(layout, hardware);

        using var image = new MemoryStream();
        var emitted = output.WithOptions(((Microsoft.CodeAnalysis.CSharp.CSharpCompilationOptions)output.Options).WithOverflowChecks(true)).Emit(image);
        Assert.True(emitted.Success, string.Join("\n", emitted.Diagnostics));
        var assembly = System.Reflection.Assembly.Load(image.ToArray());
        var lookupType = assembly.GetTypes().Single(t => t.Name == "E0_HardwareClassifier");
        var lookup = (NicBypass.Runtime.Classification.IMacLookup)Activator.CreateInstance(lookupType, nonPublic: true)!;

        // Rule i is VNIC i's MAC (the planner programs the hardware classifier in declaration order).
        var rules = macs.Select(lookup.Lookup).ToArray();
        Assert.Equal(Enumerable.Range(0, vms), rules.Order());
        var random = new Random(vms);
        for (var i = 0; i < 10_000; i++)
        {
            var other = 0x02_00_00_00_00_00UL | (ulong)random.NextInt64(0, 1L << 40);
            if (Array.IndexOf(macs, other) < 0) Assert.Equal(-1, lookup.Lookup(other));
        }
        // Neighbours of the real MACs (one bit off) and values above 48 bits are no rule's either.
        foreach (var mac in macs)
        {
            Assert.Equal(-1, lookup.Lookup(mac ^ 1UL << 40));
            Assert.Equal(-1, lookup.Lookup(mac | 1UL << 50));
        }
    }
}
