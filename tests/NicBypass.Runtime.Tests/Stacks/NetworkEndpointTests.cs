using NicBypass.Runtime.Stacks;

namespace NicBypass.Runtime.Tests;

/// <summary>Endpoints as values: written as Frames writes them (10.0.0.1:80, [fd00::1]:80), and read back the same way.</summary>
public class NetworkEndpointTests
{
    [Theory]
    [InlineData("10.0.0.1:80", "10.0.0.1", 80)]
    [InlineData("[fd00::1]:443", "fd00::1", 443)]
    [InlineData("10.0.0.1:0", "10.0.0.1", 0)]
    public void One_string_reads_as_the_address_and_port_it_names(string text, string address, int port)
    {
        var endpoint = NetworkEndpoint.Parse(text);

        Assert.Equal(NetworkEndpoint.Parse(address, port), endpoint);
        Assert.Equal(text, endpoint.ToString());
    }

    [Theory]
    [InlineData("10.0.0.1")]        // no port
    [InlineData("10.0.0.1:70000")]
    [InlineData("example:80")]
    [InlineData("fd00::1:80")]      // IPv6 without brackets: ambiguous
    public void A_string_that_is_not_an_address_and_port_is_refused_with_itself_in_the_message(string text)
    {
        var error = Assert.Throws<FormatException>(() => NetworkEndpoint.Parse(text));

        Assert.Contains($"'{text}' is not an address and port", error.Message);
    }

    [Fact]
    public void An_address_that_is_not_one_is_named_in_the_message()
    {
        Assert.Contains("'10.2.0.10:80' is not an IP address", Assert.Throws<FormatException>(() => NetworkEndpoint.Parse("10.2.0.10:80", 80)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => NetworkEndpoint.Parse("10.0.0.1", 70000));
    }
}
