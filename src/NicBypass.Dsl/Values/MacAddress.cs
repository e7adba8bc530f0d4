using System.Globalization;

namespace NicBypass.Dsl.Values;

/// <summary>
/// A 48-bit Ethernet address held as one integer, most significant byte first — the form the
/// classifiers compare (docs/runtime.md).
/// </summary>
public readonly record struct MacAddress(ulong Value)
{
    /// <summary>The broadcast address ff:ff:ff:ff:ff:ff.</summary>
    public static MacAddress Broadcast => new(0xFFFF_FFFF_FFFFUL);

    /// <summary>The group (I/G) bit of the first byte: set for multicast and broadcast.</summary>
    public bool IsGroup => (Value & 0x0100_0000_0000UL) != 0;

    public bool IsZero => Value == 0;

    /// <summary>Parses exactly six two-digit hex bytes separated by ':' or '-' (e.g. 02:08:20:ac:00:01).</summary>
    public static bool TryParse(string text, out MacAddress address)
    {
        address = default;
        var parts = text.Split(':');
        if (parts.Length != 6) parts = text.Split('-');
        if (parts.Length != 6) return false;
        ulong value = 0;
        foreach (var part in parts)
        {
            if (part.Length != 2) return false; // two digits each, as documented ("2:0:0:0:0:1" passed; found by a drive)
            if (!byte.TryParse(part, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var b)) return false;
            value = (value << 8) | b;
        }
        address = new MacAddress(value);
        return true;
    }

    public override string ToString()
    {
        var v = Value;
        return string.Format(CultureInfo.InvariantCulture, "{0:x2}:{1:x2}:{2:x2}:{3:x2}:{4:x2}:{5:x2}",
            (v >> 40) & 0xFF, (v >> 32) & 0xFF, (v >> 24) & 0xFF, (v >> 16) & 0xFF, (v >> 8) & 0xFF, v & 0xFF);
    }
}
