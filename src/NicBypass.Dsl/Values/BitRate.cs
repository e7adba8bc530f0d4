using System.Globalization;

namespace NicBypass.Dsl.Values;

/// <summary>
/// A rate in bits per second. Written as a number with K, M or G (decimal, 1K = 1,000),
/// optionally followed by "bps": <c>64K</c>, <c>500M</c>, <c>2.5G</c>, <c>10Gbps</c>.
/// </summary>
public readonly record struct BitRate(ulong BitsPerSecond) : IComparable<BitRate>
{
    public int CompareTo(BitRate other) => BitsPerSecond.CompareTo(other.BitsPerSecond);

    public static bool operator >(BitRate a, BitRate b) => a.BitsPerSecond > b.BitsPerSecond;

    public static bool operator <(BitRate a, BitRate b) => a.BitsPerSecond < b.BitsPerSecond;

    // A rate written as people write numbers — with a thousands separator (1,000M), a decimal
    // comma (1,5G) or a space before the unit (5 M) — said so, with the spelling that parses; null
    // when no such spelling does (the unit itself is wrong: the caller says that).
    private static string? Rewritten(string text, string unit)
    {
        var compact = string.Concat(text.Where(c => !char.IsWhiteSpace(c)));
        string? fix = null, what = null;
        if (text.Contains(','))
        {
            // Three digits after each comma: a thousands separator; otherwise a decimal comma.
            var parts = compact.Split(',');
            var thousands = parts.Skip(1).All(p => p.Length >= 3 && p.Take(3).All(char.IsDigit) && (p.Length == 3 || !char.IsDigit(p[3])));
            fix = thousands ? compact.Replace(",", "") : compact.Replace(',', '.');
            what = thousands ? "a rate has no thousands separators" : "a rate has a decimal point, not a comma";
        }
        else if (unit.Length > 0 && char.IsWhiteSpace(unit[0]))
        {
            fix = compact;
            what = "a rate is written without a space";
        }
        if (fix is null) return null;
        if (TryParse(fix, out _, out _)) return $"{what}: write {fix}, not {text}";
        // No unit at all ('1,000'): the number as meant, and the unit it needs.
        return fix.All(c => c is >= '0' and <= '9' or '.') && TryParse(fix + "M", out _, out _)
            ? $"{what}, and needs a unit: K, M or G (bits per second), e.g. {fix}M"
            : null;
    }

    /// <summary>Parses a rate; <paramref name="error"/> says what is wrong when it fails.</summary>
    public static bool TryParse(string text, out BitRate rate, out string error)
    {
        rate = default;
        error = "";
        // A number, then a unit: K, M or G, optionally followed by "bps".
        var split = 0;
        while (split < text.Length && text[split] is >= '0' and <= '9' or '.') split++;
        var number = text.Substring(0, split);
        var unit = text.Substring(split);
        if (number.Length == 0)
        {
            error = text.Length == 0 ? "a rate needs a number"
                : text[0] == '-' ? "a rate cannot be negative: a number followed by K, M or G, e.g. 2.5G"
                : "a rate is a number followed by K, M or G, e.g. 2.5G";
            return false;
        }
        if (unit.Length == 0)
        {
            // A zero is no rate in any unit: said first, not "needs a unit" and then "must be positive" (found by a new user's drive).
            error = number.All(c => c is '0' or '.') ? "a rate must be positive" : "a rate needs a unit: K, M or G (bits per second), e.g. 500M";
            return false;
        }
        var prefix = unit.EndsWith("bps", StringComparison.OrdinalIgnoreCase) ? unit.Substring(0, unit.Length - 3) : unit;
        ulong multiplier;
        switch (prefix.Length == 1 ? char.ToUpperInvariant(prefix[0]) : '\0')
        {
            case 'K': multiplier = 1_000UL; break;
            case 'M': multiplier = 1_000_000UL; break;
            case 'G': multiplier = 1_000_000_000UL; break;
            default:
                // A thousands separator or a space before the unit: say so (the number before it
                // was read as all there is, and "e.g. 1M" for "1,000M" suggested a thousandth).
                error = Rewritten(text, unit) is { } fix
                    ? fix
                    : $"the unit '{(unit.Length > 16 ? unit.Substring(0, 16) + "…" : unit)}' is not recognised: write K, M or G (bits per second, decimal), optionally followed by bps, e.g. {number}M or {number}Mbps";
                return false;
        }
        if (number.Count(c => c == '.') > 1 || number[0] == '.' || number[number.Length - 1] == '.')
        {
            error = "a rate is a number followed by K, M or G, e.g. 2.5G";
            return false;
        }
        // Leading zeros and a fraction's trailing zeros say nothing: 0001.500000G is 1.5G.
        var significant = number.TrimStart('0');
        if (significant.Contains('.')) significant = significant.TrimEnd('0').TrimEnd('.');
        if (significant.Length > 20)
        {
            // Past 20 digits the number is too long to be a rate a link carries, or a fraction of a bit.
            error = significant.Contains('.') ? "the number has more digits than a rate needs (at most 20): a rate is a whole number of bits per second" : "the rate is too large (at most 1,000,000G)";
            return false;
        }
        if (!decimal.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value))
        {
            error = "the number is too large";
            return false;
        }
        decimal bits;
        try { bits = value * multiplier; }
        catch (OverflowException) { error = "the rate is too large"; return false; }
        if (bits > 1_000_000_000_000_000m) { error = "the rate is too large (at most 1,000,000G)"; return false; }
        if (bits != decimal.Truncate(bits)) { error = "a rate must be a whole number of bits per second"; return false; }
        if (bits <= 0) { error = "a rate must be positive"; return false; }
        rate = new BitRate((ulong)bits);
        return true;
    }

    /// <summary>The shortest exact form: 2.5G, 500M, 64K, or plain bits per second.</summary>
    public override string ToString()
    {
        var v = BitsPerSecond;
        if (v == 0) return "0";
        foreach (var (unit, size) in new[] { ("G", 1_000_000_000UL), ("M", 1_000_000UL), ("K", 1_000UL) })
        {
            if (v >= size)
            {
                var scaled = (decimal)v / size;
                return scaled.ToString("0.#########", CultureInfo.InvariantCulture) + unit;
            }
        }
        return v.ToString(CultureInfo.InvariantCulture) + "bps";
    }
}
