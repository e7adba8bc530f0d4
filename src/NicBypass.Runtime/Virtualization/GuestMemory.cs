namespace NicBypass.Runtime.Virtualization;

/// <summary>
/// The part of a VM's address space its interface writes received frames into: a ring of
/// fixed-size slots, reused in turn. <see cref="LastFrame"/> is the most recent frame as placed
/// (after the interface's transform).
/// </summary>
internal sealed class GuestMemory
{
    private readonly byte[] _memory;
    private readonly int _slotSize;
    private readonly int _slots;
    private int _next;
    private int _lastOffset;
    private int _lastLength;

    public GuestMemory(int slots, int slotSize)
    {
        _slots = slots;
        _slotSize = slotSize;
        _memory = new byte[slots * slotSize];
    }

    /// <summary>Frames placed so far.</summary>
    public long Frames { get; private set; }

    /// <summary>The most recent frame, as it sits in memory.</summary>
    public ReadOnlySpan<byte> LastFrame => _memory.AsSpan(_lastOffset, _lastLength);

    internal Span<byte> Place(int length)
    {
        _lastOffset = _next * _slotSize;
        _lastLength = Math.Min(length, _slotSize);
        _next = _next + 1 == _slots ? 0 : _next + 1;
        Frames++;
        return _memory.AsSpan(_lastOffset, _lastLength);
    }
}
