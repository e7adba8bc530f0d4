namespace NicBypass.Runtime.Classification;

/// <summary>
/// Open-addressing hash table from a 48-bit MAC to a rule index: multiplicative hash, linear
/// probing, a load factor of at most one half. A lookup is a multiply, a shift and (almost
/// always) one compare; it never allocates, hashes strings or walks a list.
/// </summary>
internal sealed class MacTable : IMacLookup
{
    // Keys carry an occupancy bit above the 48 MAC bits, so MAC 0 is not mistaken for "empty".
    private const ulong Occupied = 1UL << 63;
    private ulong[] _keys;
    private int[] _values;
    private int _shift;
    private int _count;

    public MacTable(int expected = 8)
    {
        var capacity = 16;
        while (capacity < expected * 2) capacity <<= 1;
        _keys = new ulong[capacity];
        _values = new int[capacity];
        _shift = 64 - System.Numerics.BitOperations.Log2((uint)capacity);
    }

    public int Count => _count;

    public int Lookup(ulong mac)
    {
        var keys = _keys;
        var mask = keys.Length - 1;
        var key = mac | Occupied;
        var i = (int)((mac * 0x9E3779B97F4A7C15UL) >> _shift);
        while (true)
        {
            var k = keys[i];
            if (k == key) return _values[i];
            if (k == 0) return -1;
            i = (i + 1) & mask;
        }
    }

    /// <summary>Adds or replaces the index for <paramref name="mac"/>.</summary>
    public void Set(ulong mac, int value)
    {
        if ((_count + 1) * 2 > _keys.Length) Grow();
        Insert(mac, value);
    }

    /// <summary>Rebuilds the table from <paramref name="entries"/> (after a removal).</summary>
    public void Rebuild(IEnumerable<(ulong Mac, int Value)> entries)
    {
        Array.Clear(_keys);
        _count = 0;
        foreach (var (mac, value) in entries) Set(mac, value);
    }

    private void Insert(ulong mac, int value)
    {
        var mask = _keys.Length - 1;
        var key = mac | Occupied;
        var i = (int)((mac * 0x9E3779B97F4A7C15UL) >> _shift);
        while (_keys[i] != 0 && _keys[i] != key) i = (i + 1) & mask;
        if (_keys[i] == 0) _count++;
        _keys[i] = key;
        _values[i] = value;
    }

    private void Grow()
    {
        var oldKeys = _keys;
        var oldValues = _values;
        _keys = new ulong[oldKeys.Length * 2];
        _values = new int[oldKeys.Length * 2];
        _shift--;
        _count = 0;
        for (var i = 0; i < oldKeys.Length; i++)
        {
            if (oldKeys[i] != 0) Insert(oldKeys[i] & ~Occupied, oldValues[i]);
        }
    }
}
