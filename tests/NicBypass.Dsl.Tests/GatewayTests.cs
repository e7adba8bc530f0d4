namespace NicBypass.Dsl.Tests;

/// <summary>The <c>gateway</c> property: one router per family, on one of the VNIC's own subnets (NB0036).</summary>
public class GatewayTests
{
    private static string Host(string vnicProperties) => $$"""
        host h {
            nic n0 { model simnic-10g; rx-rings 2 }
            container c on n0 { mac 02:00:00:00:00:01; {{vnicProperties}} }
        }
        """;

    [Theory]
    [InlineData("ip 10.0.0.2; gateway 10.0.0.1", "'ip 10.0.0.2' is a single address; give it a prefix length that holds the gateway, e.g. 'ip 10.0.0.2/24'")]
    [InlineData("ip 10.0.0.1; gateway 10.0.1.254", "e.g. 'ip 10.0.0.1/23'")] // a /24 would not hold 10.0.1.254
    [InlineData("ip fd00::2; gateway fd00:0:0:1::1", "e.g. 'ip fd00::2/63'")]
    [InlineData("ip 10.0.0.1; gateway 192.168.0.1", "no subnet narrower than /8 holds both it and the gateway")]
    [InlineData("ip 10.0.0.2/24; gateway 10.0.1.1", "it is not on any of its subnets (10.0.0.2/24)")]
    [InlineData("ip 10.0.0.2/24; gateway 10.0.0.2", "that is its own address")]
    [InlineData("ip fd00::2/64; gateway 10.0.0.1", "it has no IPv4 address")]
    [InlineData("ip dhcp; gateway 10.0.0.1", "learned by DHCP")]
    [InlineData("ip 10.0.0.2/24; gateway 224.0.0.1", "a multicast group cannot route")]
    [InlineData("ip 10.0.0.2/24; gateway 10.0.0.1; gateway 10.0.0.3", "it already has the IPv4 gateway 10.0.0.1; one router per family")]
    public void A_router_that_is_not_reachable_on_the_link_is_NB0036_with_the_reason(string properties, string reason)
    {
        var diagnostics = TestSources.Compile(Host(properties)).Diagnostics;

        var hit = Assert.Single(diagnostics, d => d.Id == "NB0036");
        Assert.Contains(reason, hit.Message);
    }

    [Theory]
    [InlineData("ip 10.0.0.255/24; gateway 10.0.0.1", "NB0038")] // its broadcast address
    [InlineData("ip 10.0.0.999/24; gateway 10.0.0.1", "NB0008")] // not an address
    [InlineData("ip fd00::zz/64; gateway fd00::1", "NB0008")]
    [InlineData("ip DHCP; gateway 10.0.0.1", "NB0008")]             // meant dhcp, which brings both families
    [InlineData("ip 10.0.0.5/24:80; gateway 10.0.0.1", "NB0008")]   // an IPv4 address with junk after it, not IPv6
    public void A_gateway_beside_a_refused_address_of_its_family_adds_no_follow_on(string properties, string refusal)
    {
        // "it has no IPv4 address" under the line's own 'ip 10.0.0.255/24' contradicted the line
        // (found by a new user): the address's own error says what is wrong.
        var diagnostics = TestSources.Compile(Host(properties)).Diagnostics;

        Assert.Single(diagnostics, d => d.Id == refusal);
        Assert.DoesNotContain(diagnostics, d => d.Id == "NB0036");
    }

    [Fact]
    public void Dhcp_in_capitals_is_offered_the_keyword()
    {
        var hit = Assert.Single(TestSources.Compile(Host("ip DHCP")).Diagnostics, d => d.Id == "NB0008");
        Assert.Contains("did you mean 'dhcp'?", hit.Message);
    }

    [Fact]
    public void An_ipv4_mapped_ipv6_address_is_refused_with_its_ipv4_spelling()
    {
        var diagnostics = TestSources.Compile(Host("ip ::ffff:10.0.0.5/120")).Diagnostics;

        var hit = Assert.Single(diagnostics, d => d.Id == "NB0008");
        Assert.Contains("an IPv4-mapped IPv6 address; write the IPv4 address itself (10.0.0.5)", hit.Message);
    }

    [Fact]
    public void One_router_per_family_on_its_subnets_is_carried_to_the_definition()
    {
        var compilation = TestSources.Compile(Host("ip 10.0.0.2/24; ip fd00::2/64; gateway 10.0.0.1 fd00::1"));

        Assert.False(compilation.HasErrors, string.Join("\n", compilation.Diagnostics));
        var vnic = compilation.Hosts[0].Definition.Vnics.Single();
        Assert.Equal(new[] { "10.0.0.1", "fd00::1" }, vnic.Gateways.Select(g => g.ToString()));
    }
}
