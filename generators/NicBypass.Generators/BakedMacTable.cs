namespace NicBypass.Generators;

/// <summary>
/// Lays out an open-addressing MAC table at build time (the layout the runtime's MacTable uses:
/// occupancy bit above the 48 MAC bits, multiplicative hash, linear probing, load ≤ ½), trying a
/// fixed series of multipliers and keeping the one with the fewest extra probes. Deterministic.
/// </summary>
internal sealed class BakedMacTable
{
    private const ulong Occupied = 1UL << 63;

    private BakedMacTable(ulong multiplier, int shift, ulong[] keys, int[] values, int probes)
    {
        Multiplier = multiplier;
        Shift = shift;
        Keys = keys;
        Values = values;
        Probes = probes;
    }

    public ulong Multiplier { get; }

    public int Shift { get; }

    public ulong[] Keys { get; }

    public int[] Values { get; }

    /// <summary>Extra probes summed over all keys (0 = every key in its home slot).</summary>
    public int Probes { get; }

    public static BakedMacTable Build(IReadOnlyList<ulong> macs)
    {
        var size = 16;
        while (size < macs.Count * 2) size <<= 1;
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
        var values = new int[size];
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
            values[slot] = i;
        }
        return new BakedMacTable(multiplier, shift, keys, values, probes);
    }

    private static int Log2(int value)
    {
        var log = 0;
        while ((1 << log) < value) log++;
        return log;
    }
}
