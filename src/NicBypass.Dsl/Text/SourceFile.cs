namespace NicBypass.Dsl.Text;

/// <summary>
/// One .nicdsl input: its path (as the user or the build named it) and its text. The language
/// never opens files itself; shells (CLI, generator) read them and hand them in.
/// </summary>
public sealed record SourceFile(string Path, string Text)
{
    private LineMap? _lines;

    /// <summary>Line starts of <see cref="Text"/>, computed once.</summary>
    public LineMap Lines => _lines ??= new LineMap(Text);

    /// <summary>The span of <paramref name="length"/> characters at <paramref name="start"/>.</summary>
    public TextSpan Span(int start, int length) => Lines.Span(start, length);

    /// <summary>The location of <paramref name="length"/> characters at <paramref name="start"/>.</summary>
    public SourceLocation Location(int start, int length) => new(Path, Span(start, length));
}
