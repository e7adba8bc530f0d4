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
        var seen = new Dictionary<string, string>(StringComparer.Ordinal); // full path → as first named
        foreach (var path in paths)
        {
            // An option the command does not know arrives as one more file name: said as such.
            if (path.StartsWith('-') && path.Length > 1 && !File.Exists(path))
            {
                error.WriteLine($"error: unknown option '{path}' (see --help for this command's options)");
                return null;
            }
            if (Directory.Exists(path))
            {
                error.WriteLine($"{path}: error: is a directory; name the .nicdsl files in it");
                return null;
            }
            string full;
            try
            {
                full = Path.GetFullPath(path);
                // A link to a file named beside it is that file too.
                if (new FileInfo(full).ResolveLinkTarget(returnFinalTarget: true) is { } target) full = Path.GetFullPath(target.FullName);
            }
            catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException or IOException or UnauthorizedAccessException)
            {
                full = path; // read below, and said there what is wrong with it
            }
            if (seen.TryGetValue(full, out var first))
            {
                // The same file twice ('a.nicdsl ./a.nicdsl'): read once, or its hosts were
                // duplicates of themselves (NB0003; found by a new user's drive).
                error.WriteLine($"{path}: note: the same file as {first}; read once");
                continue;
            }
            seen.Add(full, path);
            try
            {
                var text = File.ReadAllText(path);
                if (text.IndexOf('\0') >= 0)
                {
                    // A capture or a binary named by mistake: said so, not echoed into a syntax error.
                    error.WriteLine($"{path}: error: not a text file (it holds NUL bytes); a .nicdsl file is text");
                    return null;
                }
                files.Add(new SourceFile(path, text));
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
