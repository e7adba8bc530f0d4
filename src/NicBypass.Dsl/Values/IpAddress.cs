using System.Globalization;
using System.Net.Sockets;

namespace NicBypass.Dsl.Values;

/// <summary>
/// An IPv4 or IPv6 address as two integers (IPv4 in the low 32 bits of <see cref="Low"/>), so
/// it compares and hashes by value and can be emitted as constants.
/// </summary>
public readonly record struct IpAddress(bool IsV6, ulong High, ulong Low)
{
    public int MaxPrefixLength => IsV6 ? 128 : 32;

    /// <summary>A multicast group: 224.0.0.0/4 or ff00::/8.</summary>
    public bool IsMulticast => IsV6 ? High >> 56 == 0xFF : (Low >> 28) == 0xE;

    /// <summary>An IPv6 link-local address (fe80::/10): on every link, so a router may be named by one (as routers advertise themselves, RFC 4861).</summary>
    public bool IsLinkLocal => IsV6 && High >> 54 == 0x3FA;

    /// <summary>
    /// Why no host can take this address as its own, or null when one can: the unspecified
    /// address, loopback, a multicast group, IPv4's limited broadcast or "this network" (RFC 1122
    /// 3.2.1.3, RFC 4291 2.5.2–2.5.3).
    /// </summary>
    public string? NotAHostAddress =>
        IsMulticast ? "a multicast group (a VNIC joins groups on a 'multicast' line)"
        : IsV6 ? (High, Low) switch
        {
            (0, 0) => "the unspecified address (::), which means no address",
            (0, 1) => "the loopback address (::1), every host's own",
            _ => null,
        }
        : Low == 0 ? "the unspecified address (0.0.0.0), which means no address"
        : Low == 0xFFFF_FFFF ? "the limited broadcast address, every host on the link"
        : (Low >> 24) == 127 ? "a loopback address (127.0.0.0/8), every host's own"
        : (Low >> 24) == 0 ? "in 0.0.0.0/8, 'this network' (RFC 1122), which a host may only send from while it learns its address"
        : null;

    /// <summary>
    /// Parses a dotted-quad IPv4 address (four decimal bytes, no leading '+', no shortened forms)
    /// or an IPv6 address without a zone. <paramref name="error"/> says what is wrong.
    /// </summary>
    public static bool TryParse(string text, out IpAddress address, out string error)
    {
        address = default;
        error = "";
        if (text.IndexOf(':') >= 0)
        {
            if (text.IndexOf('[') >= 0 || text.IndexOf(']') >= 0)
            {
                // A URL's form: .NET takes "[fd00::1]:80" and drops the port, silently (found by a drive).
                error = "write an IPv6 address without brackets (and without a port), e.g. fd00::1";
                return false;
            }
            if (text.IndexOf('%') >= 0) { error = "zone indexes ('%') are not allowed"; return false; }
            if (!System.Net.IPAddress.TryParse(text, out var parsed) || parsed.AddressFamily != AddressFamily.InterNetworkV6)
            {
                error = "not a valid IPv6 address";
                return false;
            }
            if (parsed.IsIPv4MappedToIPv6)
            {
                // The runtime (like the wire) treats ::ffff:a.b.c.d as IPv4; one spelling per address.
                error = $"an IPv4-mapped IPv6 address; write the IPv4 address itself ({parsed.MapToIPv4()})";
                return false;
            }
            var bytes = parsed.GetAddressBytes();
            ulong high = 0, low = 0;
            for (var i = 0; i < 8; i++) high = (high << 8) | bytes[i];
            for (var i = 8; i < 16; i++) low = (low << 8) | bytes[i];
            address = new IpAddress(true, high, low);
            return true;
        }

        var parts = text.Split('.');
        if (parts.Length != 4) { error = "an IPv4 address has four parts separated by '.'"; return false; }
        ulong value = 0;
        foreach (var part in parts)
        {
            if (part.Length is < 1 or > 3 || !part.All(c => c is >= '0' and <= '9'))
            {
                error = $"'{part}' is not a number 0..255";
                return false;
            }
            var n = int.Parse(part, CultureInfo.InvariantCulture);
            if (n > 255) { error = $"{n} is more than 255"; return false; }
            if (part.Length > 1 && part[0] == '0')
            {
                // inet_aton (ping, and much else) reads '010' as octal 8, inet_pton refuses it, and
                // Python's ipaddress too: one reading is the file's (it took 10, silently; found by
                // a new user's drive).
                error = $"'{part}' has a leading zero, which some tools read as octal{(part.All(c => c is >= '0' and <= '7') ? $" ({Convert.ToInt32(part, 8)})" : "")}; write {n}";
                return false;
            }
            value = (value << 8) | (uint)n;
        }
        address = new IpAddress(false, 0, value);
        return true;
    }

    public override string ToString()
    {
        if (!IsV6)
        {
            return string.Format(CultureInfo.InvariantCulture, "{0}.{1}.{2}.{3}", (Low >> 24) & 0xFF, (Low >> 16) & 0xFF, (Low >> 8) & 0xFF, Low & 0xFF);
        }
        var bytes = new byte[16];
        for (var i = 0; i < 8; i++) bytes[i] = (byte)(High >> (56 - 8 * i));
        for (var i = 0; i < 8; i++) bytes[8 + i] = (byte)(Low >> (56 - 8 * i));
        return new System.Net.IPAddress(bytes).ToString();
    }
}
