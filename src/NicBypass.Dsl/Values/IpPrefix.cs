using System.Globalization;

namespace NicBypass.Dsl.Values;

/// <summary>An address with its prefix length (<c>192.168.10.11/24</c>); without one, the full length.</summary>
public readonly record struct IpPrefix(IpAddress Address, int PrefixLength)
{
    /// <summary>Parses <c>ADDRESS</c> or <c>ADDRESS/LENGTH</c>.</summary>
    public static bool TryParse(string text, out IpPrefix prefix, out string error)
    {
        prefix = default;
        var slash = text.IndexOf('/');
        var addressText = slash < 0 ? text : text.Substring(0, slash);
        if (!IpAddress.TryParse(addressText, out var address, out error)) return false;
        var length = address.MaxPrefixLength;
        if (slash >= 0)
        {
            var lengthText = text.Substring(slash + 1);
            if (lengthText.Length is < 1 or > 3 || !lengthText.All(c => c is >= '0' and <= '9')
                || (length = int.Parse(lengthText, CultureInfo.InvariantCulture)) > address.MaxPrefixLength)
            {
                error = $"the prefix length must be 0..{address.MaxPrefixLength}";
                return false;
            }
        }
        prefix = new IpPrefix(address, length);
        return true;
    }

    /// <summary>True when <paramref name="address"/> is in this prefix.</summary>
    public bool Contains(IpAddress address)
    {
        if (address.IsV6 != Address.IsV6) return false;
        if (!Address.IsV6)
        {
            var mask4 = PrefixLength == 0 ? 0UL : (0xFFFF_FFFFUL << (32 - PrefixLength)) & 0xFFFF_FFFFUL;
            return (Address.Low & mask4) == (address.Low & mask4);
        }
        // IPv6 as two 64-bit halves: the prefix covers the high half first.
        var highBits = Math.Min(PrefixLength, 64);
        var lowBits = PrefixLength - highBits;
        var highMask = highBits == 0 ? 0UL : ulong.MaxValue << (64 - highBits);
        var lowMask = lowBits == 0 ? 0UL : ulong.MaxValue << (64 - lowBits);
        return (Address.High & highMask) == (address.High & highMask) && (Address.Low & lowMask) == (address.Low & lowMask);
    }

    /// <summary>True when some address is in both prefixes (one contains the other).</summary>
    public bool Overlaps(IpPrefix other) =>
        Address.IsV6 == other.Address.IsV6 && (PrefixLength <= other.PrefixLength ? Contains(other.Address) : other.Contains(Address));

    public override string ToString() => Address + "/" + PrefixLength.ToString(CultureInfo.InvariantCulture);
}
