using System.Buffers.Binary;
using CsCheck;
using NicBypass.Runtime.Classification;
using NicBypass.Runtime.Packets;

namespace NicBypass.Runtime.Tests;

/// <summary>The 16-byte per-rule check the classifier and the generated lookups run on option-less IPv4 (docs/architecture.md § Classification as advertised).</summary>
public class FieldCheckTests
{
    private const string Mac = "02:00:00:00:00:01";
    private const uint Ip = 0x0A000001; // 10.0.0.1

    private static readonly FieldCheck VlanIpUdp53 = new(
        FieldCheckOptions.Vlan | FieldCheckOptions.Ipv4 | FieldCheckOptions.Ports | FieldCheckOptions.Udp, 0, Ip, FieldCheck.PackPorts(new ushort[] { 53 }));

    private static FieldVerdict Check(FieldCheck check, byte[] frame)
    {
        Assert.True(EthernetHeader.TryRead(frame, out var header));
        return check.Check(frame, header);
    }

    [Fact]
    public void Ports_pack_into_four_lanes_repeating_the_last_and_none_packs_as_all_ones()
    {
        Assert.Equal(0x0050_0050_0050_0050UL, FieldCheck.PackPorts(new ushort[] { 80 }));
        Assert.Equal(0x01BB_01BB_01BB_0050UL, FieldCheck.PackPorts(new ushort[] { 80, 443 }));
        Assert.Equal(ulong.MaxValue, FieldCheck.PackPorts(ReadOnlySpan<ushort>.Empty));
        Assert.Throws<ArgumentException>(() => FieldCheck.PackPorts(new ushort[] { 1, 2, 3, 4, 5 }));
    }

    [Fact]
    public void Option_less_ipv4_is_decided_on_address_protocol_and_port()
    {
        Assert.Equal(FieldVerdict.Match, Check(VlanIpUdp53, TestFrames.Udp(Mac, "10.0.0.1", 53, new byte[8])));
        Assert.Equal(FieldVerdict.Match, Check(VlanIpUdp53, TestFrames.Udp(Mac, "10.0.0.1", 49152, new byte[8]))); // ephemeral
        Assert.Equal(FieldVerdict.NoMatch, Check(VlanIpUdp53, TestFrames.Udp(Mac, "10.0.0.1", 54, new byte[8])));
        Assert.Equal(FieldVerdict.NoMatch, Check(VlanIpUdp53, TestFrames.Udp(Mac, "10.0.0.2", 53, new byte[8])));
        Assert.Equal(FieldVerdict.NoMatch, Check(VlanIpUdp53, TestFrames.Tcp(Mac, "10.0.0.1", 53, "10.0.0.9"))); // TCP not declared
        Assert.Equal(FieldVerdict.Match, Check(VlanIpUdp53, TestFrames.Ping(Mac, "10.0.0.1")));                  // no ports in ICMP
        var fragment = TestFrames.Udp(Mac, "10.0.0.1", 54, new byte[8]);
        fragment[14 + 7] = 1; // a later fragment: no UDP header in it
        Assert.Equal(FieldVerdict.Match, Check(VlanIpUdp53, fragment));
    }

    [Fact]
    public void The_vlan_is_checked_first_and_a_tag_inside_the_tag_is_nobodys()
    {
        Assert.Equal(FieldVerdict.NoMatch, Check(VlanIpUdp53, TestFrames.Tag(TestFrames.Udp(Mac, "10.0.0.1", 53, new byte[8]), 7)));
        var tenant = new FieldCheck(FieldCheckOptions.Vlan, 7, 0, 0);
        Assert.Equal(FieldVerdict.Match, Check(tenant, TestFrames.Tag(TestFrames.Udp(Mac, "10.0.0.1", 53, new byte[8]), 7)));
        Assert.Equal(FieldVerdict.NoMatch, Check(tenant, TestFrames.Tag(TestFrames.Tag(TestFrames.Udp(Mac, "10.0.0.1", 53, new byte[8]), 9), 7)));
        Assert.Equal(FieldVerdict.Match, Check(default, TestFrames.Tag(TestFrames.Udp(Mac, "10.0.0.1", 53, new byte[8]), 7))); // checks nothing
    }

    [Fact]
    public void What_the_check_cannot_read_in_one_run_is_left_to_the_filter()
    {
        var withOptions = TestFrames.Udp(Mac, "10.0.0.1", 53, new byte[8]);
        withOptions[14] = 0x46; // IHL 6: options
        Assert.Equal(FieldVerdict.CheckFields, Check(VlanIpUdp53, withOptions));
        Assert.Equal(FieldVerdict.CheckFields, Check(VlanIpUdp53, TestFrames.Udp(Mac, "fd00::1", 53, new byte[8])));
        var overflow = new FieldCheck(FieldCheckOptions.Ports | FieldCheckOptions.Udp | FieldCheckOptions.Overflow, 0, 0, 0);
        Assert.Equal(FieldVerdict.CheckFields, Check(overflow, TestFrames.Udp(Mac, "10.0.0.1", 53, new byte[8])));
    }

    [Fact]
    public void A_frame_neither_ipv4_nor_ipv6_has_no_address_or_port_to_check_and_passes_without_the_filter()
    {
        // Decided here, not by the filter (one object fewer read a frame): ARP and a VM's own
        // EtherType pass an IP-and-port rule, as the filter lets them — overflowing rules too.
        var overflow = new FieldCheck(FieldCheckOptions.Ports | FieldCheckOptions.Udp | FieldCheckOptions.Overflow, 0, 0, 0);
        var experimental = TestFrames.Udp(Mac, "10.0.0.1", 53, new byte[8]);
        experimental[12] = 0x88;
        experimental[13] = 0xB5;
        foreach (var check in new[] { VlanIpUdp53, overflow })
        {
            Assert.Equal(FieldVerdict.Match, Check(check, TestFrames.ArpRequest("10.0.0.1")));
            Assert.Equal(FieldVerdict.Match, Check(check, experimental));
        }
        // The VLAN still decides first.
        Assert.Equal(FieldVerdict.NoMatch, Check(VlanIpUdp53, TestFrames.Tag(TestFrames.ArpRequest("10.0.0.1"), 9)));
    }

    [Fact]
    public void The_edges_of_the_port_check_every_lane_the_ephemeral_boundary_and_both_transports()
    {
        var four = new FieldCheck(FieldCheckOptions.Ipv4 | FieldCheckOptions.Ports | FieldCheckOptions.Tcp | FieldCheckOptions.Udp, 0, Ip,
            FieldCheck.PackPorts(new ushort[] { 22, 80, 443, 8080 }));
        foreach (var port in new ushort[] { 22, 80, 443, 8080, 49152, 65535 })
        {
            Assert.Equal(FieldVerdict.Match, Check(four, TestFrames.Udp(Mac, "10.0.0.1", port, new byte[8])));
            Assert.Equal(FieldVerdict.Match, Check(four, TestFrames.Tcp(Mac, "10.0.0.1", port, "10.0.0.9")));
        }
        foreach (var port in new ushort[] { 0, 21, 23, 8081, 443 * 256 % 65536, 49151 })
        {
            Assert.Equal(FieldVerdict.NoMatch, Check(four, TestFrames.Udp(Mac, "10.0.0.1", port, new byte[8])));
        }
        // What the check was built from comes back out of it.
        Assert.Equal(Ip, four.Ipv4);
        Assert.Equal(FieldCheck.PackPorts(new ushort[] { 22, 80, 443, 8080 }), four.PortLanes);
    }

    [Fact]
    public void A_datagram_too_short_for_ports_is_matched_on_its_protocol_as_the_filter_does()
    {
        // A TCP header cut off after the IP header (total length 20, the frame padded to 60):
        // refused by a UDP-only rule, whether it declares one port or more than four.
        var cut = TestFrames.Tcp(Mac, "10.0.0.1", 53, "10.0.0.9").AsSpan(0, 34).ToArray();
        cut[14 + 2] = 0;
        cut[14 + 3] = 20;
        Array.Resize(ref cut, 60);
        Assert.Equal(FieldVerdict.NoMatch, Check(VlanIpUdp53, cut));
        var udpCut = TestFrames.Udp(Mac, "10.0.0.1", 53, new byte[8]).AsSpan(0, 34).ToArray();
        udpCut[14 + 2] = 0;
        udpCut[14 + 3] = 20;
        Array.Resize(ref udpCut, 60);
        Assert.Equal(FieldVerdict.Match, Check(VlanIpUdp53, udpCut)); // its ports are not in it: matched on UDP
    }

    // The rules of docs/architecture.md § Classification as advertised, written plainly: the
    // reference the check's straight run is held to on random frames and random checks.
    private static FieldVerdict Reference(FieldCheck check, byte[] frame, ushort[] ports)
    {
        Assert.True(EthernetHeader.TryRead(frame, out var header));
        var options = check.Options;
        if ((options & FieldCheckOptions.Vlan) != 0 && (header.Vlan != check.Vlan || EthernetHeader.IsTagType(header.EtherType))) return FieldVerdict.NoMatch;
        if ((options & (FieldCheckOptions.Ipv4 | FieldCheckOptions.Ports | FieldCheckOptions.Overflow)) == 0) return FieldVerdict.Match;
        var ip = frame.AsSpan(header.PayloadOffset);
        if ((options & FieldCheckOptions.Overflow) != 0 || header.EtherType != EtherType.Ipv4 || ip.Length < 24 || ip[0] != 0x45) return FieldVerdict.CheckFields;
        if ((options & FieldCheckOptions.Ipv4) != 0 && BinaryPrimitives.ReadUInt32BigEndian(ip.Slice(16)) != check.Ipv4) return FieldVerdict.NoMatch;
        if ((options & FieldCheckOptions.Ports) == 0) return FieldVerdict.Match;
        if ((BinaryPrimitives.ReadUInt16BigEndian(ip.Slice(6)) & 0x1FFF) != 0) return FieldVerdict.Match; // a later fragment: no ports
        var declared = ip[9] switch { 6 => FieldCheckOptions.Tcp, 17 => FieldCheckOptions.Udp, _ => FieldCheckOptions.None };
        if (declared == FieldCheckOptions.None) return FieldVerdict.Match;  // no ports in ICMP and the rest
        if ((options & declared) == 0) return FieldVerdict.NoMatch;          // a transport the rule does not declare
        if (BinaryPrimitives.ReadUInt16BigEndian(ip.Slice(2)) < 24) return FieldVerdict.Match; // too short for ports: matched on its protocol
        var port = BinaryPrimitives.ReadUInt16BigEndian(ip.Slice(22));
        return Array.IndexOf(ports, port) >= 0 || port >= 49152 ? FieldVerdict.Match : FieldVerdict.NoMatch;
    }

    [Fact]
    public void The_check_agrees_with_the_plain_rules_on_random_frames_and_checks()
    {
        var check = Gen.Select(Gen.Byte[0, 63], Gen.Int[0, 3], Gen.Int[0, 3], Gen.UShort.Array[0, 4]);
        var frame = Gen.Select(Gen.Int[0, 3], Gen.Int[0, 3], Gen.Select(Gen.Byte, Gen.Byte[0, 2], Gen.UShort[0, 60], Gen.UShort, Gen.Int[0, 2]),
            Gen.UShort, Gen.Int[0, 40], Gen.Int[0, 3]);
        Gen.Select(check, frame).Sample((c, f) =>
        {
            var (options, vlan, ipIndex, rawPorts) = c;
            var ports = rawPorts.Select(p => (ushort)(p % 4 == 0 ? 80 : p)).Where(p => p is > 0 and < 49152).Distinct().Order().ToArray();
            var fieldCheck = new FieldCheck((FieldCheckOptions)options, vlan, 0x0A000001u + (uint)ipIndex, ports.Length == 0 ? ulong.MaxValue : FieldCheck.PackPorts(ports));
            var (tagged, dstIndex, (protocolRaw, versionPick, totalLength, fragment, fragmentPick), portRaw, length, portPick) = f;
            var protocol = protocolRaw % 3 == 0 ? (byte)6 : protocolRaw % 3 == 1 ? (byte)17 : protocolRaw;
            var port = portPick == 0 && ports.Length > 0 ? ports[portRaw % ports.Length] : portRaw;
            var ip = new byte[Math.Max(length, 0)];
            var full = new byte[24];
            full[0] = versionPick == 0 ? (byte)0x46 : (byte)0x45;
            BinaryPrimitives.WriteUInt16BigEndian(full.AsSpan(2), totalLength);
            BinaryPrimitives.WriteUInt16BigEndian(full.AsSpan(6), fragmentPick switch { 0 => fragment, 1 => (ushort)(fragment & 0xE000), _ => (ushort)(1 << (fragment % 16)) });
            full[9] = protocol;
            BinaryPrimitives.WriteUInt32BigEndian(full.AsSpan(16), 0x0A000001u + (uint)dstIndex);
            BinaryPrimitives.WriteUInt16BigEndian(full.AsSpan(22), port);
            full.AsSpan(0, Math.Min(ip.Length, 24)).CopyTo(ip);
            var bytes = new byte[14 + ip.Length];
            EthernetHeader.WriteMac(bytes, 0x02_00_00_00_00_01UL);
            BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(12), EtherType.Ipv4);
            ip.CopyTo(bytes.AsSpan(14));
            if (tagged > 0) bytes = TestFrames.Tag(bytes, tagged - 1);
            var actual = Check(fieldCheck, bytes);
            var expected = Reference(fieldCheck, bytes, ports);
            if (actual != expected) throw new Exception($"{fieldCheck} on {Convert.ToHexString(bytes)}: {actual}, the rules say {expected}");
        }, iter: 20_000);
    }
}
