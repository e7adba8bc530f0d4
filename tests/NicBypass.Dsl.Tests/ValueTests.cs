using NicBypass.Dsl.Values;

namespace NicBypass.Dsl.Tests;

public class ValueTests
{
    [Theory]
    [InlineData("64K", 64_000UL)]
    [InlineData("500M", 500_000_000UL)]
    [InlineData("2.5G", 2_500_000_000UL)]
    [InlineData("10Gbps", 10_000_000_000UL)]
    [InlineData("1.5kbps", 1_500UL)]
    [InlineData("100G", 100_000_000_000UL)]
    [InlineData("1.00000000000000000000G", 1_000_000_000UL)]   // zeros that say nothing are not "too many digits"
    [InlineData("000000000000000000001M", 1_000_000UL)]
    public void Rates_parse_with_decimal_units(string text, ulong bits)
    {
        Assert.True(BitRate.TryParse(text, out var rate, out _));
        Assert.Equal(bits, rate.BitsPerSecond);
    }

    [Theory]
    [InlineData("100", "unit")]
    [InlineData("0M", "positive")]
    [InlineData("0", "a rate must be positive")] // not "needs a unit", then "must be positive" once one is given (found by a new user's drive)
    [InlineData("0.0", "a rate must be positive")]
    [InlineData("G", "number")]
    [InlineData("1.2.3G", "number")]
    [InlineData("-5M", "cannot be negative")]
    [InlineData("0.0001K", "whole number")]
    [InlineData("99999999999999999999G", "too large")]
    [InlineData("bps", "number")]
    [InlineData("1.000000000000000000001G", "more digits than a rate needs")]
    [InlineData("123456789012345678901K", "too large")]
    [InlineData("100Mbit", "the unit 'Mbit' is not recognised: write K, M or G (bits per second, decimal), optionally followed by bps, e.g. 100M or 100Mbps")]
    [InlineData("5Gb/s", "the unit 'Gb/s' is not recognised")]
    [InlineData("10MB", "the unit 'MB' is not recognised")]
    [InlineData("1,000M", "a rate has no thousands separators: write 1000M, not 1,000M")]
    [InlineData("1,5G", "a rate has a decimal point, not a comma: write 1.5G, not 1,5G")]
    [InlineData("5 M", "a rate is written without a space: write 5M, not 5 M")]
    [InlineData("5, M", "the unit ', M' is not recognised")] // no spelling of it parses: nothing suggested
    public void Bad_rates_say_why(string text, string reason)
    {
        Assert.False(BitRate.TryParse(text, out _, out var error));
        Assert.Contains(reason, error);
    }

    [Theory]
    [InlineData(2_500_000_000UL, "2.5G")]
    [InlineData(64_000UL, "64K")]
    [InlineData(500_000_000UL, "500M")]
    [InlineData(999UL, "999bps")]
    public void Rates_print_in_their_shortest_exact_form(ulong bits, string text) =>
        Assert.Equal(text, new BitRate(bits).ToString());

    [Theory]
    [InlineData("02:08:20:ac:00:01", 0x020820AC0001UL)]
    [InlineData("02-08-20-AC-00-01", 0x020820AC0001UL)]
    [InlineData("ff:ff:ff:ff:ff:ff", 0xFFFFFFFFFFFFUL)]
    public void Macs_parse_to_one_48_bit_integer(string text, ulong value)
    {
        Assert.True(MacAddress.TryParse(text, out var mac));
        Assert.Equal(value, mac.Value);
    }

    [Theory]
    [InlineData("02:08:20:ac:00")]
    [InlineData("02:08:20:ac:00:01:02")]
    [InlineData("02:08:20:ac:00:g1")]
    [InlineData("02:08:20:ac:00:123")]
    [InlineData("02:08:20:ac::01")]
    [InlineData("2:0:0:0:0:1")]      // one digit: passed for 02:00:00:00:00:01 (found by a drive)
    [InlineData("02-8-20-ac-00-01")]
    public void Malformed_macs_are_rejected(string text) => Assert.False(MacAddress.TryParse(text, out _));

    [Fact]
    public void Group_bit_and_broadcast_are_recognised()
    {
        Assert.True(new MacAddress(0x01005E000001UL).IsGroup);
        Assert.True(MacAddress.Broadcast.IsGroup);
        Assert.False(new MacAddress(0x020820AC0001UL).IsGroup);
        Assert.Equal("02:08:20:ac:00:01", new MacAddress(0x020820AC0001UL).ToString());
    }

    [Theory]
    [InlineData("192.168.10.11/24", false, 24, "192.168.10.11/24")]
    [InlineData("10.0.0.1", false, 32, "10.0.0.1/32")]
    [InlineData("fd00::11", true, 128, "fd00::11/128")]
    [InlineData("fd00::11/64", true, 64, "fd00::11/64")]
    public void Ip_prefixes_parse(string text, bool v6, int length, string printed)
    {
        Assert.True(IpPrefix.TryParse(text, out var prefix, out _));
        Assert.Equal(v6, prefix.Address.IsV6);
        Assert.Equal(length, prefix.PrefixLength);
        Assert.Equal(printed, prefix.ToString());
    }

    [Theory]
    [InlineData("10.0.0.256")]
    [InlineData("10.0.0")]
    [InlineData("10.0.0.1/33")]
    [InlineData("10.0.0.1/")]
    [InlineData("1")]
    [InlineData("fd00::11/129")]
    [InlineData("fe80::1%eth0")]
    [InlineData("fd00:::1")]
    [InlineData("+1.2.3.4")]
    [InlineData("[fd00::1]")]        // a URL's form: .NET took "[fd00::1]:80" and dropped the port (found by a drive)
    [InlineData("[fd00::1]:80")]
    [InlineData("[fd00::1]:80/64")]
    [InlineData("010.000.000.001")] // octal to inet_aton (8.0.0.1), refused by inet_pton: it was read as 10.0.0.1 (found by a new user's drive)
    [InlineData("10.0.0.01")]
    public void Malformed_ips_are_rejected(string text) => Assert.False(IpPrefix.TryParse(text, out _, out _));

    [Fact]
    public void A_leading_zero_says_how_else_it_reads()
    {
        Assert.False(IpAddress.TryParse("010.0.0.1", out _, out var error));
        Assert.Equal("'010' has a leading zero, which some tools read as octal (8); write 10", error);
        Assert.True(IpAddress.TryParse("10.0.0.0", out _, out _)); // a zero alone is a zero
    }
}
