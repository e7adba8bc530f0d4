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
                var (text, refusal) = Read(path);
                if (refusal is not null)
                {
                    error.WriteLine($"{path}: error: {refusal}");
                    return null;
                }
                files.Add(new SourceFile(path, text!));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                error.WriteLine($"{path}: error: cannot read the file: {ex.Message}");
                return null;
            }
        }
        return files;
    }

    /// <summary>The most characters a .nicdsl file (or a plan's JSON) may hold (a 4,000-VNIC host is under 1 MB).</summary>
    internal const int MaxCharacters = 64 * 1024 * 1024;

    // The file's text, read a block at a time, or why it is not a .nicdsl file: a NUL byte (a
    // capture or a binary named by mistake, not echoed into a syntax error), or more than
    // MaxCharacters (a 1 GB file, or /dev/zero, was read whole and ran out of memory with a
    // stack trace: found by a new user's drive).
    internal static (string? Text, string? Refusal) Read(string path, string kind = "a .nicdsl file")
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            // Strict UTF-8 (or what a byte order mark says): a byte that is not UTF-8 was read as
            // U+FFFD and shown as '�' inside an unrelated error (found by a new user's drive).
            using var reader = new StreamReader(stream, new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true), detectEncodingFromByteOrderMarks: true);
            var text = new System.Text.StringBuilder();
            var block = new char[64 * 1024];
            int n;
            while ((n = reader.Read(block, 0, block.Length)) > 0)
            {
                if (Array.IndexOf(block, '\0', 0, n) >= 0) return (null, $"not a text file (it holds NUL bytes); {kind} is text");
                if (text.Length + n > MaxCharacters) return (null, $"too large for {kind} (more than {MaxCharacters / (1024 * 1024)} MiB of text)");
                text.Append(block, 0, n);
            }
            return (text.ToString(), null);
        }
        catch (System.Text.DecoderFallbackException)
        {
            // Its first bytes (no more than a file may hold), to say where.
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            var head = new byte[(int)Math.Min(stream.Length > 0 ? stream.Length : MaxCharacters, MaxCharacters)];
            head = head.AsSpan(0, stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false)).ToArray();
            return Array.IndexOf(head, (byte)0) >= 0
                ? (null, $"not a text file (it holds NUL bytes); {kind} is text") // a capture named by mistake
                : (null, $"not UTF-8 text: {InvalidUtf8(head)}; save {kind} as UTF-8");
        }
    }

    // Where the first byte that is not UTF-8 is, as "byte 0xFF at line 3, column 7" (columns in bytes).
    private static string InvalidUtf8(byte[] bytes)
    {
        var chars = new char[bytes.Length];
        var status = System.Text.Unicode.Utf8.ToUtf16(bytes, chars, out var at, out _, replaceInvalidSequences: false);
        if (status != System.Buffers.OperationStatus.InvalidData || at >= bytes.Length) return "a byte sequence that is not UTF-8";
        var line = 1;
        var lineStart = 0;
        for (var i = 0; i < at; i++)
        {
            if (bytes[i] == (byte)'\n')
            {
                line++;
                lineStart = i + 1;
            }
        }
        return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"byte 0x{bytes[at]:X2} at line {line}, column {at - lineStart + 1} is not valid UTF-8");
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
