namespace NicBypass.Dsl.Tests;

/// <summary>`interrupt-moderation` on a NIC: ethtool's rx-usecs in the language, carried to the build steps.</summary>
public class InterruptModerationPropertyTests
{
    private static string Host(string value) =>
        $"host h {{\n    nic e0 {{ model simnic-10g; rx-rings 2; interrupt-moderation {value} }}\n    vm v on e0 {{ mac 02:00:00:00:00:01 }}\n}}\n";

    [Theory]
    [InlineData("8us", 8)]
    [InlineData("250us", 250)]
    [InlineData("1ms", 1000)]
    [InlineData("1000ms", 1_000_000)]
    [InlineData("0", 0)]
    [InlineData("adaptive", -1)]
    public void A_delay_in_microseconds_or_milliseconds_reaches_the_nic_and_its_build_step(string value, int microseconds)
    {
        var compilation = TestSources.Compile(Host(value));

        Assert.Empty(compilation.Errors());
        var host = Assert.Single(compilation.Hosts);
        Assert.Equal(microseconds, Assert.Single(host.Definition.Nics).InterruptModerationMicroseconds);
        var step = Lowering.HostLowering.Lower(host.Definition, host.Plan).Steps.OfType<Lowering.AddNicStep>().Single();
        Assert.Equal(microseconds, step.InterruptModerationMicroseconds);
    }

    [Theory]
    [InlineData("8")]      // no unit
    [InlineData("2s")]     // not a unit it takes
    [InlineData("1001ms")] // past a second
    [InlineData("-5us")]
    [InlineData("99999999999us")]
    public void Anything_else_is_a_located_error_that_says_how_to_write_it(string value)
    {
        var compilation = TestSources.Compile(Host(value));

        var error = Assert.Single(compilation.Errors());
        Assert.Equal("NB0014", error.Id);
        Assert.Equal((2, 65), (error.Location.Span.Line, error.Location.Span.Column));
        Assert.Contains("e.g. 8us or 1ms (0: off)", error.Message);
    }

    [Theory]
    [InlineData("Adaptive", "did you mean 'adaptive'? (lower case)")]
    [InlineData("1.5ms", "the file takes whole units: write 1500us")]
    [InlineData("1.5us", "the file takes a whole number of microseconds or milliseconds, e.g. 8us or 1ms")]
    public void A_slip_the_command_line_forgives_is_named_in_the_file(string value, string message)
    {
        // simulate --interrupt-moderation takes these (any case, fractions); the file says what to write.
        var error = Assert.Single(TestSources.Compile(Host(value)).Errors());

        Assert.Equal("NB0014", error.Id);
        Assert.EndsWith(message, error.Message);
    }
}
