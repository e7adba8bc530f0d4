namespace NicBypass.Dsl.Text;

/// <summary>
/// Maps character offsets to 1-based line and column. A line ends at "\n", "\r\n" or a lone
/// "\r", so files with CRLF, LF or old Mac endings all report the same lines.
/// </summary>
public sealed class LineMap
{
    private readonly int[] _starts;
    private readonly int _length;

    public LineMap(string text)
    {
        var starts = new List<int> { 0 };
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\r')
            {
                if (i + 1 < text.Length && text[i + 1] == '\n') i++;
                starts.Add(i + 1);
            }
            else if (c == '\n')
            {
                starts.Add(i + 1);
            }
        }
        _starts = starts.ToArray();
        _length = text.Length;
    }

    /// <summary>Number of lines (an empty text has one).</summary>
    public int LineCount => _starts.Length;

    /// <summary>1-based (line, column) of <paramref name="offset"/>, clamped into the text.</summary>
    public (int Line, int Column) Position(int offset)
    {
        if (offset < 0) offset = 0;
        if (offset > _length) offset = _length;
        var index = Array.BinarySearch(_starts, offset);
        if (index < 0) index = ~index - 1;
        return (index + 1, offset - _starts[index] + 1);
    }

    /// <summary>A span of <paramref name="length"/> characters at <paramref name="start"/>, clamped into the text.</summary>
    public TextSpan Span(int start, int length)
    {
        if (start < 0) start = 0;
        if (start > _length) start = _length;
        if (length < 0) length = 0;
        if (start + length > _length) length = _length - start;
        var (line, column) = Position(start);
        var (endLine, endColumn) = Position(start + length);
        return new TextSpan(start, length, line, column, endLine, endColumn);
    }
}
