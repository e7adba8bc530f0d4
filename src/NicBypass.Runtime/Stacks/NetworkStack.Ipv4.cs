using System.Buffers.Binary;
using NicBypass.Runtime.Packets;

namespace NicBypass.Runtime.Stacks;

// IPv4 (RFC 791) input: header checks, then ICMP echo or the transport layers.
public sealed partial class NetworkStack
{
    private void ReceiveIpv4(ReadOnlySpan<byte> frame)
    {
        if (!Ipv4Header.TryRead(frame.Slice(EthernetHeader.Length), out var ip) || !ip.HeaderChecksumValid)
        {
            Counters.Drop(StackDropReason.Malformed);
            return;
        }
        var destination = NetworkAddress.Read(ip.Destination);
        if (!Owns(destination))
        {
            Counters.Drop(StackDropReason.NotForUs);
            return;
        }
        if (ip.TimeToLive == 0)
        {
            Counters.Drop(StackDropReason.TtlExpired);
            return;
        }
        if (ip.IsFragment)
        {
            Counters.Drop(StackDropReason.Fragment);
            return;
        }
        var source = NetworkAddress.Read(ip.Source);
        Glean(source, frame);
        switch (ip.Protocol)
        {
            case IpProtocol.Icmp: ReceiveIcmpV4(frame, ip.Payload, source, destination); break;
            case IpProtocol.Udp or IpProtocol.Tcp when TransportEntry is { } entry && !entry.Submit(frame): break; // waits in the VSQ
            case IpProtocol.Udp: ReceiveUdp(ip.Packet, ip.Payload, source, destination); break;
            case IpProtocol.Tcp: ReceiveTcp(ip.Packet, ip.Payload, source, destination); break;
            default: Counters.Drop(StackDropReason.Unsupported); break;
        }
    }

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
                Counters.Add(ref Counters._answered);
                var reply = BuildIp(destination, source, IpProtocol.Icmp, icmp.Length, out var body);
                icmp.CopyTo(body);
                body[0] = 0;
                BinaryPrimitives.WriteUInt16BigEndian(body.Slice(2), 0);
                BinaryPrimitives.WriteUInt16BigEndian(body.Slice(2), InternetChecksum.Compute(body));
                EthernetHeader.WriteMac(reply, EthernetHeader.ReadMac(frame.Slice(6)));
                if (SendReply(reply)) Counters.Add(ref Counters._echoReplies);
                return;
            case 0:
                Counters.Add(ref Counters._delivered);
                Interlocked.Increment(ref _echoRepliesReceived);
                return;
            default:
                Counters.Drop(StackDropReason.Unsupported);
                return;
        }
    }
}
