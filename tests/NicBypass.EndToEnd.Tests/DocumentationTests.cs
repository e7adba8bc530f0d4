using System.Text.RegularExpressions;

namespace NicBypass.EndToEnd.Tests;

/// <summary>The docs stand on their own: they cite only files in the repository.</summary>
public partial class DocumentationTests
{
    [Fact]
    public void No_doc_source_or_generated_template_cites_a_design_file_the_repository_does_not_hold()
    {
        var root = RepositoryRoot();
        var citing = Sources(root)
            .Where(f => File.ReadAllText(f).Contains("DESIGN.md", StringComparison.Ordinal))
            .Select(f => Path.GetRelativePath(root, f))
            .ToList();

        Assert.False(File.Exists(Path.Combine(root, "DESIGN.md")));
        Assert.Empty(citing);
    }

    [Fact]
    public void Every_relative_link_in_the_readme_and_docs_names_a_file_that_exists()
    {
        var root = RepositoryRoot();
        var broken = new List<string>();
        foreach (var file in Directory.GetFiles(Path.Combine(root, "docs"), "*.md").Append(Path.Combine(root, "README.md")))
        {
            foreach (Match link in MarkdownLink().Matches(File.ReadAllText(file)))
            {
                var target = link.Groups[1].Value;
                if (target.Contains("://", StringComparison.Ordinal) || target.StartsWith('#') || target.StartsWith("mailto:", StringComparison.Ordinal)) continue;
                var path = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, target.Split('#')[0]));
                if (!File.Exists(path) && !Directory.Exists(path)) broken.Add($"{Path.GetRelativePath(root, file)}: {target}");
            }
        }
        Assert.Empty(broken);
    }

    [Fact]
    public void No_doc_cites_a_bare_section_number_of_that_design_file()
    {
        var root = RepositoryRoot();
        // "§5" alone meant a section of the design brief; "RFC 9293 §3.8" and "README.md § Real peers" are fine.
        var bare = new Regex(@"(?<!RFC [0-9]{3,5} )(?<![0-9] )§[0-9]");
        var citing = Sources(root).Where(f => bare.IsMatch(File.ReadAllText(f))).Select(f => Path.GetRelativePath(root, f)).ToList();

        Assert.Empty(citing);
    }

    private static IEnumerable<string> Sources(string root) =>
        new[] { "src", "generators", "docs", "samples", "tests" }
            .SelectMany(d => Directory.EnumerateFiles(Path.Combine(root, d), "*", SearchOption.AllDirectories))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}"))
            .Where(f => Path.GetExtension(f) is ".cs" or ".md" or ".scriban" or ".props" or ".targets" or ".nicdsl" or ".csproj" or ".sh")
            .Where(f => Path.GetFileName(f) != "DocumentationTests.cs")
            .Append(Path.Combine(root, "README.md"));

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "NicBypass.sln"))) return directory.FullName;
        }
        throw new InvalidOperationException("NicBypass.sln not found above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex(@"\]\(([^)\s]+)\)")]
    private static partial Regex MarkdownLink();
}
