using NicBypass.Dsl.Diagnostics;

namespace NicBypass.Dsl.Tests;

/// <summary>What a message repeats of the file: long values cut, with their true length.</summary>
public class DiagnosticMessageTests
{
    [Fact]
    public void A_long_name_is_cut_inside_its_quotes_with_its_own_length()
    {
        // The cut counted the kind word and quotes ("(5,005 characters)") and lost the closing
        // quote (found by a new user's drive).
        var name = new string('a', 5000);
        var diagnostics = TestSources.Compile($"host h {{\n    nic n0 {{ model simnic-10g; rx-rings 4 }}\n    vm {name} on n9 {{ mac 02:00:00:00:00:01 }}\n}}\n").Diagnostics;
        var unknown = Assert.Single(diagnostics, d => d.Id == "NB0010");
        Assert.StartsWith("vm '" + new string('a', Diagnostic.MaxValueLength) + "…' (5,000 characters) ", unknown.Message, StringComparison.Ordinal);
        Assert.Contains("'n9'", unknown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_long_value_is_cut_with_its_length()
    {
        var mac = new string('0', 1000);
        var diagnostics = TestSources.Compile($"host h {{\n    nic n0 {{ model simnic-10g; rx-rings 4 }}\n    vm a on n0 {{ mac {mac} }}\n}}\n").Diagnostics;
        var malformed = Assert.Single(diagnostics, d => d.Id == "NB0005");
        Assert.Contains(new string('0', Diagnostic.MaxValueLength) + "… (1,000 characters)", malformed.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(new string('0', Diagnostic.MaxValueLength + 1), malformed.Message, StringComparison.Ordinal);
    }
}
