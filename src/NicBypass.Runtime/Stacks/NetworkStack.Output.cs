using System.Buffers.Binary;
using NicBypass.Runtime.Packets;

namespace NicBypass.Runtime.Stacks;

// Building and sending frames: Ethernet and IP headers in a per-thread buffer, transport checksums, and the way out through the neighbour cache to the stack's output.
public sealed partial class NetworkStack
{
    /// <summary>This thread's frame-building buffer (a frame is built, sent and forgotten before the next).</summary>
    internal static byte[] Scratch(int length = 0)
    {
        var buffer = t_frame;
        // Grown (once per thread) for a datagram of up to 64 KiB, which leaves in fragments.
        if (buffer is null || buffer.Length < length) t_frame = buffer = new byte[Math.Max(16 * 1024, length)];
        return buffer;
    }

    /// <summary>The address it sends from towards <paramref name="destination"/>: its first of the same family.</summary>
    internal NetworkAddress SourceFor(NetworkAddress destination) =>
        TrySourceFor(destination, out var source) ? source
        : throw new InvalidOperationException($"the stack has no {(destination.IsV6 ? "IPv6" : "IPv4")} address to send to {destination} from");

    // RFC 6724's scope of an IPv6 address: a multicast address's own (ff02:: link-local is 2), fe80::/10 link-local, the rest global.
    private static int Scope(NetworkAddress address) =>
        address.Value >> 120 == 0xFF ? (int)(address.Value >> 112) & 0xF : address.IsLinkLocal ? 2 : 14;

    private bool TrySourceFor(NetworkAddress destination, out NetworkAddress source)
    {
        // The array itself, not the interface: enumerating an IReadOnlyList boxes its enumerator
        // (32 bytes a datagram on the send path).
        // IPv6: of the scope of the destination where it can (RFC 6724 rule 2): a link-local
        // source for a link-local destination, another for the rest.
        var found = false;
        source = default;
        var linkScope = destination.IsV6 && Scope(destination) <= 2;
        foreach (var address in Volatile.Read(ref _addresses))
        {
            if (address.IsV6 != destination.IsV6) continue;
            if (!address.IsV6 || address.IsLinkLocal == linkScope)
            {
                source = address;
                return true;
            }
            if (!found) (source, found) = (address, true);
        }
        return found;
    }

    /// <summary>
    /// Writes the Ethernet (destination MAC left for <see cref="Send"/>) and IP headers of a
    /// packet into this thread's buffer; returns the frame, with <paramref name="payload"/> its
    /// transport part.
    /// </summary>
    internal Span<byte> BuildIp(NetworkAddress source, NetworkAddress destination, byte protocol, int payloadLength, out Span<byte> payload, byte hopLimit = 64, bool dontFragment = true, ReadOnlySpan<byte> options = default)
    {
        // IPv4 options (a multiple of 4 bytes, at most 40) follow the fixed header.
        System.Diagnostics.Debug.Assert(options.IsEmpty || !destination.IsV6 && options.Length % 4 == 0 && options.Length <= 40);
        var headerLength = destination.IsV6 ? 40 : 20 + options.Length;
        // IPv4's total length and IPv6's payload length are 16 bits.
        if (payloadLength > (destination.IsV6 ? 65535 : 65535 - headerLength)) throw new ArgumentOutOfRangeException(nameof(payloadLength), $"{payloadLength} bytes do not fit one IP packet");
        var frame = Scratch(EthernetHeader.Length + headerLength + payloadLength).AsSpan(0, EthernetHeader.Length + headerLength + payloadLength);
        EthernetHeader.WriteMac(frame.Slice(6), Mac);
        BinaryPrimitives.WriteUInt16BigEndian(frame.Slice(12), destination.IsV6 ? EtherType.Ipv6 : EtherType.Ipv4);
        var ip = frame.Slice(EthernetHeader.Length, headerLength);
        ip.Clear();
        if (destination.IsV6)
        {
            ip[0] = 0x60;
            BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(4), (ushort)payloadLength);
            ip[6] = protocol;
            ip[7] = hopLimit;
            source.Write(ip.Slice(8));
            destination.Write(ip.Slice(24));
        }
        else
        {
            ip[0] = (byte)(0x40 | headerLength / 4);
            BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(2), (ushort)(headerLength + payloadLength));
            BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(4), (ushort)Interlocked.Increment(ref _ipId));
            if (dontFragment) ip[6] = 0x40;
            ip[8] = hopLimit;
            ip[9] = protocol;
            source.Write(ip.Slice(12));
            destination.Write(ip.Slice(16));
            options.CopyTo(ip.Slice(20));
            BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(10), InternetChecksum.Compute(ip));
        }
        payload = frame.Slice(EthernetHeader.Length + headerLength);
        return frame;
    }

    /// <summary>Fills in the transport checksum at <paramref name="checksumOffset"/> of the payload, over the pseudo-header.</summary>
    internal static void SealTransport(Span<byte> frame, int checksumOffset) => SealTransport(frame, checksumOffset, int.MaxValue, 0);

    /// <summary>
    /// <see cref="SealTransport(Span{byte}, int)"/> for a segment whose bytes after its first
    /// <paramref name="summedFrom"/> (even) were summed as they were copied in: their sum is
    /// <paramref name="sumAfter"/>, and only the bytes before are read (all of them, for a
    /// <paramref name="summedFrom"/> past the segment's end).
    /// </summary>
    internal static void SealTransport(Span<byte> frame, int checksumOffset, int summedFrom, uint sumAfter)
    {
        var ip = frame.Slice(EthernetHeader.Length);
        var v6 = ip[0] >> 4 == 6;
        var segment = v6 ? ip.Slice(40) : ip.Slice((ip[0] & 0x0F) * 4);
        BinaryPrimitives.WriteUInt16BigEndian(segment.Slice(checksumOffset), 0);
        var pseudo = v6
            ? InternetChecksum.PseudoHeaderSum(ip.Slice(8, 16), ip.Slice(24, 16), ip[6], segment.Length)
            : InternetChecksum.PseudoHeaderSum(ip.Slice(12, 4), ip.Slice(16, 4), ip[9], segment.Length);
        var checksum = InternetChecksum.Finish(InternetChecksum.Combine(InternetChecksum.Add(pseudo, segment.Slice(0, Math.Min(summedFrom, segment.Length))), sumAfter));
        // UDP sends a computed zero as all ones (zero means "no checksum").
        BinaryPrimitives.WriteUInt16BigEndian(segment.Slice(checksumOffset), checksum == 0 ? (ushort)0xFFFF : checksum);
    }

    /// <summary>
    /// Sends a built IP frame for <paramref name="destination"/> to its next hop (the destination
    /// itself, or the router when it is off-link: <see cref="NextHop"/>): fills in the next hop's
    /// MAC from the neighbour cache, or parks the frame and solicits the MAC (ARP / neighbour
    /// solicitation).
    /// </summary>
    internal SendStatus Send(Span<byte> frame, NetworkAddress destination, bool reply = false) => _neighbors.Send(frame, NextHop(destination), reply);

    /// <summary>A frame to a group (or the limited broadcast): to its MAC (<see cref="Classification.GroupAddress.Of(NetworkAddress)"/>), nothing to resolve.</summary>
    internal SendStatus SendToGroup(Span<byte> frame, NetworkAddress group, bool reply)
    {
        EthernetHeader.WriteMac(frame, Classification.GroupAddress.Of(group));
        return Transmit(frame, reply);
    }

    /// <summary>A frame to a subnet's broadcast address: to the link's broadcast MAC.</summary>
    internal SendStatus SendToBroadcast(Span<byte> frame, bool reply)
    {
        EthernetHeader.WriteMac(frame, Classification.GroupAddress.Broadcast);
        return Transmit(frame, reply);
    }

    /// <summary>Hands a finished frame to the output (an IP packet longer than the link's MTU, or than its destination's path MTU if it is not TCP, in fragments; one to an IPv4 path below 552 bytes without don't-fragment) and counts it as sent, or dropped with the output's reason.</summary>
    internal SendStatus Transmit(ReadOnlySpan<byte> frame, bool reply)
    {
        if (frame.Length <= EthernetHeader.Length + Mtu && _pathMtus.Count == 0
            || BinaryPrimitives.ReadUInt16BigEndian(frame.Slice(12)) is not (EtherType.Ipv4 or EtherType.Ipv6)) return TransmitFrame(frame, reply);
        var (mtu, locked) = MtuFor(frame);
        if (frame.Length > EthernetHeader.Length + mtu) return TransmitFragments(frame, mtu, reply);
        return locked && (frame[EthernetHeader.Length + 6] & 0x40) != 0 ? TransmitFragmentable(frame, reply) : TransmitFrame(frame, reply);
    }

    private SendStatus TransmitFrame(ReadOnlySpan<byte> frame, bool reply)
    {
        var status = _output.Send(frame);
        switch (status)
        {
            case SendStatus.Sent or SendStatus.Queued:
                StackCounters.AddShared(ref Counters._sent);
                break;
            case SendStatus.Blocked when reply:
                Counters.DropSend(StackDropReason.OutputBlocked);
                break;
            default:
                if (StackDropReasons.Of(status) is { } reason) Counters.DropSend(reason);
                break;
        }
        return status;
    }

    private bool SendReply(ReadOnlySpan<byte> frame) => Transmit(frame, reply: true) is SendStatus.Sent or SendStatus.Queued;

    /// <summary>Sends an ICMP (or ICMPv6) echo request; replies are counted in <see cref="StackCounters.EchoRepliesReceived"/>.</summary>
    public SendStatus SendEchoRequest(NetworkAddress destination, ushort identifier, ushort sequence, int payloadLength = 32)
    {
        var source = SourceFor(destination);
        var frame = BuildIp(source, destination, destination.IsV6 ? IpProtocol.IcmpV6 : IpProtocol.Icmp, 8 + payloadLength, out var icmp);
        icmp.Clear();
        icmp[0] = destination.IsV6 ? (byte)128 : (byte)8;
        BinaryPrimitives.WriteUInt16BigEndian(icmp.Slice(4), identifier);
        BinaryPrimitives.WriteUInt16BigEndian(icmp.Slice(6), sequence);
        for (var i = 0; i < payloadLength; i++) icmp[8 + i] = (byte)i;
        if (destination.IsV6) SealTransport(frame, 2);
        else BinaryPrimitives.WriteUInt16BigEndian(icmp.Slice(2), InternetChecksum.Compute(icmp));
        return Send(frame, destination);
    }
}
