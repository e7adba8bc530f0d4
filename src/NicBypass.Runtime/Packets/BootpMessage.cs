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
        ReadOptions(bootp.Slice(240), out var type, out var lease, out var identifier);
        Type = type;
        LeaseSeconds = lease;
        ClientIdentifierMac = identifier;
    }

    /// <summary>A server's reply (BOOTREPLY, from port 67), else a client's request.</summary>
    public bool FromServer { get; }

    /// <summary>chaddr: the client's MAC (Ethernet clients).</summary>
    public ulong ClientMac { get; }

    /// <summary>yiaddr: the address the server gives the client (0 where none).</summary>
    public uint YourAddress { get; }

    /// <summary>xid: the client's transaction the message belongs to.</summary>
    public uint Transaction { get; }

    /// <summary>Option 53, the DHCP message type (0 when absent; the last one counts, as the runtime's client reads it).</summary>
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

    private static void ReadOptions(ReadOnlySpan<byte> options, out byte type, out uint? lease, out ulong? identifier)
    {
        type = 0;
        lease = null;
        identifier = null;
        for (var i = 0; i < options.Length;)
        {
            var code = options[i];
            if (code == 255) break;
            if (code == 0)
            {
                i++;
                continue;
            }
            if (i + 1 >= options.Length || i + 2 + options[i + 1] > options.Length) break;
            if (code == 53 && options[i + 1] == 1) type = options[i + 2];
            else if (code == 51 && options[i + 1] == 4) lease = BinaryPrimitives.ReadUInt32BigEndian(options.Slice(i + 2));
            else if (code == 61 && options[i + 1] == 7 && options[i + 2] == 1) identifier = EthernetHeader.ReadMac(options.Slice(i + 3));
            i += 2 + options[i + 1];
        }
    }
}
