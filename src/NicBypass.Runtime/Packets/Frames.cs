using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace NicBypass.Runtime.Packets;

/// <summary>
/// Ready-made frames for tests (README.md § Use it in a project): ARP requests and replies, ICMP
/// echo requests, UDP datagrams, TCP segments (a SYN, or any flags, sequence numbers and payload),
/// IPv6 neighbour solicitations and advertisements — IPv4 or IPv6 as the addresses say, with
/// correct checksums and an optional 802.1Q tag (or <see cref="Tag"/> to add one to any frame). Every builder takes MACs and addresses as text (<c>"02:00:00:00:00:01"</c>,
/// <c>"10.0.0.1"</c>, <c>"10.0.0.1:5000"</c>, <c>"[fd00::1]:5000"</c>) or typed
/// (<see cref="ulong"/> MACs as 48-bit integers, <see cref="IPAddress"/>, <see cref="IPEndPoint"/>).
/// Frames are padded to Ethernet's 60-byte minimum.
/// </summary>
public static class Frames
{
    /// <summary>An ARP request broadcast from <paramref name="senderMac"/>/<paramref name="senderIp"/>: who has <paramref name="targetIp"/>?</summary>
    public static byte[] ArpRequest(string senderMac, string senderIp, string targetIp, int vlan = 0) =>
        ArpRequest(Mac(senderMac), IPAddress.Parse(senderIp), IPAddress.Parse(targetIp), vlan);

    /// <inheritdoc cref="ArpRequest(string, string, string, int)"/>
    public static byte[] ArpRequest(ulong senderMac, IPAddress senderIp, IPAddress targetIp, int vlan = 0)
    {
        return Ethernet(senderMac, Broadcast, EtherType.Arp, Arp(1, senderMac, senderIp, targetIp), vlan);
    }

    // An ARP message for Ethernet and IPv4 (the target MAC left zero).
    private static byte[] Arp(ushort operation, ulong senderMac, IPAddress senderIp, IPAddress targetIp)
    {
        if (senderIp.AddressFamily != AddressFamily.InterNetwork || targetIp.AddressFamily != AddressFamily.InterNetwork)
        {
            throw new ArgumentException("ARP resolves IPv4 addresses; IPv6 uses neighbour discovery");
        }
        var arp = new byte[28];
        BinaryPrimitives.WriteUInt16BigEndian(arp, 1);            // Ethernet
        BinaryPrimitives.WriteUInt16BigEndian(arp.AsSpan(2), EtherType.Ipv4);
        arp[4] = 6;
        arp[5] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(arp.AsSpan(6), operation);
        EthernetHeader.WriteMac(arp.AsSpan(8), senderMac);
        senderIp.TryWriteBytes(arp.AsSpan(14), out _);
        targetIp.TryWriteBytes(arp.AsSpan(24), out _);
        return arp;
    }

    /// <summary>An ICMP (IPv4) or ICMPv6 echo request with <paramref name="id"/>, <paramref name="sequence"/> and <paramref name="dataLength"/> bytes of data (32 by default).</summary>
    public static byte[] EchoRequest(string srcMac, string dstMac, string srcIp, string dstIp, ushort id = 1, ushort sequence = 1, int vlan = 0, int dataLength = 32) =>
        EchoRequest(Mac(srcMac), Mac(dstMac), IPAddress.Parse(srcIp), IPAddress.Parse(dstIp), id, sequence, vlan, dataLength);

    /// <inheritdoc cref="EchoRequest(string, string, string, string, ushort, ushort, int, int)"/>
    public static byte[] EchoRequest(ulong srcMac, ulong dstMac, IPAddress srcIp, IPAddress dstIp, ushort id = 1, ushort sequence = 1, int vlan = 0, int dataLength = 32)
    {
        var v6 = SameFamily(srcIp, dstIp);
        ArgumentOutOfRangeException.ThrowIfNegative(dataLength);
        var icmp = new byte[8 + dataLength];
        icmp[0] = v6 ? (byte)128 : (byte)8;
        BinaryPrimitives.WriteUInt16BigEndian(icmp.AsSpan(4), id);
        BinaryPrimitives.WriteUInt16BigEndian(icmp.AsSpan(6), sequence);
        for (var i = 8; i < icmp.Length; i++) icmp[i] = (byte)i;
        var protocol = v6 ? IpProtocol.IcmpV6 : IpProtocol.Icmp;
        return Ethernet(srcMac, dstMac, v6 ? EtherType.Ipv6 : EtherType.Ipv4, Ip(srcIp, dstIp, protocol, icmp, checksumAt: 2, pseudoHeader: v6), vlan);
    }

    /// <summary>A UDP datagram from <paramref name="source"/> to <paramref name="destination"/> (<c>"10.0.0.1:5000"</c>, <c>"[fd00::1]:5000"</c>).</summary>
    public static byte[] Udp(string srcMac, string dstMac, string source, string destination, ReadOnlySpan<byte> payload, int vlan = 0) =>
        Udp(Mac(srcMac), Mac(dstMac), Endpoint(source), Endpoint(destination), payload, vlan);

    /// <inheritdoc cref="Udp(string, string, string, string, ReadOnlySpan{byte}, int)"/>
    public static byte[] Udp(ulong srcMac, ulong dstMac, IPEndPoint source, IPEndPoint destination, ReadOnlySpan<byte> payload, int vlan = 0)
    {
        var v6 = SameFamily(source.Address, destination.Address);
        var udp = new byte[8 + payload.Length];
        BinaryPrimitives.WriteUInt16BigEndian(udp, (ushort)source.Port);
        BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(2), (ushort)destination.Port);
        BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(4), checked((ushort)udp.Length));
        payload.CopyTo(udp.AsSpan(8));
        return Ethernet(srcMac, dstMac, v6 ? EtherType.Ipv6 : EtherType.Ipv4, Ip(source.Address, destination.Address, IpProtocol.Udp, udp, checksumAt: 6, pseudoHeader: true), vlan);
    }

    /// <summary>A TCP SYN from <paramref name="source"/> to <paramref name="destination"/> (initial sequence number <paramref name="sequence"/>, window 65,535, MSS 1460).</summary>
    public static byte[] TcpSyn(string srcMac, string dstMac, string source, string destination, uint sequence = 1000, int vlan = 0) =>
        TcpSyn(Mac(srcMac), Mac(dstMac), Endpoint(source), Endpoint(destination), sequence, vlan);

    /// <inheritdoc cref="TcpSyn(string, string, string, string, uint, int)"/>
    public static byte[] TcpSyn(ulong srcMac, ulong dstMac, IPEndPoint source, IPEndPoint destination, uint sequence = 1000, int vlan = 0)
    {
        var v6 = SameFamily(source.Address, destination.Address);
        var tcp = new byte[24];
        BinaryPrimitives.WriteUInt16BigEndian(tcp, (ushort)source.Port);
        BinaryPrimitives.WriteUInt16BigEndian(tcp.AsSpan(2), (ushort)destination.Port);
        BinaryPrimitives.WriteUInt32BigEndian(tcp.AsSpan(4), sequence);
        tcp[12] = 6 << 4;  // 24-byte header
        tcp[13] = 0x02;    // SYN
        BinaryPrimitives.WriteUInt16BigEndian(tcp.AsSpan(14), 65535);
        tcp[20] = 2;       // MSS option
        tcp[21] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(tcp.AsSpan(22), 1460);
        return Ethernet(srcMac, dstMac, v6 ? EtherType.Ipv6 : EtherType.Ipv4, Ip(source.Address, destination.Address, IpProtocol.Tcp, tcp, checksumAt: 16, pseudoHeader: true), vlan);
    }

    /// <summary>
    /// A TCP segment with any <paramref name="flags"/>, sequence and acknowledgment numbers and
    /// payload (window <paramref name="window"/>, and <paramref name="options"/> as written —
    /// padded with end-of-options to a whole number of 32-bit words — after the 20-byte header):
    /// a data segment, an ACK, a RST, a FIN — or a forged one.
    /// </summary>
    public static byte[] Tcp(string srcMac, string dstMac, string source, string destination, TcpSegmentFlags flags, uint sequence = 1000, uint acknowledgment = 0, byte[]? payload = null, int vlan = 0, ushort window = 65535, byte[]? options = null) =>
        Tcp(Mac(srcMac), Mac(dstMac), Endpoint(source), Endpoint(destination), flags, sequence, acknowledgment, payload, vlan, window, options);

    /// <inheritdoc cref="Tcp(string, string, string, string, TcpSegmentFlags, uint, uint, byte[], int, ushort, byte[])"/>
    public static byte[] Tcp(ulong srcMac, ulong dstMac, IPEndPoint source, IPEndPoint destination, TcpSegmentFlags flags, uint sequence = 1000, uint acknowledgment = 0, byte[]? payload = null, int vlan = 0, ushort window = 65535, byte[]? options = null)
    {
        var v6 = SameFamily(source.Address, destination.Address);
        var data = payload ?? Array.Empty<byte>();
        var optionsLength = ((options?.Length ?? 0) + 3) / 4 * 4;
        if (optionsLength > 40) throw new ArgumentException("a TCP header holds at most 40 bytes of options", nameof(options));
        var header = 20 + optionsLength;
        var tcp = new byte[header + data.Length];
        BinaryPrimitives.WriteUInt16BigEndian(tcp, (ushort)source.Port);
        BinaryPrimitives.WriteUInt16BigEndian(tcp.AsSpan(2), (ushort)destination.Port);
        BinaryPrimitives.WriteUInt32BigEndian(tcp.AsSpan(4), sequence);
        BinaryPrimitives.WriteUInt32BigEndian(tcp.AsSpan(8), acknowledgment);
        tcp[12] = (byte)(header / 4 << 4);
        tcp[13] = (byte)flags;
        BinaryPrimitives.WriteUInt16BigEndian(tcp.AsSpan(14), window);
        options?.CopyTo(tcp.AsSpan(20)); // the padding is zeros: end of options
        data.CopyTo(tcp.AsSpan(header));
        return Ethernet(srcMac, dstMac, v6 ? EtherType.Ipv6 : EtherType.Ipv4, Ip(source.Address, destination.Address, IpProtocol.Tcp, tcp, checksumAt: 16, pseudoHeader: true), vlan);
    }

    /// <summary>An ARP reply from <paramref name="senderMac"/> to <paramref name="targetMac"/>: <paramref name="senderIp"/> is at <paramref name="senderMac"/>.</summary>
    public static byte[] ArpReply(string senderMac, string senderIp, string targetMac, string targetIp, int vlan = 0) =>
        ArpReply(Mac(senderMac), IPAddress.Parse(senderIp), Mac(targetMac), IPAddress.Parse(targetIp), vlan);

    /// <inheritdoc cref="ArpReply(string, string, string, string, int)"/>
    public static byte[] ArpReply(ulong senderMac, IPAddress senderIp, ulong targetMac, IPAddress targetIp, int vlan = 0)
    {
        var arp = Arp(2, senderMac, senderIp, targetIp);
        EthernetHeader.WriteMac(arp.AsSpan(18), targetMac);
        return Ethernet(senderMac, targetMac, EtherType.Arp, arp, vlan);
    }

    /// <summary>
    /// An IPv6 neighbour solicitation from <paramref name="srcMac"/>/<paramref name="srcIp"/>: who has
    /// <paramref name="targetIp"/>? Sent to the target's solicited-node group (ff02::1:ffXX:XXXX, MAC
    /// 33:33:ff:XX:XX:XX) with hop limit 255 and the sender's link-layer address option.
    /// </summary>
    public static byte[] NeighborSolicitation(string srcMac, string srcIp, string targetIp, int vlan = 0) =>
        NeighborSolicitation(Mac(srcMac), IPAddress.Parse(srcIp), IPAddress.Parse(targetIp), vlan);

    /// <inheritdoc cref="NeighborSolicitation(string, string, string, int)"/>
    public static byte[] NeighborSolicitation(ulong srcMac, IPAddress srcIp, IPAddress targetIp, int vlan = 0)
    {
        Span<byte> target = stackalloc byte[16];
        if (!SameFamily(srcIp, targetIp) || !targetIp.TryWriteBytes(target, out _)) throw new ArgumentException("neighbour discovery resolves IPv6 addresses; IPv4 uses ARP");
        var group = new IPAddress([0xFF, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xFF, target[13], target[14], target[15]]);
        var groupMac = 0x3333_FF00_0000UL | ((ulong)target[13] << 16) | ((ulong)target[14] << 8) | target[15];
        var icmp = new byte[32];
        icmp[0] = 135;
        target.CopyTo(icmp.AsSpan(8));
        icmp[24] = 1; // source link-layer address option, 8 bytes
        icmp[25] = 1;
        EthernetHeader.WriteMac(icmp.AsSpan(26), srcMac);
        return Ethernet(srcMac, groupMac, EtherType.Ipv6, Ip(srcIp, group, IpProtocol.IcmpV6, icmp, checksumAt: 2, pseudoHeader: true, hopLimit: 255), vlan);
    }

    /// <summary>
    /// An IPv6 neighbour advertisement from <paramref name="srcMac"/>/<paramref name="srcIp"/> to
    /// <paramref name="dstMac"/>/<paramref name="dstIp"/>: <paramref name="targetIp"/> is at
    /// <paramref name="targetMac"/> (override flag set; solicited flag as told). Hop limit 255
    /// unless told otherwise — a receiver must refuse any other (RFC 4861 7.1.2).
    /// </summary>
    public static byte[] NeighborAdvertisement(string srcMac, string dstMac, string srcIp, string dstIp, string targetIp, string targetMac, bool solicited, int hopLimit = 255, int vlan = 0) =>
        NeighborAdvertisement(Mac(srcMac), Mac(dstMac), IPAddress.Parse(srcIp), IPAddress.Parse(dstIp), IPAddress.Parse(targetIp), Mac(targetMac), solicited, hopLimit, vlan);

    /// <inheritdoc cref="NeighborAdvertisement(string, string, string, string, string, string, bool, int, int)"/>
    public static byte[] NeighborAdvertisement(ulong srcMac, ulong dstMac, IPAddress srcIp, IPAddress dstIp, IPAddress targetIp, ulong targetMac, bool solicited, int hopLimit = 255, int vlan = 0)
    {
        if (!SameFamily(srcIp, dstIp) || targetIp.AddressFamily != AddressFamily.InterNetworkV6) throw new ArgumentException("neighbour discovery resolves IPv6 addresses; IPv4 uses ARP");
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)hopLimit, 255u, nameof(hopLimit));
        var icmp = new byte[32];
        icmp[0] = 136;
        icmp[4] = (byte)((solicited ? 0x40 : 0) | 0x20); // S, O
        targetIp.TryWriteBytes(icmp.AsSpan(8), out _);
        icmp[24] = 2; // target link-layer address option, 8 bytes
        icmp[25] = 1;
        EthernetHeader.WriteMac(icmp.AsSpan(26), targetMac);
        return Ethernet(srcMac, dstMac, EtherType.Ipv6, Ip(srcIp, dstIp, IpProtocol.IcmpV6, icmp, checksumAt: 2, pseudoHeader: true, hopLimit: (byte)hopLimit), vlan);
    }

    /// <summary>
    /// <paramref name="frame"/> with an 802.1Q tag for <paramref name="vlan"/> inserted after its
    /// MACs (a tag already there stays inside: that makes a double tag). A new array; the frame is
    /// not changed.
    /// </summary>
    public static byte[] Tag(ReadOnlySpan<byte> frame, int vlan)
    {
        if (frame.Length < 12) throw new ArgumentException("a frame holds at least its two MACs (12 bytes)", nameof(frame));
        if (vlan is < 0 or > 4095) throw new ArgumentOutOfRangeException(nameof(vlan), vlan, "a VLAN id is 0..4095 (0: a priority tag)");
        var tagged = new byte[frame.Length + EthernetHeader.TagLength];
        frame.Slice(0, 12).CopyTo(tagged);
        BinaryPrimitives.WriteUInt16BigEndian(tagged.AsSpan(12), EthernetHeader.Vlan8021Q);
        BinaryPrimitives.WriteUInt16BigEndian(tagged.AsSpan(14), (ushort)vlan);
        frame.Slice(12).CopyTo(tagged.AsSpan(16));
        return tagged;
    }

    /// <summary>
    /// <paramref name="frame"/> (an untagged IPv4 one, without options) with IPv4
    /// <paramref name="options"/> after its fixed header (RFC 791 3.1), padded with end-of-options
    /// to a multiple of 4 bytes: header length, total length and header checksum made right
    /// again. A new array; the frame is not changed.
    /// </summary>
    public static byte[] WithIpv4Options(ReadOnlySpan<byte> frame, ReadOnlySpan<byte> options)
    {
        const int ip = EthernetHeader.Length, header = ip + Ipv4Header.MinLength;
        if (frame.Length < header || BinaryPrimitives.ReadUInt16BigEndian(frame.Slice(12)) != EtherType.Ipv4 || frame[ip] != 0x45)
            throw new ArgumentException("an untagged IPv4 frame with a 20-byte header", nameof(frame));
        var padded = (options.Length + 3) & ~3;
        if (padded > 40) throw new ArgumentOutOfRangeException(nameof(options), options.Length, "IPv4 options take at most 40 bytes");
        var result = new byte[frame.Length + padded];
        frame.Slice(0, header).CopyTo(result);
        options.CopyTo(result.AsSpan(header));
        frame.Slice(header).CopyTo(result.AsSpan(header + padded));
        result[ip] = (byte)(0x40 | (Ipv4Header.MinLength + padded) / 4);
        BinaryPrimitives.WriteUInt16BigEndian(result.AsSpan(ip + 2), (ushort)(BinaryPrimitives.ReadUInt16BigEndian(frame.Slice(ip + 2)) + padded));
        BinaryPrimitives.WriteUInt16BigEndian(result.AsSpan(ip + 10), 0);
        BinaryPrimitives.WriteUInt16BigEndian(result.AsSpan(ip + 10), InternetChecksum.Compute(result.AsSpan(ip, Ipv4Header.MinLength + padded)));
        return result;
    }

    /// <summary>A MAC written <c>02:00:00:00:00:01</c> (or with <c>-</c>) as a 48-bit integer.</summary>
    public static ulong Mac(string text)
    {
        var parts = text.Split(':', '-');
        if (parts.Length != 6) throw new FormatException($"'{text}' is not a MAC address (six hexadecimal bytes, e.g. 02:00:00:00:00:01)");
        ulong mac = 0;
        foreach (var part in parts)
        {
            if (part.Length is < 1 or > 2 || !byte.TryParse(part, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var value))
            {
                throw new FormatException($"'{text}' is not a MAC address (six hexadecimal bytes, e.g. 02:00:00:00:00:01)");
            }
            mac = (mac << 8) | value;
        }
        return mac;
    }

    private const ulong Broadcast = 0xFFFF_FFFF_FFFFUL;

    private static IPEndPoint Endpoint(string text) =>
        IPEndPoint.TryParse(text, out var endpoint) && endpoint.Port != 0
            ? endpoint
            : throw new FormatException($"'{text}' is not an address and port (e.g. 10.0.0.1:5000 or [fd00::1]:5000)");

    private static bool SameFamily(IPAddress source, IPAddress destination)
    {
        if (source.AddressFamily != destination.AddressFamily) throw new ArgumentException($"{source} and {destination} are not of one address family");
        return source.AddressFamily == AddressFamily.InterNetworkV6;
    }

    // The IP header around `payload`, whose checksum (at `checksumAt`) is filled in: over the
    // pseudo-header for UDP, TCP and ICMPv6, over the message alone for ICMP.
    private static byte[] Ip(IPAddress source, IPAddress destination, byte protocol, byte[] payload, int checksumAt, bool pseudoHeader, byte hopLimit = 64)
    {
        Span<byte> src = stackalloc byte[16];
        Span<byte> dst = stackalloc byte[16];
        source.TryWriteBytes(src, out var length);
        destination.TryWriteBytes(dst, out _);
        if (length == 16)
        {
            var v6 = new byte[Ipv6Header.Length + payload.Length];
            v6[0] = 0x60;
            BinaryPrimitives.WriteUInt16BigEndian(v6.AsSpan(4), checked((ushort)payload.Length));
            v6[6] = protocol;
            v6[7] = hopLimit;
            src.CopyTo(v6.AsSpan(8));
            dst.CopyTo(v6.AsSpan(24));
            var checksum = InternetChecksum.ComputeV6(src, dst, protocol, payload);
            BinaryPrimitives.WriteUInt16BigEndian(payload.AsSpan(checksumAt), protocol == IpProtocol.Udp && checksum == 0 ? (ushort)0xFFFF : checksum);
            payload.CopyTo(v6.AsSpan(Ipv6Header.Length));
            return v6;
        }
        var v4 = new byte[Ipv4Header.MinLength + payload.Length];
        v4[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(v4.AsSpan(2), checked((ushort)v4.Length));
        v4[8] = hopLimit;
        v4[9] = protocol;
        src.Slice(0, 4).CopyTo(v4.AsSpan(12));
        dst.Slice(0, 4).CopyTo(v4.AsSpan(16));
        BinaryPrimitives.WriteUInt16BigEndian(v4.AsSpan(10), InternetChecksum.Compute(v4.AsSpan(0, Ipv4Header.MinLength)));
        var sum = pseudoHeader ? InternetChecksum.ComputeV4(src.Slice(0, 4), dst.Slice(0, 4), protocol, payload) : InternetChecksum.Compute(payload);
        BinaryPrimitives.WriteUInt16BigEndian(payload.AsSpan(checksumAt), protocol == IpProtocol.Udp && sum == 0 ? (ushort)0xFFFF : sum);
        payload.CopyTo(v4.AsSpan(Ipv4Header.MinLength));
        return v4;
    }

    private static byte[] Ethernet(ulong source, ulong destination, ushort etherType, ReadOnlySpan<byte> payload, int vlan)
    {
        if (vlan is < 0 or > 4094) throw new ArgumentOutOfRangeException(nameof(vlan), vlan, "a VLAN id is 1..4094 (0: untagged)");
        var header = vlan == 0 ? EthernetHeader.Length : EthernetHeader.Length + EthernetHeader.TagLength;
        var frame = new byte[Math.Max(60, header + payload.Length)];
        EthernetHeader.WriteMac(frame, destination);
        EthernetHeader.WriteMac(frame.AsSpan(6), source);
        if (vlan != 0)
        {
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), EthernetHeader.Vlan8021Q);
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(14), (ushort)vlan);
        }
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(header - 2), etherType);
        payload.CopyTo(frame.AsSpan(header));
        return frame;
    }
}
