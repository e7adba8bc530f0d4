using NicBypass.Runtime.Packets;

namespace NicBypass.Runtime.Stacks;

/// <summary>
/// A circular byte buffer: a TCP connection's send or receive buffer. Its memory is taken when
/// the first byte is written, so a connection that never carries data (a half-open one a SYN
/// flood made) costs none; a receive buffer may grow (<see cref="Grow"/>).
/// </summary>
internal sealed class ByteRing(int capacity)
{
    private byte[] _bytes = Array.Empty<byte>();
    private int _start;
    private int _capacity = capacity;

    public int Capacity => Volatile.Read(ref _capacity);

    private int _count;

    public int Count
    {
        get => _count;
        private set => Volatile.Write(ref _count, value);
    }

    /// <summary><see cref="Count"/> read from any thread without the owner's lock (a stale value is one a moment old).</summary>
    public int CountNow => Volatile.Read(ref _count);

    public int Free => _capacity - Count;

    /// <summary>Whether its memory has been taken.</summary>
    public bool Allocated => _bytes.Length > 0;

    /// <summary>Appends as much of <paramref name="data"/> as fits; returns how much.</summary>
    public int Write(ReadOnlySpan<byte> data)
    {
        var n = Math.Min(data.Length, Free);
        if (n == 0) return 0;
        if (_bytes.Length == 0) _bytes = new byte[_capacity];
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
        if (into.IsEmpty) return;
        var start = (_start + offset) % _bytes.Length;
        var first = Math.Min(into.Length, _bytes.Length - start);
        _bytes.AsSpan(start, first).CopyTo(into);
        _bytes.AsSpan(0, into.Length - first).CopyTo(into.Slice(first));
    }

    /// <summary>
    /// <see cref="Peek"/>, adding the bytes to a running Internet checksum as they are copied
    /// (<see cref="InternetChecksum.CopyAndAdd"/>): the sum of <c>into</c> as if it started at an even offset.
    /// </summary>
    public uint PeekAndAdd(int offset, Span<byte> into, uint sum)
    {
        if (into.IsEmpty) return sum;
        var start = (_start + offset) % _bytes.Length;
        var first = Math.Min(into.Length, _bytes.Length - start);
        sum = InternetChecksum.CopyAndAdd(sum, _bytes.AsSpan(start, first), into);
        if (first == into.Length) return sum;
        var rest = InternetChecksum.CopyAndAdd(0, _bytes.AsSpan(0, into.Length - first), into.Slice(first));
        // After an odd number of bytes the wrapped part's words straddle: its sum, byte-swapped.
        return InternetChecksum.Combine(sum, (first & 1) == 0 ? rest : InternetChecksum.AtOddOffset(rest));
    }

    /// <summary>Removes up to <c>into.Length</c> bytes into <paramref name="into"/>; returns how many.</summary>
    public int Read(Span<byte> into)
    {
        var n = Math.Min(into.Length, Count);
        Peek(0, into.Slice(0, n));
        Discard(n);
        return n;
    }

    /// <summary>Grows to <paramref name="size"/> bytes, what it holds kept in order (the owner's lock held).</summary>
    public void Grow(int size)
    {
        if (size <= _capacity) return;
        if (_bytes.Length > 0)
        {
            var bytes = new byte[size];
            Peek(0, bytes.AsSpan(0, Count));
            _bytes = bytes;
            _start = 0;
        }
        Volatile.Write(ref _capacity, size);
    }

    public void Discard(int count)
    {
        if (count == 0) return;
        _start = (_start + count) % _bytes.Length;
        Count -= count;
    }
}
