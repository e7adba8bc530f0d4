using System.Buffers.Binary;

namespace NicBypass.Runtime.Devices;

/// <summary>
/// One direction of a wire's delay (tc netem's <c>delay TIME JITTER</c>, frames kept in order):
/// frames wait back to back in one byte arena, each with the time it is due, until the one who
/// drains the line finds them due. Bounded: a frame that does not fit is refused (the caller
/// counts it). Nothing is allocated per frame. Not thread-safe: the owner serialises calls.
/// </summary>
internal sealed class DelayLine
{
    private const int Header = sizeof(long) + sizeof(int); // due timestamp, length (a frame kept in a slot: -1 - length, then the slot)
    private byte[] _arena;
    private readonly int _maxBytes;
    private int _read;
    private int _write;
    private int _wrapAt = -1; // where the frames before a wrap end (the reader then goes back to 0)
    private long _lastDue;

    /// <param name="capacityBytes">The arena's size.</param>
    /// <param name="maxBytes">How far the arena may grow (doubling, the waiting frames moved once) when a frame does not fit; the default keeps it fixed.</param>
    public DelayLine(int capacityBytes, int maxBytes = 0)
    {
        if (capacityBytes < Header + 64) throw new ArgumentOutOfRangeException(nameof(capacityBytes), "a delay line holds at least one small frame");
        _arena = new byte[capacityBytes];
        _maxBytes = Math.Max(capacityBytes, maxBytes);
    }

    /// <summary>The arena's size now.</summary>
    public int CapacityBytes => _arena.Length;

    /// <summary>Frames waiting.</summary>
    public int Count { get; private set; }

    /// <summary>The timestamp the first waiting frame is due at (only when <see cref="Count"/> &gt; 0).</summary>
    public long NextDue => BinaryPrimitives.ReadInt64LittleEndian(_arena.AsSpan(_read));

    /// <summary>
    /// Puts <paramref name="frame"/> on the line, due at <paramref name="due"/> but never before
    /// the frame ahead of it (the line keeps its order). False when it does not fit.
    /// </summary>
    public bool TryAdd(ReadOnlySpan<byte> frame, long due)
    {
        while (!TryPlace(frame, due, -1, frame.Length))
        {
            if (!TryGrow(Header + frame.Length)) return false;
        }
        return true;
    }

    /// <summary>Puts a frame that stays in a buffer slot on the line: only its slot and length are kept.</summary>
    public bool TryAddSlot(int slot, int length, long due)
    {
        while (!TryPlace(default, due, slot, length))
        {
            if (!TryGrow(Header + sizeof(int))) return false;
        }
        return true;
    }

    // Doubles the arena (up to the maximum) with the waiting frames moved to its start, in order;
    // a span a reader holds into the old arena stays valid (the old array lives while it is read).
    private bool TryGrow(int need)
    {
        var used = Used();
        var size = _arena.Length;
        while (size - used < need && size < _maxBytes) size = (int)Math.Min((long)size * 2, _maxBytes);
        if (size - used < need) return false;
        var grown = new byte[size];
        var written = 0;
        if (Count > 0)
        {
            var first = _read;
            if (_wrapAt < 0)
            {
                _arena.AsSpan(first, _write - first).CopyTo(grown);
                written = _write - first;
            }
            else
            {
                _arena.AsSpan(first, _wrapAt - first).CopyTo(grown);
                _arena.AsSpan(0, _write).CopyTo(grown.AsSpan(_wrapAt - first));
                written = _wrapAt - first + _write;
            }
        }
        _arena = grown;
        _read = 0;
        _write = written;
        _wrapAt = -1;
        return true;
    }

    // Bytes the waiting frames' records take.
    private int Used()
    {
        if (Count == 0) return 0;
        var first = _read;
        return _wrapAt < 0 ? _write - first : _wrapAt - first + _write;
    }

    private bool TryPlace(ReadOnlySpan<byte> frame, long due, int slot, int length)
    {
        var need = Header + (slot < 0 ? frame.Length : sizeof(int));
        int at;
        if (Count == 0)
        {
            _read = _write = 0;
            _wrapAt = -1;
            _lastDue = long.MinValue; // nothing waits that a new frame could overtake
            if (need > _arena.Length) return false;
            at = 0;
        }
        else if (_wrapAt < 0)
        {
            // Waiting frames fill [_read, _write); free: [_write, end), and [0, _read) by wrapping.
            if (_arena.Length - _write >= need) at = _write;
            else if (_read >= need)
            {
                _wrapAt = _write;
                at = 0;
            }
            else return false;
        }
        else
        {
            // Wrapped: frames fill [_read, _wrapAt) and [0, _write); free is [_write, _read).
            if (_read - _write < need) return false;
            at = _write;
        }
        due = Math.Max(due, _lastDue);
        _lastDue = due;
        BinaryPrimitives.WriteInt64LittleEndian(_arena.AsSpan(at), due);
        BinaryPrimitives.WriteInt32LittleEndian(_arena.AsSpan(at + sizeof(long)), slot < 0 ? length : -1 - length);
        if (slot < 0) frame.CopyTo(_arena.AsSpan(at + Header));
        else BinaryPrimitives.WriteInt32LittleEndian(_arena.AsSpan(at + Header), slot);
        _write = at + need;
        Count++;
        return true;
    }

    /// <summary>The first waiting frame if it is due at <paramref name="now"/>; call <see cref="Remove"/> once done with it.</summary>
    public bool TryPeekDue(long now, out ReadOnlySpan<byte> frame) => TryPeekDue(now, out frame, out _, out _);

    /// <summary>As <see cref="TryPeekDue(long, out ReadOnlySpan{byte})"/>; a frame kept in a slot comes as its slot (≥ 0) and length, with no bytes.</summary>
    public bool TryPeekDue(long now, out ReadOnlySpan<byte> frame, out int slot, out int length)
    {
        frame = default;
        slot = -1;
        length = 0;
        if (Count == 0) return false;
        var at = _read;
        if (BinaryPrimitives.ReadInt64LittleEndian(_arena.AsSpan(at)) > now) return false;
        length = BinaryPrimitives.ReadInt32LittleEndian(_arena.AsSpan(at + sizeof(long)));
        if (length >= 0)
        {
            frame = _arena.AsSpan(at + Header, length);
            return true;
        }
        length = -1 - length;
        slot = BinaryPrimitives.ReadInt32LittleEndian(_arena.AsSpan(at + Header));
        return true;
    }

    /// <summary>Takes the first waiting frame off the line.</summary>
    public void Remove()
    {
        if (Count == 0) throw new InvalidOperationException("the delay line is empty");
        var at = _read;
        var length = BinaryPrimitives.ReadInt32LittleEndian(_arena.AsSpan(at + sizeof(long)));
        _read = at + Header + (length >= 0 ? length : sizeof(int));
        Count--;
        if (Count == 0)
        {
            _read = _write = 0;
            _wrapAt = -1;
        }
        else if (_wrapAt >= 0 && _read == _wrapAt)
        {
            // The frames before the wrap are gone: the reader goes back to the start now, so the
            // first record is always at _read (the peeks only read) and TryAdd sees all the free space.
            _read = 0;
            _wrapAt = -1;
        }
    }

    /// <summary>Takes every waiting frame off the line; how many there were.</summary>
    public int Clear()
    {
        var count = Count;
        Count = 0;
        _read = _write = 0;
        _wrapAt = -1;
        return count;
    }
}
