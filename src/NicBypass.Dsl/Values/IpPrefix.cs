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

    public override string ToString() => Address + "/" + PrefixLength.ToString(CultureInfo.InvariantCulture);
}
