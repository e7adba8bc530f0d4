using System.Text;

namespace NicBypass.Generators;

/// <summary>
/// Reads a <see cref="StringBuilder"/>'s text without making one string of it, for
/// <c>SourceText.From(TextReader, int, …)</c>, which keeps a large text in chunks.
/// </summary>
internal sealed class StringBuilderReader : TextReader
{
    private readonly StringBuilder _text;
    private int _position;

    public StringBuilderReader(StringBuilder text) => _text = text;

    public override int Peek() => _position < _text.Length ? _text[_position] : -1;

    public override int Read() => _position < _text.Length ? _text[_position++] : -1;

    public override int Read(char[] buffer, int index, int count)
    {
        var n = Math.Min(count, _text.Length - _position);
        if (n <= 0) return 0;
        _text.CopyTo(_position, buffer, index, n);
        _position += n;
        return n;
    }
}
