using System.Text.RegularExpressions;
using NicBypass.Dsl.Diagnostics;

namespace NicBypass.Dsl.Tests;

/// <summary>Every diagnostic ID is documented, described and worded by a real template.</summary>
public class DescriptorTests
{
    [Fact]
    public void Every_descriptor_has_a_message_template_a_description_and_an_absolute_help_link()
    {
        foreach (var descriptor in DiagnosticDescriptors.All)
        {
            Assert.NotEqual("{0}", descriptor.MessageFormat);
            Assert.Matches(@"\w", Regex.Replace(descriptor.MessageFormat, @"\{\d\}", ""));
            Assert.True(descriptor.Description.Length > 20, descriptor.Id);
            Assert.True(Uri.TryCreate(descriptor.HelpLink, UriKind.Absolute, out var uri) && uri.Fragment == "#" + descriptor.Id.ToLowerInvariant(), descriptor.Id);
        }
    }

    [Fact]
    public void Ids_are_unique_and_in_order()
    {
        var ids = DiagnosticDescriptors.All.Select(d => d.Id).ToList();
        Assert.Equal(ids.Distinct().Count(), ids.Count);
        Assert.Equal(ids.Order(StringComparer.Ordinal), ids);
    }

    [Fact]
    public void Every_id_has_a_section_in_the_docs_and_in_the_release_tracking_files()
    {
        var root = RepositoryRoot();
        var docs = File.ReadAllText(Path.Combine(root, "docs", "diagnostics.md"));
        var shipped = File.ReadAllText(Path.Combine(root, "generators", "NicBypass.Generators", "AnalyzerReleases.Shipped.md"))
                      + File.ReadAllText(Path.Combine(root, "generators", "NicBypass.Generators", "AnalyzerReleases.Unshipped.md"));
        foreach (var descriptor in DiagnosticDescriptors.All)
        {
            Assert.Matches(new Regex("^#+ .*" + descriptor.Id, RegexOptions.Multiline), docs);
            Assert.Matches(new Regex("^" + descriptor.Id + @"\s*\|", RegexOptions.Multiline), shipped);
        }
    }

    private static string RepositoryRoot([System.Runtime.CompilerServices.CallerFilePath] string path = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, "..", ".."));
}
