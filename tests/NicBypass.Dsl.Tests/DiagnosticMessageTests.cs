using NicBypass.Dsl.Diagnostics;
using NicBypass.Dsl.Binding;

namespace NicBypass.Dsl.Tests;

/// <summary>What a message repeats of the file: long values cut, with their true length.</summary>
public class DiagnosticMessageTests
{
    [Fact]
    public void The_longest_name_a_file_may_give_is_quoted_whole()
    {
        // A cut once counted the kind word and quotes and lost the closing quote (found by a new
        // user's drive); names are at most 255 characters now (longer is NB0001), under the cut.
        Assert.True(Identifiers.MaxNameLength < Diagnostic.MaxValueLength);
        var name = new string('a', Identifiers.MaxNameLength);
        var diagnostics = TestSources.Compile($"host h {{\n    nic n0 {{ model simnic-10g; rx-rings 4 }}\n    vm {name} on n9 {{ mac 02:00:00:00:00:01 }}\n}}\n").Diagnostics;
        var unknown = Assert.Single(diagnostics, d => d.Id == "NB0010");
        Assert.StartsWith("vm '" + name + "' ", unknown.Message, StringComparison.Ordinal);
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
