using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using NicBypass.Runtime.Packets;

namespace NicBypass.Runtime.Virtualization;

/// <summary>
/// A VM: its own memory, its own OS and a small guest network stack of its own — unlike
/// containers and services, it does not use a host VNS. The stack answers ARP and IPv6
/// neighbour solicitations for its addresses, replies to ICMP and ICMPv6 echo, and echoes UDP
/// datagrams back to their sender, so a test can ping a VM end to end across the simulated wire.
///
/// The guest's driver knows its interface's transform: it undoes it when reading a frame from
/// memory and applies it when writing one, so the stack itself always sees plain frames.
/// </summary>
public sealed class VirtualMachine
{
    private const ushort EtherTypeIpv4 = 0x0800;
    private const ushort EtherTypeArp = 0x0806;
    private const ushort EtherTypeIpv6 = 0x86DD;

    private readonly List<byte[]> _v4 = new();
    private readonly List<byte[]> _v6 = new();
    private readonly byte[] _in;
    private readonly byte[] _out;
    private readonly byte[] _wire;
    private readonly bool _reverse;
    private ushort _ipId;

    internal VirtualMachine(Vnic vnic, PacketTransform transform)
    {
        Vnic = vnic;
        Mac = vnic.Macs[0];
        var size = vnic.Nic.Device.MaxFrameLength;
        _in = new byte[size];
        _out = new byte[size];
        _wire = new byte[size];
        Memory = new GuestMemory(64, (size + 63) & ~63);
        Interface = new GuestInterface(vnic, this, transform);
        _reverse = transform == PacketTransform.ReverseBits;
        foreach (var ip in vnic.Ips) AssignAddress(ip);
    }

    public string Name => Vnic.Name;

    public Vnic Vnic { get; }

    public GuestInterface Interface { get; }

    public GuestMemory Memory { get; }

    /// <summary>The VM's own MAC (its VNIC's first).</summary>
    public ulong Mac { get; }

    public GuestCounters Counters { get; } = new();

    public IReadOnlyList<IPAddress> Addresses => _v4.Concat(_v6).Select(b => new IPAddress(b)).ToList();

    /// <summary>Gives the guest an address (static, or learned at run time for <c>ip dhcp</c>).</summary>
    public void AssignAddress(IPAddress address)
    {
        var bytes = address.GetAddressBytes();
        var list = address.AddressFamily == AddressFamily.InterNetwork ? _v4 : _v6;
        if (!list.Any(a => a.AsSpan().SequenceEqual(bytes))) list.Add(bytes);
    }

    /// <summary>Sends a plain frame from the guest (through its driver, interface and VNIC).</summary>
    public bool Send(ReadOnlySpan<byte> frame)
    {
        bool sent;
        if (Interface.Transform == PacketTransform.ReverseBits)
        {
            var memory = _wire.AsSpan(0, frame.Length);
            BitReversal.Apply(frame, memory);
            sent = Interface.Send(memory);
        }
        else
        {
            sent = Interface.Send(frame);
        }
        if (!sent) Counters.SendFailures++;
        return sent;
    }

    // A frame has been placed in memory by the interface: the guest reads and handles it.
    internal void OnFrame(ReadOnlySpan<byte> memory)
    {
        Counters.Received++;
        var frame = memory;
        if (_reverse)
        {
            var plain = _in.AsSpan(0, memory.Length);
            BitReversal.Apply(memory, plain);
            frame = plain;
        }
        if (frame.Length < EthernetHeader.Length)
        {
            Counters.Malformed++;
            return;
        }
        switch (BinaryPrimitives.ReadUInt16BigEndian(frame.Slice(12)))
        {
            case EtherTypeArp: HandleArp(frame); break;
            case EtherTypeIpv4: HandleIpv4(frame); break;
            case EtherTypeIpv6: HandleIpv6(frame); break;
            default: Counters.Ignored++; break;
        }
    }

    // ---- ARP -----------------------------------------------------------------------------------

    private void HandleArp(ReadOnlySpan<byte> frame)
    {
        var arp = frame.Slice(EthernetHeader.Length);
        if (arp.Length < 28 || BinaryPrimitives.ReadUInt16BigEndian(arp) != 1 || BinaryPrimitives.ReadUInt16BigEndian(arp.Slice(2)) != EtherTypeIpv4
            || arp[4] != 6 || arp[5] != 4)
        {
            Counters.Malformed++;
            return;
        }
        var target = arp.Slice(24, 4);
        if (BinaryPrimitives.ReadUInt16BigEndian(arp.Slice(6)) != 1 || !Owns(_v4, target))
        {
            Counters.Ignored++;
            return;
        }
        var reply = _out.AsSpan(0, 60);
        reply.Clear();
        arp.Slice(8, 6).CopyTo(reply);
        EthernetHeader.WriteMac(reply.Slice(6), Mac);
        BinaryPrimitives.WriteUInt16BigEndian(reply.Slice(12), EtherTypeArp);
        var body = reply.Slice(EthernetHeader.Length);
        arp.Slice(0, 6).CopyTo(body);
        BinaryPrimitives.WriteUInt16BigEndian(body.Slice(6), 2);
        EthernetHeader.WriteMac(body.Slice(8), Mac);
        target.CopyTo(body.Slice(14));
        arp.Slice(8, 10).CopyTo(body.Slice(18));
        if (Send(reply)) Counters.ArpReplies++;
    }

    // ---- IPv4 ----------------------------------------------------------------------------------

    private void HandleIpv4(ReadOnlySpan<byte> frame)
    {
        var ip = frame.Slice(EthernetHeader.Length);
        if (ip.Length < 20 || ip[0] >> 4 != 4)
        {
            Counters.Malformed++;
            return;
        }
        var headerLength = (ip[0] & 0x0F) * 4;
        var totalLength = BinaryPrimitives.ReadUInt16BigEndian(ip.Slice(2));
        if (headerLength < 20 || totalLength < headerLength || totalLength > ip.Length || InternetChecksum.Compute(ip.Slice(0, headerLength)) != 0)
        {
            Counters.Malformed++;
            return;
        }
        var source = ip.Slice(12, 4);
        var destination = ip.Slice(16, 4);
        if (!Owns(_v4, destination))
        {
            Counters.Ignored++;
            return;
        }
        var payload = ip.Slice(headerLength, totalLength - headerLength);
        switch (ip[9])
        {
            case 1: // ICMP
                if (payload.Length < 8 || InternetChecksum.Compute(payload) != 0)
                {
                    Counters.Malformed++;
                    return;
                }
                if (payload[0] != 8)
                {
                    Counters.Ignored++;
                    return;
                }
                var icmp = StartIpv4Reply(frame, destination, source, 1, payload.Length);
                payload.CopyTo(icmp);
                icmp[0] = 0;
                BinaryPrimitives.WriteUInt16BigEndian(icmp.Slice(2), 0);
                BinaryPrimitives.WriteUInt16BigEndian(icmp.Slice(2), InternetChecksum.Compute(icmp));
                if (Send(_out.AsSpan(0, EthernetHeader.Length + 20 + payload.Length))) Counters.EchoReplies++;
                return;
            case 17: // UDP
                if (!ValidUdp(payload, out var udpLength) || (BinaryPrimitives.ReadUInt16BigEndian(payload.Slice(6)) != 0
                    && InternetChecksum.ComputeV4(source, destination, 17, payload.Slice(0, udpLength)) != 0))
                {
                    Counters.Malformed++;
                    return;
                }
                var udp = StartIpv4Reply(frame, destination, source, 17, udpLength);
                EchoUdp(payload.Slice(0, udpLength), udp);
                BinaryPrimitives.WriteUInt16BigEndian(udp.Slice(6), NonZero(InternetChecksum.ComputeV4(destination, source, 17, udp)));
                if (Send(_out.AsSpan(0, EthernetHeader.Length + 20 + udpLength))) Counters.UdpEchoes++;
                return;
            default:
                Counters.Ignored++;
                return;
        }
    }

    // Writes Ethernet + IPv4 headers of a reply into _out; returns the payload area.
    private Span<byte> StartIpv4Reply(ReadOnlySpan<byte> request, ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination, byte protocol, int payloadLength)
    {
        var reply = _out.AsSpan(0, EthernetHeader.Length + 20 + payloadLength);
        request.Slice(6, 6).CopyTo(reply);
        EthernetHeader.WriteMac(reply.Slice(6), Mac);
        BinaryPrimitives.WriteUInt16BigEndian(reply.Slice(12), EtherTypeIpv4);
        var ip = reply.Slice(EthernetHeader.Length, 20);
        ip.Clear();
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(2), (ushort)(20 + payloadLength));
        BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(4), _ipId++);
        ip[8] = 64;
        ip[9] = protocol;
        source.CopyTo(ip.Slice(12));
        destination.CopyTo(ip.Slice(16));
        BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(10), InternetChecksum.Compute(ip));
        return reply.Slice(EthernetHeader.Length + 20);
    }

    // ---- IPv6 ----------------------------------------------------------------------------------

    private void HandleIpv6(ReadOnlySpan<byte> frame)
    {
        var ip = frame.Slice(EthernetHeader.Length);
        if (ip.Length < 40 || ip[0] >> 4 != 6)
        {
            Counters.Malformed++;
            return;
        }
        var payloadLength = BinaryPrimitives.ReadUInt16BigEndian(ip.Slice(4));
        if (40 + payloadLength > ip.Length)
        {
            Counters.Malformed++;
            return;
        }
        var source = ip.Slice(8, 16);
        var destination = ip.Slice(24, 16);
        var payload = ip.Slice(40, payloadLength);
        var unicast = Owns(_v6, destination);
        if (!unicast && !IsSolicitedNodeOrAllNodes(destination))
        {
            Counters.Ignored++;
            return;
        }
        switch (ip[6])
        {
            case 58: // ICMPv6
                if (payload.Length < 8 || InternetChecksum.ComputeV6(source, destination, 58, payload) != 0)
                {
                    Counters.Malformed++;
                    return;
                }
                if (payload[0] == 135 && payload.Length >= 24 && Owns(_v6, payload.Slice(8, 16)))
                {
                    AdvertiseNeighbor(frame, source, payload.Slice(8, 16));
                }
                else if (payload[0] == 128 && unicast)
                {
                    var icmp = StartIpv6Reply(frame.Slice(6, 6), destination, source, 58, 64, payload.Length);
                    payload.CopyTo(icmp);
                    icmp[0] = 129;
                    BinaryPrimitives.WriteUInt16BigEndian(icmp.Slice(2), 0);
                    BinaryPrimitives.WriteUInt16BigEndian(icmp.Slice(2), InternetChecksum.ComputeV6(destination, source, 58, icmp));
                    if (Send(_out.AsSpan(0, EthernetHeader.Length + 40 + payload.Length))) Counters.EchoReplies++;
                }
                else
                {
                    Counters.Ignored++;
                }
                return;
            case 17 when unicast:
                if (!ValidUdp(payload, out var udpLength) || InternetChecksum.ComputeV6(source, destination, 17, payload.Slice(0, udpLength)) != 0)
                {
                    Counters.Malformed++;
                    return;
                }
                var udp = StartIpv6Reply(frame.Slice(6, 6), destination, source, 17, 64, udpLength);
                EchoUdp(payload.Slice(0, udpLength), udp);
                BinaryPrimitives.WriteUInt16BigEndian(udp.Slice(6), NonZero(InternetChecksum.ComputeV6(destination, source, 17, udp)));
                if (Send(_out.AsSpan(0, EthernetHeader.Length + 40 + udpLength))) Counters.UdpEchoes++;
                return;
            default:
                Counters.Ignored++;
                return;
        }
    }

    private void AdvertiseNeighbor(ReadOnlySpan<byte> request, ReadOnlySpan<byte> solicitor, ReadOnlySpan<byte> target)
    {
        // An unspecified solicitor (duplicate address detection) is answered to all nodes.
        Span<byte> allNodes = stackalloc byte[16];
        allNodes[0] = 0xFF;
        allNodes[1] = 0x02;
        allNodes[15] = 1;
        var unspecified = solicitor.IndexOfAnyExcept((byte)0) < 0;
        var destination = unspecified ? allNodes : solicitor;
        Span<byte> destinationMac = stackalloc byte[6];
        if (unspecified) EthernetHeader.WriteMac(destinationMac, 0x3333_0000_0001UL);
        else request.Slice(6, 6).CopyTo(destinationMac);

        var icmp = StartIpv6Reply(destinationMac, target, destination, 58, 255, 32);
        icmp.Clear();
        icmp[0] = 136;
        BinaryPrimitives.WriteUInt32BigEndian(icmp.Slice(4), unspecified ? 0x2000_0000u : 0x6000_0000u); // (solicited,) override
        target.CopyTo(icmp.Slice(8));
        icmp[24] = 2; // target link-layer address option
        icmp[25] = 1;
        EthernetHeader.WriteMac(icmp.Slice(26), Mac);
        BinaryPrimitives.WriteUInt16BigEndian(icmp.Slice(2), InternetChecksum.ComputeV6(target, destination, 58, icmp));
        if (Send(_out.AsSpan(0, EthernetHeader.Length + 40 + 32))) Counters.NeighborAdvertisements++;
    }

    private Span<byte> StartIpv6Reply(ReadOnlySpan<byte> destinationMac, ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination, byte nextHeader, byte hopLimit, int payloadLength)
    {
        var reply = _out.AsSpan(0, EthernetHeader.Length + 40 + payloadLength);
        destinationMac.CopyTo(reply);
        EthernetHeader.WriteMac(reply.Slice(6), Mac);
        BinaryPrimitives.WriteUInt16BigEndian(reply.Slice(12), EtherTypeIpv6);
        var ip = reply.Slice(EthernetHeader.Length, 40);
        ip.Clear();
        ip[0] = 0x60;
        BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(4), (ushort)payloadLength);
        ip[6] = nextHeader;
        ip[7] = hopLimit;
        source.CopyTo(ip.Slice(8));
        destination.CopyTo(ip.Slice(24));
        return reply.Slice(EthernetHeader.Length + 40);
    }

    private bool IsSolicitedNodeOrAllNodes(ReadOnlySpan<byte> address)
    {
        if (address[0] != 0xFF || address[1] != 0x02) return false;
        if (address.Slice(2, 13).IndexOfAnyExcept((byte)0) < 0 && address[15] == 1) return true; // ff02::1
        if (address.Slice(2, 9).IndexOfAnyExcept((byte)0) >= 0 || address[11] != 1 || address[12] != 0xFF) return false;
        foreach (var own in _v6)
        {
            if (own.AsSpan(13, 3).SequenceEqual(address.Slice(13, 3))) return true;
        }
        return false;
    }

    // ---- shared --------------------------------------------------------------------------------

    private static bool ValidUdp(ReadOnlySpan<byte> payload, out int length)
    {
        length = payload.Length >= 8 ? BinaryPrimitives.ReadUInt16BigEndian(payload.Slice(4)) : 0;
        return payload.Length >= 8 && length >= 8 && length <= payload.Length;
    }

    private static void EchoUdp(ReadOnlySpan<byte> request, Span<byte> reply)
    {
        request.CopyTo(reply);
        request.Slice(0, 2).CopyTo(reply.Slice(2));
        request.Slice(2, 2).CopyTo(reply);
        BinaryPrimitives.WriteUInt16BigEndian(reply.Slice(6), 0);
    }

    private static ushort NonZero(ushort checksum) => checksum == 0 ? (ushort)0xFFFF : checksum;

    private static bool Owns(List<byte[]> addresses, ReadOnlySpan<byte> address)
    {
        foreach (var own in addresses)
        {
            if (address.SequenceEqual(own)) return true;
        }
        return false;
    }

    public override string ToString() => Name;
}
