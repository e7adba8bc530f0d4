namespace NicBypass.Dsl.Text;

/// <summary>
/// A range of characters in one source text: offset and length for tools, 1-based line and
/// column (start and end) for people and for build output.
/// </summary>
public readonly record struct TextSpan(int Start, int Length, int Line, int Column, int EndLine, int EndColumn)
{
    /// <summary>Offset just past the last character.</summary>
    public int End => Start + Length;

    /// <summary>A span that covers this one and <paramref name="other"/>.</summary>
    public TextSpan Union(TextSpan other)
    {
        var first = Start <= other.Start ? this : other;
        var last = End >= other.End ? this : other;
        return new TextSpan(first.Start, last.End - first.Start, first.Line, first.Column, last.EndLine, last.EndColumn);
    }

    public override string ToString() => $"({Line},{Column})-({EndLine},{EndColumn})";
}
