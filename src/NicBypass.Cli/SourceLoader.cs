using NicBypass.Dsl;
using NicBypass.Dsl.Text;

namespace NicBypass.Cli;

/// <summary>Reads the .nicdsl files named on the command line. Paths stay as the user wrote them,
/// so diagnostics name files the way the user knows them.</summary>
internal static class SourceLoader
{
    /// <summary>The files, or null after printing why one could not be read.</summary>
    public static IReadOnlyList<SourceFile>? Load(IEnumerable<string> paths, TextWriter error)
    {
        var files = new List<SourceFile>();
        foreach (var path in paths)
        {
            try
            {
                files.Add(new SourceFile(path, File.ReadAllText(path)));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                error.WriteLine($"{path}: error: cannot read the file: {ex.Message}");
                return null;
            }
        }
        return files;
    }

    /// <summary>
    /// Reads and compiles the files, printing every diagnostic to <paramref name="error"/>; the
    /// compilation when it has no errors, otherwise null (for commands that need a plan).
    /// </summary>
    public static DslCompilation? CompileOrReport(IEnumerable<string> paths, TextWriter error)
    {
        var sources = Load(paths, error);
        if (sources is null) return null;
        var compilation = DslCompiler.Compile(sources);
        foreach (var diagnostic in compilation.Diagnostics) error.WriteLine(diagnostic.ToString());
        return compilation.HasErrors ? null : compilation;
    }
}
