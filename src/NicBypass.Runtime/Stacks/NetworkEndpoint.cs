using System.Net;

namespace NicBypass.Runtime.Stacks;

/// <summary>An address and a port, as a value.</summary>
public readonly record struct NetworkEndpoint(NetworkAddress Address, ushort Port)
{
    public static NetworkEndpoint Parse(string address, int port)
    {
        var parsed = NetworkAddress.Parse(address);
        if (port is < 0 or > 65535) throw new ArgumentOutOfRangeException(nameof(port), port, "a port is 0..65535");
        return new(parsed, (ushort)port);
    }

    /// <summary>An endpoint written as one string: <c>10.0.0.1:80</c>, or <c>[fd00::1]:80</c> for IPv6 (as <see cref="ToString"/> writes it).</summary>
    public static NetworkEndpoint Parse(string endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (!IPEndPoint.TryParse(endpoint, out var parsed) || parsed.Port == 0 && !endpoint.EndsWith(":0", StringComparison.Ordinal))
        {
            throw new FormatException($"'{endpoint}' is not an address and port (e.g. 10.0.0.1:80 or [fd00::1]:80)");
        }
        return From(parsed);
    }

    public static NetworkEndpoint From(IPEndPoint endpoint) => new(NetworkAddress.From(endpoint.Address), checked((ushort)endpoint.Port));

    public IPEndPoint ToIPEndPoint() => new(Address.ToIPAddress(), Port);

    public override string ToString() => Address.IsV6 ? $"[{Address}]:{Port}" : $"{Address}:{Port}";
}
