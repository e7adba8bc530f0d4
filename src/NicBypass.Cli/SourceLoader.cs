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
            // Strict UTF-8, or the UTF-16/32 a byte order mark names, strict too: a byte that does
            // not decode was read as U+FFFD and shown as '�' inside an unrelated error (found by a
            // new user's drive; with a BOM the reader swapped in a lenient decoder: found by review).
            using var reader = new StreamReader(stream, StrictEncodingOf(stream), detectEncodingFromByteOrderMarks: false);
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
            // Its first bytes (no more than a file may hold), to say where: a file read again; a
            // pipe cannot be (it said "Stream does not support seeking": found by review).
            byte[] head;
            try
            {
                using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                if (!stream.CanSeek) return (null, $"not UTF-8 text; save {kind} as UTF-8");
                head = new byte[(int)Math.Min(stream.Length, MaxCharacters)];
                head = head.AsSpan(0, stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false)).ToArray();
            }
            catch (IOException)
            {
                return (null, $"not UTF-8 text; save {kind} as UTF-8");
            }
            return Array.IndexOf(head, (byte)0) >= 0 && !(head.Length >= 2 && (head[0], head[1]) is (0xFF, 0xFE) or (0xFE, 0xFF) or (0, 0))
                ? (null, $"not a text file (it holds NUL bytes); {kind} is text") // a capture named by mistake
                : head.Length >= 2 && (head[0], head[1]) is (0xFF, 0xFE) or (0xFE, 0xFF) or (0, 0)
                    ? (null, $"not valid UTF-16 or UTF-32 text (its byte order mark says it is); save {kind} as UTF-8")
                    : (null, $"not UTF-8 text: {InvalidUtf8(head)}; save {kind} as UTF-8");
        }
    }

    // The strict decoder for what the stream's byte order mark says (UTF-8 without one), the
    // stream left at its start (the reader skips the mark it names).
    private static System.Text.Encoding StrictEncodingOf(Stream stream)
    {
        if (!stream.CanSeek) return new System.Text.UTF8Encoding(true, throwOnInvalidBytes: true);
        Span<byte> mark = stackalloc byte[4];
        var n = stream.ReadAtLeast(mark, 4, throwOnEndOfStream: false);
        stream.Position = 0;
        mark = mark[..n];
        if (mark.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE, 0, 0])) return new System.Text.UTF32Encoding(bigEndian: false, byteOrderMark: true, throwOnInvalidCharacters: true);
        if (mark.StartsWith((ReadOnlySpan<byte>)[0, 0, 0xFE, 0xFF])) return new System.Text.UTF32Encoding(bigEndian: true, byteOrderMark: true, throwOnInvalidCharacters: true);
        if (mark.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE])) return new System.Text.UnicodeEncoding(bigEndian: false, byteOrderMark: true, throwOnInvalidBytes: true);
        if (mark.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF])) return new System.Text.UnicodeEncoding(bigEndian: true, byteOrderMark: true, throwOnInvalidBytes: true);
        return new System.Text.UTF8Encoding(true, throwOnInvalidBytes: true); // its own mark, if it has one, is skipped
    }

    // Where the first byte that is not UTF-8 is, as "byte 0xFF at line 3, column 7" (columns in bytes).
    private static string InvalidUtf8(byte[] bytes)
    {
        var chars = new char[bytes.Length];
        var status = System.Text.Unicode.Utf8.ToUtf16(bytes, chars, out var at, out _, replaceInvalidSequences: false);
        if (status != System.Buffers.OperationStatus.InvalidData || at >= bytes.Length) return "a byte sequence that is not UTF-8";
        var line = 1;
        var lineStart = bytes.AsSpan().StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? 3 : 0; // columns after a byte order mark, as the diagnostics count them
        for (var i = 0; i < at; i++)
        {
            // A line ends at LF, CRLF or a lone CR, as the diagnostics' lines do (review).
            if (bytes[i] == (byte)'\n' || bytes[i] == (byte)'\r' && (i + 1 >= bytes.Length || bytes[i + 1] != (byte)'\n'))
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
