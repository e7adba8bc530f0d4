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
        Assert.Equal(FieldVerdict.CheckFields, Check(VlanIpUdp53, TestFrames.ArpRequest("10.0.0.1")));
        var overflow = new FieldCheck(FieldCheckOptions.Ports | FieldCheckOptions.Udp | FieldCheckOptions.Overflow, 0, 0, 0);
        Assert.Equal(FieldVerdict.CheckFields, Check(overflow, TestFrames.Udp(Mac, "10.0.0.1", 53, new byte[8])));
    }
}
