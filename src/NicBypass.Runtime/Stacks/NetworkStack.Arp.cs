using System.Buffers.Binary;
using NicBypass.Runtime.Packets;

namespace NicBypass.Runtime.Stacks;

// ARP (RFC 826): answering requests for its own IPv4 addresses, learning from them, and asking for a neighbour's MAC (ARP request, or neighbour solicitation for IPv6); a DHCP client's check and defence of its address (RFC 5227) see the ARP it receives.
public sealed partial class NetworkStack
{
    private void ReceiveArp(ReadOnlySpan<byte> frame)
    {
        if (!ArpHeader.TryRead(frame.Slice(EthernetHeader.Length), out var arp))
        {
            Counters.Drop(StackDropReason.Malformed);
            return;
        }
        var operation = arp.Operation;
        var senderMac = arp.SenderMac;
        var sender = NetworkAddress.Read(arp.SenderAddress);
        var target = NetworkAddress.Read(arp.TargetAddress);
        var known = operation is ArpHeader.Request or ArpHeader.Reply;
        if (known && (sender.Value != 0 && (!IsValidSourceV4((uint)sender.Value) || IsSubnetBroadcast(sender))
            || senderMac == 0 || EthernetHeader.IsGroupAddress(senderMac) || EthernetHeader.IsGroupAddress(EthernetHeader.ReadMac(frame.Slice(6)))))
        {
            // A sender no host can be — a multicast, class E, 0/8 (but a probe's 0.0.0.0),
            // loopback or subnet-broadcast address, or a group or zero MAC — is neither learned
            // nor answered, as an IPv4 packet from it is not: a reply to a group MAC reaches every
            // host (found by a replay of a fuzzed capture checked against tshark).
            Counters.Drop(StackDropReason.InvalidSource);
            return;
        }
        var forUs = known && Owns(target);
        if (known && _dhcp is { Checking: true } dhcp && dhcp.ArpSeen(senderMac, sender, target) && !forUs)
        {
            Counters.Add(ref Counters._delivered); // taken by the DHCP client's check: the address is another host's
            return;
        }
        // The lease is read without the client's lock: only an ARP from the leased address takes it.
        if (known && _dhcp is { } leasing && leasing.Lease?.Address == sender && sender.Value != 0
            && leasing.ArpClaims(senderMac, sender))
        {
            Counters.Add(ref Counters._delivered); // another host using the leased address: defended, or given up — not learned as a neighbour
            return;
        }
        if (!forUs)
        {
            // A reply to our MAC for an address we no longer have (a lease given back while its
            // RELEASE waited for the server's MAC): it still answers what we solicited, as Linux
            // updates an entry it resolves whatever the reply's target; nothing else is learned.
            if (operation == ArpHeader.Reply && EthernetHeader.ReadMac(arp.Packet.Slice(18)) == Mac) _neighbors.Answered(sender, senderMac);
            else if (known && sender == target && sender.Value != 0 && _neighbors.Unsolicited(sender, senderMac))
            {
                // A gratuitous ARP, an announcement (RFC 5227 3: a host that moved, a failover):
                // it updates an entry we hold — one never confirmed, as any unsolicited news
                // does — as RFC 826's merge step and Linux do; it went unread (found by review).
                Counters.Add(ref Counters._delivered); // taken: it moved an entry (else not for us, as before)
                return;
            }
            Counters.Drop(StackDropReason.NotForUs);
            return;
        }
        Counters.Add(ref Counters._answered);
        if (operation == ArpHeader.Request)
        {
            _neighbors.Observe(sender, senderMac); // it asked for us: a stale entry, never over a reachable one
        }
        else
        {
            // A reply: it confirms what we solicited or probed; an unsolicited one only updates a stale entry.
            _neighbors.Answered(sender, senderMac);
            return;
        }

        // The requester's MAC and IP become the target; the address asked for is the sender's.
        var reply = ArpFrame(ArpHeader.Reply, senderMac, arp.TargetAddress, senderMac, arp.SenderAddress);
        if (SendReply(reply)) Counters.Add(ref Counters._arpReplies);
    }

    /// <summary>An ARP request from <paramref name="sender"/> for <paramref name="target"/>, broadcast unless <paramref name="toMac"/> names one: a question, a probe (from 0.0.0.0) or an announcement (from the address itself; RFC 5227).</summary>
    internal void SendArp(NetworkAddress sender, NetworkAddress target, ulong toMac = 0xFFFF_FFFF_FFFFUL)
    {
        Span<byte> addresses = stackalloc byte[8];
        sender.Write(addresses);
        target.Write(addresses.Slice(4));
        Transmit(ArpFrame(ArpHeader.Request, toMac, addresses.Slice(0, 4), 0, addresses.Slice(4)), reply: true);
    }

    // An Ethernet/IPv4 ARP packet from this stack's MAC in this thread's buffer, padded to 60 bytes.
    private Span<byte> ArpFrame(ushort operation, ulong toMac, ReadOnlySpan<byte> senderIp, ulong targetMac, ReadOnlySpan<byte> targetIp)
    {
        var frame = Scratch().AsSpan(0, 60);
        frame.Clear();
        EthernetHeader.WriteMac(frame, toMac);
        EthernetHeader.WriteMac(frame.Slice(6), Mac);
        BinaryPrimitives.WriteUInt16BigEndian(frame.Slice(12), EtherType.Arp);
        var arp = frame.Slice(EthernetHeader.Length);
        BinaryPrimitives.WriteUInt16BigEndian(arp, 1);
        BinaryPrimitives.WriteUInt16BigEndian(arp.Slice(2), EtherType.Ipv4);
        arp[4] = 6;
        arp[5] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(arp.Slice(6), operation);
        EthernetHeader.WriteMac(arp.Slice(8), Mac);
        senderIp.CopyTo(arp.Slice(14));
        EthernetHeader.WriteMac(arp.Slice(18), targetMac);
        targetIp.CopyTo(arp.Slice(24));
        return frame;
    }

    // The address a solicitation is sent from: the stack's usual one, or the unspecified one when
    // it has none (yet, or any more: a DHCP lease that ended) — an ARP probe (RFC 5227).
    private NetworkAddress Source(NetworkAddress target) => TrySourceFor(target, out var source) ? source : new NetworkAddress(0, target.IsV6);

    /// <summary>
    /// Asks for <paramref name="target"/>'s MAC: an ARP request (broadcast), or a neighbour
    /// solicitation to its solicited-node group — or, to probe a cached <paramref name="unicastMac"/>,
    /// the same question sent to that MAC alone (and, for IPv6, to the target's own address).
    /// </summary>
    internal void Solicit(NetworkAddress target, ulong unicastMac = 0)
    {
        if (!target.IsV6) SendArp(Source(target), target, unicastMac != 0 ? unicastMac : 0xFFFF_FFFF_FFFFUL);
        else SendNeighborSolicitation(Source(target), target, unicastMac);
    }

    /// <summary>
    /// A neighbour solicitation for <paramref name="target"/> from <paramref name="source"/>, to
    /// the target's solicited-node group — or, to probe a cached <paramref name="unicastMac"/>, to
    /// that MAC and the target itself. From the unspecified address (duplicate address detection)
    /// it carries no source link-layer option (RFC 4861 4.3).
    /// </summary>
    internal void SendNeighborSolicitation(NetworkAddress source, NetworkAddress target, ulong unicastMac = 0)
    {
        var detection = source.Value == 0;
        var group = SolicitedNode(target);
        var frame = BuildIp(source, unicastMac != 0 ? target : group, IpProtocol.IcmpV6, detection ? 24 : 32, out var icmp, hopLimit: 255);
        icmp.Clear();
        icmp[0] = 135;
        target.Write(icmp.Slice(8));
        if (!detection)
        {
            icmp[24] = 1; // source link-layer address option
            icmp[25] = 1;
            EthernetHeader.WriteMac(icmp.Slice(26), Mac);
        }
        SealTransport(frame, 2);
        EthernetHeader.WriteMac(frame, unicastMac != 0 ? unicastMac : Classification.GroupAddress.Of(group));
        Transmit(frame, reply: true);
    }

    /// <summary>The solicited-node group (ff02::1:ffXX:XXXX, RFC 4291 2.7.1) of IPv6 address <paramref name="address"/>: its last 24 bits.</summary>
    internal static NetworkAddress SolicitedNode(NetworkAddress address) =>
        new(((UInt128)0xFF02 << 112) | ((UInt128)1 << 32) | ((UInt128)0xFF << 24) | (address.Value & 0xFF_FFFF), true);
}
