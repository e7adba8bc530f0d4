using System.Buffers.Binary;

namespace NicBypass.Runtime.Packets;

/// <summary>
/// Reads the few fields of a DHCP message (RFC 2131: BOOTP with the magic cookie and options)
/// that link protection needs: which way it goes, the client's hardware address, the address a
/// server gives, and the message type — from an Ethernet frame, untagged.
/// </summary>
internal readonly ref struct BootpMessage
{
    public const int ServerPort = 67;
    public const int ClientPort = 68;
    public const byte Decline = 4;
    public const byte Ack = 5;
    public const byte Nak = 6;
    public const byte Release = 7;
    private const uint MagicCookie = 0x6382_5363;

    private BootpMessage(ReadOnlySpan<byte> bootp)
    {
        ClientMac = EthernetHeader.ReadMac(bootp.Slice(28));
        YourAddress = BinaryPrimitives.ReadUInt32BigEndian(bootp.Slice(16));
        Transaction = BinaryPrimitives.ReadUInt32BigEndian(bootp.Slice(4));
        FromServer = bootp[0] == 2;
        // As the runtime's client reads them (DhcpOptions): overloaded fields and split options too.
        Type = DhcpOptions.Byte(bootp, 53) ?? 0;
        LeaseSeconds = DhcpOptions.UInt32(bootp, 51);
        Span<byte> identifier = stackalloc byte[7];
        ClientIdentifierMac = DhcpOptions.TryFind(bootp, 61, identifier, out var length) && length == 7 && identifier[0] == 1
            ? EthernetHeader.ReadMac(identifier.Slice(1))
            : null;
    }

    /// <summary>A server's reply (BOOTREPLY, from port 67), else a client's request.</summary>
    public bool FromServer { get; }

    /// <summary>chaddr: the client's MAC (Ethernet clients).</summary>
    public ulong ClientMac { get; }

    /// <summary>yiaddr: the address the server gives the client (0 where none).</summary>
    public uint YourAddress { get; }

    /// <summary>xid: the client's transaction the message belongs to.</summary>
    public uint Transaction { get; }

    /// <summary>Option 53, the DHCP message type (0 when absent or not one byte long, as the runtime's client reads it).</summary>
    public byte Type { get; }

    /// <summary>Option 51, the lease time in seconds, if given (0xFFFFFFFF: for ever).</summary>
    public uint? LeaseSeconds { get; }

    /// <summary>Option 61, the client identifier, where it is an Ethernet MAC (type 1, six bytes): servers key the lease on it rather than chaddr (RFC 2131 4.2).</summary>
    public ulong? ClientIdentifierMac { get; }

    /// <summary>
    /// Reads a DHCP message from an IPv4 frame: a UDP datagram (not a fragment) from the client
    /// port to the server port, or the other way, holding a well-formed BOOTP header with the
    /// magic cookie. Options past a truncated one are not read.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> frame, out BootpMessage message)
    {
        message = default;
        if (frame.Length < EthernetHeader.Length || BinaryPrimitives.ReadUInt16BigEndian(frame.Slice(12)) != EtherType.Ipv4
            || !Ipv4Header.TryRead(frame.Slice(EthernetHeader.Length), out var ip) || ip.Protocol != IpProtocol.Udp || ip.IsFragment)
        {
            return false;
        }
        var udp = ip.Payload;
        if (udp.Length < 8) return false;
        var from = BinaryPrimitives.ReadUInt16BigEndian(udp);
        var to = BinaryPrimitives.ReadUInt16BigEndian(udp.Slice(2));
        var reply = from == ServerPort && to == ClientPort;
        if (!reply && !(from == ClientPort && to == ServerPort)) return false;
        var bootp = udp.Slice(8);
        if (bootp.Length < 240 || bootp[0] != (reply ? 2 : 1) || bootp[1] != 1 || bootp[2] != 6
            || BinaryPrimitives.ReadUInt32BigEndian(bootp.Slice(236)) != MagicCookie)
        {
            return false;
        }
        message = new BootpMessage(bootp);
        return true;
    }
}
