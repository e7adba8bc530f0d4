using NicBypass.Runtime.Packets;

namespace NicBypass.Runtime.Tests;

/// <summary>The ref-struct header readers the stacks and the VNIC's spoofing check share.</summary>
public class HeaderReaderTests
{
    private static byte[] Ipv4(int totalLength = 28, byte versionIhl = 0x45, int extra = 6)
    {
        var packet = new byte[totalLength + extra]; // Ethernet padding after the packet
        packet[0] = versionIhl;
        packet[2] = (byte)(totalLength >> 8);
        packet[3] = (byte)totalLength;
        packet[8] = 64;
        packet[9] = IpProtocol.Udp;
        new byte[] { 10, 0, 0, 1, 10, 0, 0, 2 }.CopyTo(packet, 12);
        var checksum = InternetChecksum.Compute(packet.AsSpan(0, 20));
        packet[10] = (byte)(checksum >> 8);
        packet[11] = (byte)checksum;
        return packet;
    }

    [Fact]
    public void An_ipv4_header_is_read_in_place_and_cut_to_its_total_length()
    {
        Assert.True(Ipv4Header.TryRead(Ipv4(), out var ip));
        Assert.Equal(28, ip.Packet.Length);
        Assert.Equal(8, ip.Payload.Length);
        Assert.Equal(IpProtocol.Udp, ip.Protocol);
        Assert.Equal(0x0A000001u, ip.SourceValue);
        Assert.True(ip.HeaderChecksumValid);
        Assert.False(ip.IsFragment);
    }

    [Theory]
    [InlineData(0x65, 28)] // version 6
    [InlineData(0x44, 28)] // header length 16
    [InlineData(0x45, 19)] // total length shorter than the header
    [InlineData(0x45, 60)] // total length beyond the bytes at hand
    public void A_damaged_ipv4_header_is_refused(byte versionIhl, int totalLength)
    {
        var packet = Ipv4(28, versionIhl);
        packet[2] = (byte)(totalLength >> 8);
        packet[3] = (byte)totalLength;
        Assert.False(Ipv4Header.TryRead(packet, out _));
        Assert.False(Ipv4Header.TryRead(packet.AsSpan(0, 19), out _));
    }

    [Fact]
    public void A_bad_ipv4_checksum_is_reported_not_refused()
    {
        var packet = Ipv4();
        packet[8] = 63;
        Assert.True(Ipv4Header.TryRead(packet, out var ip));
        Assert.False(ip.HeaderChecksumValid);
    }

    [Fact]
    public void An_ipv6_header_is_cut_to_its_payload_length_and_refused_when_it_overruns()
    {
        var packet = new byte[40 + 12];
        packet[0] = 0x60;
        packet[5] = 8;
        packet[6] = IpProtocol.IcmpV6;
        packet[7] = 255;
        Assert.True(Ipv6Header.TryRead(packet, out var ip));
        Assert.Equal(48, ip.Packet.Length);
        Assert.Equal(IpProtocol.IcmpV6, ip.NextHeader);
        Assert.Equal(255, ip.HopLimit);
        packet[5] = 13;
        Assert.False(Ipv6Header.TryRead(packet, out _));
    }

    [Fact]
    public void Only_ipv4_over_ethernet_arp_is_read()
    {
        var arp = new byte[] { 0, 1, 0x08, 0x00, 6, 4, 0, 1, 2, 0, 0, 0, 0, 9, 10, 0, 0, 9, 0, 0, 0, 0, 0, 0, 10, 0, 0, 1 };
        Assert.True(ArpHeader.TryRead(arp, out var header));
        Assert.Equal(ArpHeader.Request, header.Operation);
        Assert.Equal(0x020000000009UL, header.SenderMac);
        Assert.Equal(new byte[] { 10, 0, 0, 1 }, header.TargetAddress.ToArray());
        arp[1] = 6; // IEEE 802 hardware type
        Assert.False(ArpHeader.TryRead(arp, out _));
        Assert.False(ArpHeader.TryRead(arp.AsSpan(0, 27), out _));
    }
}
