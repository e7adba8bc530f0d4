namespace NicBypass.Generators;

/// <summary>
/// Lays out an open-addressing MAC table at build time (the layout the runtime's MacTable uses:
/// occupancy bit above the 48 MAC bits, multiplicative hash, linear probing, load ≤ ½), trying a
/// fixed series of multipliers and keeping the one with the fewest extra probes; a small table may
/// widen until every MAC sits in its home slot (a perfect layout). Deterministic.
/// </summary>
internal sealed class BakedMacTable
{
    private const ulong Occupied = 1UL << 63;

    private BakedMacTable(ulong multiplier, int shift, ulong[] keys, int[] slots, int probes)
    {
        Slots = slots;
        Multiplier = multiplier;
        Shift = shift;
        Keys = keys;
        Probes = probes;
    }

    public ulong Multiplier { get; }

    public int Shift { get; }

    public ulong[] Keys { get; }

    /// <summary>The slot of MAC i (rule i).</summary>
    public int[] Slots { get; }

    /// <summary>Extra probes summed over all keys (0 = every key in its home slot).</summary>
    public int Probes { get; }

    /// <summary>Past this many slots a table is not widened in search of a perfect layout.</summary>
    public const int MaxPerfectSize = 1024;

    public static BakedMacTable Build(IReadOnlyList<ulong> macs)
    {
        var size = 16;
        while (size < macs.Count * 2) size <<= 1;
        var best = Search(macs, size);
        // A small table may spread out (up to eight times the slots, at most MaxPerfectSize) to
        // find a layout where every MAC sits in its home slot: a lookup is then one read and one
        // compare, with no probe loop. Only the slots the MACs occupy are ever read.
        for (var wider = size * 2; best.Probes > 0 && wider <= size * 8 && wider <= MaxPerfectSize; wider <<= 1)
        {
            var candidate = Search(macs, wider);
            if (candidate.Probes == 0) best = candidate;
        }
        return best;
    }

    // The layout with the fewest extra probes among a fixed series of multipliers.
    private static BakedMacTable Search(IReadOnlyList<ulong> macs, int size)
    {
        var shift = 64 - Log2(size);
        BakedMacTable? best = null;
        for (var k = 0; k < 64 && (best is null || best.Probes > 0); k++)
        {
            var multiplier = unchecked(0x9E3779B97F4A7C15UL * (ulong)(2 * k + 1));
            var candidate = Place(macs, multiplier, shift, size);
            if (best is null || candidate.Probes < best.Probes) best = candidate;
        }
        return best!;
    }

    private static BakedMacTable Place(IReadOnlyList<ulong> macs, ulong multiplier, int shift, int size)
    {
        var keys = new ulong[size];
        var slots = new int[macs.Count];
        var probes = 0;
        for (var i = 0; i < macs.Count; i++)
        {
            var slot = (int)(unchecked(macs[i] * multiplier) >> shift);
            while (keys[slot] != 0)
            {
                slot = (slot + 1) & (size - 1);
                probes++;
            }
            keys[slot] = macs[i] | Occupied;
            slots[i] = slot;
        }
        return new BakedMacTable(multiplier, shift, keys, slots, probes);
    }

    private static int Log2(int value)
    {
        var log = 0;
        while ((1 << log) < value) log++;
        return log;
    }
}
