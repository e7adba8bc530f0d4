using System.Net;

namespace NicBypass.Runtime.Stacks;

/// <summary>An address and a port, as a value.</summary>
public readonly record struct NetworkEndpoint(NetworkAddress Address, ushort Port)
{
    public static NetworkEndpoint Parse(string address, int port) => new(NetworkAddress.Parse(address), checked((ushort)port));

    public static NetworkEndpoint From(IPEndPoint endpoint) => new(NetworkAddress.From(endpoint.Address), checked((ushort)endpoint.Port));

    public IPEndPoint ToIPEndPoint() => new(Address.ToIPAddress(), Port);

    public override string ToString() => Address.IsV6 ? $"[{Address}]:{Port}" : $"{Address}:{Port}";
}
