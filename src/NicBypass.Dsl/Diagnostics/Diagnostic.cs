using System.Globalization;
using NicBypass.Dsl.Text;

namespace NicBypass.Dsl.Diagnostics;

/// <summary>
/// One reported problem, as plain data: ID, severity, the finished message, where it is and the
/// related places (the other duplicate, the VNICs that hold the rings). Value-equatable so the
/// generator can cache it; formatted exactly like compiler output by <see cref="ToString"/>.
/// </summary>
public sealed record Diagnostic(string Id, DiagnosticSeverity Severity, string Message, SourceLocation Location, EquatableArray<SourceLocation> RelatedLocations)
{
    /// <summary>Creates a diagnostic from its descriptor, filling the message template.</summary>
    public static Diagnostic Create(DiagnosticDescriptor descriptor, SourceLocation location, IEnumerable<SourceLocation>? related, params object[] args) =>
        new(descriptor.Id, descriptor.Severity, string.Format(CultureInfo.InvariantCulture, descriptor.MessageFormat, args.Select(Safe).ToArray()), location,
            (related ?? Array.Empty<SourceLocation>()).ToEquatableArray());

    /// <summary>The most characters of one value a message repeats (a 10 MB word is not a 10 MB message).</summary>
    public const int MaxValueLength = 400;

    // A value from the file goes into a message that terminals and IDEs print: control
    // characters (an ESC sequence in a name would retitle or clear the user's terminal), and the
    // invisible ones that pass for others or move text (a no-break space, a line separator that
    // splits a one-line diagnostic, a right-to-left override) are shown as \uXXXX escapes, and
    // long values are cut.
    private static object Safe(object argument)
    {
        if (argument is not string text) return argument;
        if (text.Length <= MaxValueLength) return Escape(text);
        // A long name inside a described thing ("vm 'aaa…'"): the name is cut, its quotes kept,
        // and its own length given (not the description's, quotes and kind word included).
        var open = text.IndexOf('\'');
        var close = text.LastIndexOf('\'');
        if (open >= 0 && close - open - 1 > MaxValueLength && open <= 40 && text.Length - close - 1 <= 40)
        {
            var name = text.Substring(open + 1, close - open - 1);
            return Escape(text.Substring(0, open + 1)) + Escape(name.Substring(0, MaxValueLength)) + "…' (" + Characters(name.Length) + ")" + Escape(text.Substring(close + 1));
        }
        return Escape(text.Substring(0, MaxValueLength)) + "… (" + Characters(text.Length) + ")";
    }

    private static string Characters(int count) => count.ToString("N0", CultureInfo.InvariantCulture) + " characters";

    private static string Escape(string shown)
    {
        var needsEscape = false;
        for (var i = 0; i < shown.Length && !needsEscape; i++) needsEscape = Hidden(shown, i);
        if (!needsEscape) return shown;
        var builder = new System.Text.StringBuilder(shown.Length + 16);
        for (var i = 0; i < shown.Length; i++)
        {
            var pair = char.IsSurrogatePair(shown, i);
            if (!Hidden(shown, i)) builder.Append(shown, i, pair ? 2 : 1);
            else if (pair) builder.Append("\\U").Append(char.ConvertToUtf32(shown, i).ToString("X8", CultureInfo.InvariantCulture)); // a tag character, say
            else builder.Append("\\u").Append(((int)shown[i]).ToString("X4", CultureInfo.InvariantCulture));
            if (pair) i++;
        }
        return builder.ToString();
    }

    // The character at `index` (a surrogate pair whole: the tag characters U+E0000–E007F are
    // invisible too) is a control character, or one that shows as nothing or as a plain space.
    private static bool Hidden(string text, int index) =>
        char.IsControl(text, index) || text[index] != ' ' && CharUnicodeInfo.GetUnicodeCategory(text, index) is UnicodeCategory.SpaceSeparator
            or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator or UnicodeCategory.Format;

    /// <summary><c>error</c>, <c>warning</c> or <c>info</c>, as MSBuild prints it.</summary>
    public string SeverityText => Severity switch
    {
        DiagnosticSeverity.Error => "error",
        DiagnosticSeverity.Warning => "warning",
        _ => "info",
    };

    /// <summary><c>path(line,col): error NB0007: message</c> — the format of <c>dotnet build</c>.</summary>
    public override string ToString() =>
        $"{Location.Path}({Location.Span.Line},{Location.Span.Column}): {SeverityText} {Id}: {Message}";
}
