using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace NicBypass.Runtime.Packets;

/// <summary>
/// Carves the fixed memory of rings (descriptor rings, guest receive rings) out of shared 2 MiB
/// chunks on the pinned heap instead of giving each ring an array of its own. A host of thousands
/// of rings then builds with one allocation per chunk: each array of its own had its header
/// written (and the allocator's filler after it), so every ring touched a fresh page or two at
/// build time, and a page's first touch costs more than the rest of a ring's construction (on the
/// reference machine about 13 µs a fault: 5,000 descriptor rings took 89 ms one array each, 10 ms
/// carved). Memory is handed out uninitialized (a ring writes a slot before it reads it), each
/// piece starting on a 64-byte boundary of memory, so two rings never share a cache line. A
/// chunk lives as long as any ring carved from it (one surviving ring keeps its 2 MiB alive, and
/// the chunk being carved stays alive for the next host). A request larger than a quarter of a
/// chunk (a jumbo-frame guest ring) gets an array of its own. Thread-safe.
/// </summary>
internal static class PinnedSlab<T> where T : unmanaged
{
    private const int ChunkBytes = 2 << 20;
    private static readonly int ChunkLength = ChunkBytes / Unsafe.SizeOf<T>();
    private static readonly int Alignment = Math.Max(1, 64 / Unsafe.SizeOf<T>()); // elements per 64 bytes
    private static readonly Lock Gate = new();
    private static T[]? _chunk;
    private static int _used;
    private static int _skew; // elements before the chunk's first 64-byte boundary

    /// <summary>An uninitialized piece of <paramref name="length"/> elements.</summary>
    public static ArraySegment<T> Carve(int length)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 1);
        if (length > ChunkLength / 4) return new ArraySegment<T>(GC.AllocateUninitializedArray<T>(length, pinned: true));
        lock (Gate)
        {
            if (_chunk is null || _used + length > _chunk.Length)
            {
                _chunk = GC.AllocateUninitializedArray<T>(ChunkLength, pinned: true);
                // The array's data starts 16 bytes into its object, not on a cache line: the
                // first piece starts at the first 64-byte boundary (the pinned heap never moves it).
                var handle = GCHandle.Alloc(_chunk, GCHandleType.Pinned);
                var skewBytes = (int)(-handle.AddrOfPinnedObject() & 63);
                handle.Free();
                _skew = (skewBytes + Unsafe.SizeOf<T>() - 1) / Unsafe.SizeOf<T>();
                _used = _skew;
                Debug.Assert(_used + length <= _chunk.Length, "a piece no larger than a quarter chunk fits a fresh one");
            }
            var piece = new ArraySegment<T>(_chunk, _used, length);
            _used = Math.Min(_chunk.Length, _skew + (_used - _skew + length + Alignment - 1) / Alignment * Alignment);
            return piece;
        }
    }
}
