using System.Buffers.Binary;
using NicBypass.Runtime.Packets;

namespace NicBypass.Runtime.Stacks;

// IPv4 (RFC 791) input: header checks, then ICMP echo or the transport layers (fragments through the reassembly first).
public sealed partial class NetworkStack
{
    private void ReceiveIpv4(ReadOnlySpan<byte> frame, bool sealedByStack = false)
    {
        if (!Ipv4Header.TryRead(frame.Slice(EthernetHeader.Length), out var ip) || !ip.HeaderChecksumValid)
        {
            Counters.Drop(StackDropReason.Malformed);
            return;
        }
        var destination = NetworkAddress.Read(ip.Destination);
        if (_dhcp is not null && IsDhcpAnswer(ip))
        {
            ReceiveDhcp(frame, ip);
            return;
        }
        // A group of ours: joined, or the limited broadcast or one of its subnets' (RFC 1122 3.3.6:
        // a host takes a datagram to them; one to 10.0.0.255 for a 10.0.0.1/24 was not-for-us).
        var joined = !Owns(destination) && (IsBroadcastV4(destination) || Joined(destination));
        if (!joined && !Owns(destination) || joined && ip.Protocol != IpProtocol.Udp)
        {
            // Not ours, or a group of ours carrying anything but UDP (nothing here answers a group over TCP or ICMP).
            Counters.Drop(StackDropReason.NotForUs);
            return;
        }
        if (ip.HeaderLength > Ipv4Header.MinLength && OptionsRefused(ip.Packet.Slice(Ipv4Header.MinLength, ip.HeaderLength - Ipv4Header.MinLength), out var fault) is { } refused)
        {
            Counters.Drop(refused);
            // Options at fault: a Parameter Problem pointing at the byte, to a sender that can be
            // answered — never about a group's packet, a fragment past the first or an ICMP error
            // (RFC 1122 3.2.2, as Linux's __icmp_send).
            var sender = NetworkAddress.Read(ip.Source);
            if (fault >= 0 && !joined && !LinkGroup(frame) && IsValidSourceV4((uint)sender.Value) && !Owns(sender) && !IsSubnetBroadcast(sender)
                && ip.FragmentOffset == 0 && !IsIcmpError(ip))
                SendParameterProblemV4(ip.Packet, sender, destination, Ipv4Header.MinLength + fault);
            return;
        }
        if (ip.TimeToLive == 0)
        {
            Counters.Drop(StackDropReason.TtlExpired);
            return;
        }
        var source = NetworkAddress.Read(ip.Source);
        if (!IsValidSourceV4((uint)source.Value) || Owns(source) || IsSubnetBroadcast(source))
        {
            // Broadcast (limited or of one of its subnets), multicast, unspecified or class E, or
            // ours (a LAND attack): no sender has that address, so nothing is learned from it and
            // nothing answers it.
            Counters.Drop(StackDropReason.InvalidSource);
            return;
        }
        Glean(source, frame);
        if (ip.IsFragment)
        {
            // In a VNS, fragments wait in the inbound VSQ one by one and are reassembled in the
            // transport half: whatever the datagram turns out to be, it is processed there.
            if (TransportEntry is { } waiting && !waiting.Submit(frame)) return;
            ReceiveFragment(frame);
            return;
        }
        switch (ip.Protocol)
        {
            case IpProtocol.Icmp: ReceiveIcmpV4(frame, ip.Payload, source, destination); break;
            case IpProtocol.Udp or IpProtocol.Tcp when TransportEntry is { } entry && !entry.Submit(frame): break; // waits in the VSQ
            case IpProtocol.Udp: ReceiveUdp(ip.Packet, ip.Payload, source, destination, ToGroup(frame, destination), sealedByStack); break;
            case IpProtocol.Tcp: ReceiveTcp(ip.Packet, ip.Payload, source, destination, ToGroup(frame, destination), sealedByStack); break;
            default: Counters.Drop(StackDropReason.Unsupported); break;
        }
    }

    // An answer to its DHCP client — broadcast, or to an address not yet its own: the client (its
    // transaction, its MAC) decides. Apart from ReceiveIpv4, which every frame runs through.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private void ReceiveDhcp(ReadOnlySpan<byte> frame, in Ipv4Header ip)
    {
        var server = NetworkAddress.Read(ip.Source);
        var udp = ip.Payload.Slice(0, BinaryPrimitives.ReadUInt16BigEndian(ip.Payload.Slice(4)));
        if (ip.TimeToLive == 0) Counters.Drop(StackDropReason.TtlExpired);
        else if (!IsValidSourceV4((uint)server.Value) || Owns(server) || IsSubnetBroadcast(server)) Counters.Drop(StackDropReason.InvalidSource);
        else if (!ChecksumValid(ip.Packet, udp, IpProtocol.Udp, allowZero: true, sealedByStack: false)) Counters.Drop(StackDropReason.Malformed);
        else if (!Volatile.Read(ref _dhcp)!.Receive(udp.Slice(8), server)) Counters.Drop(StackDropReason.NotForUs);
        else
        {
            Counters.Add(ref Counters._delivered);
            _neighbors.Glean(server, EthernetHeader.ReadMac(frame.Slice(6))); // the server's MAC, even from its broadcast answer: the client renews to it by unicast
        }
    }

    // A whole UDP datagram from a DHCP server's port to a client's.
    private static bool IsDhcpAnswer(in Ipv4Header ip) =>
        ip.Protocol == IpProtocol.Udp && !ip.IsFragment && ip.Payload.Length >= 8
        && BinaryPrimitives.ReadUInt16BigEndian(ip.Payload) == DhcpClient.ServerPort
        && BinaryPrimitives.ReadUInt16BigEndian(ip.Payload.Slice(2)) == DhcpClient.ClientPort
        && BinaryPrimitives.ReadUInt16BigEndian(ip.Payload.Slice(4)) is >= 8 and var length && length <= ip.Payload.Length;

    // RFC 1122 3.2.1.3: 0.0.0.0, 255.255.255.255, 224.0.0.0/4 (multicast) and 240.0.0.0/4 (class E) are never a sender's address.
    // Not 0/8 ("this network": only an address being configured, 0.0.0.0, says it), loopback,
    // multicast or class E (RFC 1122 3.2.1.3, as Linux's martian check).
    private static bool IsValidSourceV4(uint source) => source >> 24 is not (0 or 127) && source >> 28 is not (0xE or 0xF);

    // The frame came to a link-layer group address (broadcast or multicast): RFC 1122 3.2.2 and
    // 4.2.3.10 forbid answering it with an ICMP error or a RST (a smurf or fraggle amplifier).
    private static bool LinkGroup(ReadOnlySpan<byte> frame) => (frame[0] & 1) != 0;

    // Addressed to a group by the link layer, or by IPv4's broadcast addresses (in a unicast frame
    // too): nothing answers it — no echo, no ICMP error, no RST (an echo would go from a broadcast
    // address).
    // (Its own address first: for the usual unicast packet that is the one look, not a scan of the subnets.)
    // A datagram to a group — by its frame, or by its IP destination (a multicast group or a
    // broadcast address, in a unicast frame too) — gets no port unreachable and no echo, and is
    // never answered from the group's address (RFC 1122 3.2.2, RFC 4443 2.4(e.3); a unicast frame
    // to a joined group was answered from it, on every path but the direct IPv4 one: found by review).
    private bool ToGroup(ReadOnlySpan<byte> frame, NetworkAddress destination) =>
        LinkGroup(frame) || destination.IsGroup || !Owns(destination) && IsBroadcastV4(destination);

    // The limited broadcast, or the broadcast address of one of its IPv4 subnets.
    private bool IsBroadcastV4(NetworkAddress address) => !address.IsV6 && ((uint)address.Value == 0xFFFF_FFFF || IsSubnetBroadcast(address));

    private void ReceiveIcmpV4(ReadOnlySpan<byte> frame, ReadOnlySpan<byte> icmp, NetworkAddress source, NetworkAddress destination)
    {
        if (icmp.Length < 8 || InternetChecksum.Compute(icmp) != 0)
        {
            Counters.Drop(StackDropReason.Malformed);
            return;
        }
        switch (icmp[0])
        {
            case 8:
                // Record Route and Timestamp come back updated (RFC 1122 3.2.2.6).
                Span<byte> options = stackalloc byte[40];
                var headerLength = (frame[EthernetHeader.Length] & 0x0F) * 4;
                var optionsLength = headerLength == Ipv4Header.MinLength ? 0 : EchoOptions(frame.Slice(EthernetHeader.Length + Ipv4Header.MinLength, headerLength - Ipv4Header.MinLength), options, destination);
                if (optionsLength < 0 || icmp.Length > 65535 - Ipv4Header.MinLength - optionsLength)
                {
                    Counters.Drop(StackDropReason.Malformed);
                    return;
                }
                Counters.Add(ref Counters._answered);
                // Without don't-fragment, as Linux's ICMP replies go (its ICMP socket is IP_PMTUDISC_DONT).
                var reply = BuildIp(destination, source, IpProtocol.Icmp, icmp.Length, out var body, dontFragment: false, options: options.Slice(0, optionsLength));
                icmp.CopyTo(body);
                body[0] = 0;
                BinaryPrimitives.WriteUInt16BigEndian(body.Slice(2), 0);
                BinaryPrimitives.WriteUInt16BigEndian(body.Slice(2), InternetChecksum.Compute(body));
                EthernetHeader.WriteMac(reply, EthernetHeader.ReadMac(frame.Slice(6)));
                if (SendReply(reply)) Counters.Add(ref Counters._echoReplies);
                return;
            case 0:
                Counters.Add(ref Counters._delivered);
                Interlocked.Increment(ref Counters._echoRepliesReceived);
                return;
            case 3 when icmp[1] == 4:
                // Fragmentation needed (RFC 1191): the next hop's MTU, and the packet that did not fit.
                PacketTooBig(BinaryPrimitives.ReadUInt16BigEndian(icmp.Slice(6)), icmp.Slice(8), v6: false);
                return;
            case 3 when icmp[1] <= 15:
                // Destination unreachable (RFC 792; codes past 15 are none Linux knows: ignored): protocol (2) or port (3) unreachable is a
                // refusal; the others (net, host, prohibited…) say the peer cannot be reached.
                DestinationUnreachable(refused: icmp[1] is 2 or 3, icmp.Slice(8), v6: false);
                return;
            default:
                Counters.Drop(StackDropReason.Unsupported);
                return;
        }
    }
}
