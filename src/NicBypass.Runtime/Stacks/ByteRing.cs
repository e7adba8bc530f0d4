namespace NicBypass.Runtime.Stacks;

/// <summary>A fixed circular byte buffer: a TCP connection's send or receive buffer.</summary>
internal sealed class ByteRing(int capacity)
{
    private readonly byte[] _bytes = new byte[capacity];
    private int _start;

    public int Capacity => _bytes.Length;

    public int Count { get; private set; }

    public int Free => _bytes.Length - Count;

    /// <summary>Appends as much of <paramref name="data"/> as fits; returns how much.</summary>
    public int Write(ReadOnlySpan<byte> data)
    {
        var n = Math.Min(data.Length, Free);
        var end = (_start + Count) % _bytes.Length;
        var first = Math.Min(n, _bytes.Length - end);
        data.Slice(0, first).CopyTo(_bytes.AsSpan(end));
        data.Slice(first, n - first).CopyTo(_bytes);
        Count += n;
        return n;
    }

    /// <summary>Copies bytes starting <paramref name="offset"/> bytes in, without removing them.</summary>
    public void Peek(int offset, Span<byte> into)
    {
        var start = (_start + offset) % _bytes.Length;
        var first = Math.Min(into.Length, _bytes.Length - start);
        _bytes.AsSpan(start, first).CopyTo(into);
        _bytes.AsSpan(0, into.Length - first).CopyTo(into.Slice(first));
    }

    /// <summary>Removes up to <c>into.Length</c> bytes into <paramref name="into"/>; returns how many.</summary>
    public int Read(Span<byte> into)
    {
        var n = Math.Min(into.Length, Count);
        Peek(0, into.Slice(0, n));
        Discard(n);
        return n;
    }

    public void Discard(int count)
    {
        _start = (_start + count) % _bytes.Length;
        Count -= count;
    }
}
