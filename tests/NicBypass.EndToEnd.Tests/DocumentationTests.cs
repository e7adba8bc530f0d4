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

    private static IEnumerable<string> Sources(string root) =>
        new[] { "src", "generators", "docs", "samples" }
            .SelectMany(d => Directory.EnumerateFiles(Path.Combine(root, d), "*", SearchOption.AllDirectories))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}"))
            .Where(f => Path.GetExtension(f) is ".cs" or ".md" or ".scriban" or ".props" or ".targets" or ".nicdsl")
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
