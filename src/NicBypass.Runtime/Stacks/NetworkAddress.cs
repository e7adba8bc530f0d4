using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace NicBypass.Runtime.Stacks;

/// <summary>
/// An IPv4 or IPv6 address as a value (no allocation): IPv4 in the low 32 bits. The stack keys
/// its sockets, connections and neighbours on it.
/// </summary>
public readonly record struct NetworkAddress(UInt128 Value, bool IsV6)
{
    public int Length => IsV6 ? 16 : 4;

    public static NetworkAddress Read(ReadOnlySpan<byte> bytes) => bytes.Length == 16
        ? new NetworkAddress(BinaryPrimitives.ReadUInt128BigEndian(bytes), true)
        : new NetworkAddress(BinaryPrimitives.ReadUInt32BigEndian(bytes), false);

    public static NetworkAddress From(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out var written);
        return Read(bytes.Slice(0, written));
    }

    public static NetworkAddress Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return IPAddress.TryParse(text, out var parsed) ? From(parsed) : throw new FormatException($"'{text}' is not an IP address (e.g. 10.0.0.1 or fd00::1)");
    }

    public void Write(Span<byte> into)
    {
        if (IsV6) BinaryPrimitives.WriteUInt128BigEndian(into, Value);
        else BinaryPrimitives.WriteUInt32BigEndian(into, (uint)Value);
    }

    public IPAddress ToIPAddress()
    {
        Span<byte> bytes = stackalloc byte[16];
        Write(bytes);
        return new IPAddress(bytes.Slice(0, Length));
    }

    public AddressFamily Family => IsV6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork;

    /// <summary>A multicast group or the IPv4 limited broadcast: no router forwards it.</summary>
    public bool IsGroup => IsV6 ? Value >> 120 == 0xFF : ((uint)Value >> 28) == 0xE || (uint)Value == 0xFFFF_FFFF;

    /// <summary>An IPv6 link-local unicast address (fe80::/10).</summary>
    public bool IsLinkLocal => IsV6 && Value >> 118 == 0x3FA;

    public override string ToString() => ToIPAddress().ToString();
}
