using System.Globalization;
using System.Text;

namespace NicBypass.Cli.Output;

/// <summary>
/// The command line's standard error: whatever a message echoes back (an option's value, a
/// path, a name) reaches the terminal with its control characters escaped (<c>\u001b</c>, not
/// ESC: no escape sequence retitles the window or clears the screen) and each line cut after
/// <see cref="MaxLineLength"/> characters, so a 10 MB argument does not become a 10 MB line.
/// Line feeds and tabs pass through; a bare carriage return is escaped (the live status line
/// writes its own through <see cref="WriteTrusted"/>).
/// </summary>
public sealed class SafeTextWriter : TextWriter
{
    private readonly TextWriter _inner;

    public SafeTextWriter(TextWriter inner) => _inner = inner;

    /// <summary>The longest line written; the rest of a longer one is replaced by "…".</summary>
    public const int MaxLineLength = 4096;

    private int _column;

    /// <summary>Whether <paramref name="error"/> is the process's own standard error on a terminal (where live status lines go).</summary>
    public static bool IsTerminal(TextWriter error) =>
        ReferenceEquals(error is SafeTextWriter safe ? safe._inner : error, Console.Error) && !Console.IsErrorRedirected;


    /// <summary>Writes text the program made itself (a status line with its terminal control), unescaped.</summary>
    public void WriteTrusted(string text)
    {
        _inner.Write(text);
        _column = 0;
    }

    public override Encoding Encoding => _inner.Encoding;

    public override string NewLine
    {
        get => _inner.NewLine;
#pragma warning disable CS8765 // TextWriter.NewLine's setter allows null; this one does not need to
        set => _inner.NewLine = base.NewLine = value;
#pragma warning restore CS8765
    }

    public override void Write(char value)
    {
        // A line feed passes (and the carriage return of a CRLF newline); a bare carriage return
        // from an echoed value would let it overwrite the line before: escaped.
        if (value == '\n' || value == '\r' && _inner.NewLine.Contains('\r'))
        {
            _column = 0;
            _inner.Write(value);
            return;
        }
        if (_column > MaxLineLength) return;
        if (_column == MaxLineLength)
        {
            _column++;
            _inner.Write('…');
            return;
        }
        // Control characters, line separators, and format characters such as the bidirectional
        // overrides (U+202E turns the rest of a line around): shown as escapes, never obeyed.
        if (value != '\t' && (char.IsControl(value) || value is '\u2028' or '\u2029' || char.GetUnicodeCategory(value) == UnicodeCategory.Format))
        {
            var escaped = "\\u" + ((int)value).ToString("x4", CultureInfo.InvariantCulture);
            _column += escaped.Length;
            _inner.Write(escaped);
            return;
        }
        _column++;
        _inner.Write(value);
    }

    public override void Write(string? value)
    {
        if (value is null) return;
        foreach (var c in value) Write(c);
    }

    public override void Flush() => _inner.Flush();
}
