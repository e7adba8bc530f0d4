using System.Buffers;
using System.Text;
using Microsoft.CodeAnalysis.Text;

namespace NicBypass.Generators;

/// <summary>
/// The emitter's output: one growing character buffer borrowed from the shared array pool and
/// given back once Roslyn has its copy. A large host's source is megabytes; written into a
/// <see cref="StringBuilder"/> it was hundreds of small chunks that the garbage collector then
/// copied from generation to generation, which cost more than writing them (measured:
/// docs/benchmarks.md). Not thread-safe; use once.
/// </summary>
internal sealed class SourceBuilder : IDisposable
{
    private char[] _buffer;
    private int _length;

    public SourceBuilder(int capacity = 4096) => _buffer = ArrayPool<char>.Shared.Rent(capacity);

    public int Length => _length;

    public char this[int index] => _buffer[index];

    public SourceBuilder Append(string text)
    {
        var length = text.Length;
        if (_length + length > _buffer.Length) Grow(length);
        text.CopyTo(0, _buffer, _length, length);
        _length += length;
        return this;
    }

    public SourceBuilder Append(string text, int start, int count)
    {
        if (_length + count > _buffer.Length) Grow(count);
        text.CopyTo(start, _buffer, _length, count);
        _length += count;
        return this;
    }

    public SourceBuilder Append(char c)
    {
        if (_length == _buffer.Length) Grow(1);
        _buffer[_length++] = c;
        return this;
    }

    public SourceBuilder Append(char c, int repeat)
    {
        if (_length + repeat > _buffer.Length) Grow(repeat);
        for (var i = 0; i < repeat; i++) _buffer[_length + i] = c;
        _length += repeat;
        return this;
    }

    public override string ToString() => new(_buffer, 0, _length);

    /// <summary>The text as Roslyn keeps a large text (in chunks), with no string of the whole made on the way.</summary>
    public SourceText ToSourceText(Encoding encoding)
    {
        using var reader = new Reader(this);
        return SourceText.From(reader, _length, encoding);
    }

    public void Dispose()
    {
        var buffer = _buffer;
        _buffer = Array.Empty<char>();
        _length = 0;
        if (buffer.Length > 0) ArrayPool<char>.Shared.Return(buffer);
    }

    private void Grow(int needed)
    {
        var bigger = ArrayPool<char>.Shared.Rent(Math.Max(_buffer.Length * 2, _length + needed));
        Array.Copy(_buffer, bigger, _length);
        ArrayPool<char>.Shared.Return(_buffer);
        _buffer = bigger;
    }

    private sealed class Reader : TextReader
    {
        private readonly SourceBuilder _text;
        private int _position;

        public Reader(SourceBuilder text) => _text = text;

        public override int Peek() => _position < _text._length ? _text._buffer[_position] : -1;

        public override int Read() => _position < _text._length ? _text._buffer[_position++] : -1;

        public override int Read(char[] buffer, int index, int count)
        {
            var n = Math.Min(count, _text._length - _position);
            if (n <= 0) return 0;
            Array.Copy(_text._buffer, _position, buffer, index, n);
            _position += n;
            return n;
        }
    }
}
