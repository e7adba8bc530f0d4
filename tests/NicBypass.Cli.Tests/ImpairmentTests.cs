using NicBypass.Cli.Commands;

namespace NicBypass.Cli.Tests;

/// <summary>
/// <c>run</c>'s impairments in netem's words: a share is a percentage with '%'; a bare number is
/// refused, since netem reads 'loss 0.5' as 0.5% and a fraction would make it half of every
/// frame (found by a new user's drive: e0=0.5 lost half of Linux's pings).
/// </summary>
public class ImpairmentTests
{
    [Theory]
    [InlineData("e0=0.5%", 0.005)]
    [InlineData("e0=1%", 0.01)]
    [InlineData("e0=100%", 1.0)]
    [InlineData("e0=0", 0.0)] // nothing lost, either way it is read
    public void A_percentage_is_the_share_netem_would_apply(string item, double share)
    {
        var impairment = Impairment.Parse("loss", item, new[] { "e0" }, out var message);

        Assert.True(impairment is not null, message);
        Assert.Equal(share, impairment!.Share, 12);
    }

    [Theory]
    [InlineData("e0=0.5", "'0.5' is ambiguous: netem reads a bare number as a percentage (0.5%), and as a fraction it is 50%; write the percentage with %")]
    [InlineData("e0=1", "'1' is ambiguous: netem reads a bare number as a percentage (1%), and as a fraction it is 100%; write the percentage with %")]
    [InlineData("e0=0.01", "'0.01' is ambiguous: netem reads a bare number as a percentage (0.01%), and as a fraction it is 1%; write the percentage with %")]
    [InlineData("e0=5", "'5' is ambiguous: netem reads a bare number as a percentage (5%); write the percentage with %")]
    [InlineData("e0=150", "'150' is not a share from 0 to 100%; write a percentage, e.g. 1% or 0.5%")]
    [InlineData("e0=150%", "'150%' is not a share from 0 to 100%; write a percentage, e.g. 1% or 0.5%")]
    public void A_bare_number_is_refused_as_ambiguous_and_says_both_readings(string item, string expected)
    {
        Assert.Null(Impairment.Parse("reorder", item, new[] { "e0" }, out var message));
        Assert.Equal(expected, message);
    }

    [Theory]
    [InlineData("e0=20ms", 20_000)]
    [InlineData("e0=20MS", 20_000)] // any case, as interrupt-moderation's units (it was refused)
    [InlineData("e0=500us", 500)]
    [InlineData("e0=500µs", 500)]
    [InlineData("e0=0.1s", 100_000)]
    [InlineData("e0=0", 0)] // no time in any unit (it was refused as "not a time from 0 to 10 s")
    public void A_time_takes_its_unit_in_any_case_and_zero_needs_none(string item, long microseconds)
    {
        var impairment = Impairment.Parse("delay", item, new[] { "e0" }, out var message);

        Assert.True(impairment is not null, message);
        Assert.Equal(TimeSpan.FromMicroseconds(microseconds), impairment!.Time);
    }
}
