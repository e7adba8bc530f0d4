using System.Diagnostics;

namespace NicBypass.Runtime.Packets;

/// <summary>
/// A slab of fixed-size slots where frames live while they are in the datapath. Renting and
/// returning a slot is a push or pop on an index stack: no allocation per packet. The NIC rents a
/// slot when a frame arrives from the wire; whoever consumes the frame last returns it. A
/// group frame on several rings is one slot with several holders (<see cref="Share"/>, as a
/// STREAMS message is <c>dupb</c>'d): each holder returns it, and the last return frees it.
/// </summary>
internal sealed class PacketBufferPool
{
    private readonly byte[] _slab;
    private readonly int[] _free; // slots returned, on a stack: the last returned is rented first
    private int _freeCount;
    private int _neverRented;     // slots from here up have never been rented (taken in order after the stack)
    private int[]? _shares;       // holders of each slot beyond the first; allocated at the first share
    private readonly Lock _lock = new();

    public PacketBufferPool(int slots, int slotSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(slots, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(slotSize, 64);
        SlotCount = slots;
        SlotSize = slotSize;
        _slab = GC.AllocateUninitializedArray<byte>(checked(slots * slotSize), pinned: true);
        HugePages.Advise(_slab); // its slots are first touched as rings fill: 2 MiB at a time, where Linux allows
        // Not filled with every slot up front: a NIC's pool is hundreds of thousands of slots,
        // and writing them all touched megabytes of fresh pages while a large host was built.
        _free = GC.AllocateUninitializedArray<int>(slots);
    }

    public int SlotCount { get; }

    /// <summary>Where the slab starts in memory (tests: how the kernel backs it).</summary>
    internal nint SlabAddress => System.Runtime.InteropServices.Marshal.UnsafeAddrOfPinnedArrayElement(_slab, 0);

    /// <summary>
    /// When each slot's frame arrived (its last bit off the wire, ns on the host's clock), for
    /// latency measurement; null while latency is not measured (the cost model is off).
    /// </summary>
    public long[]? ArrivedAt { get; set; }

    public int SlotSize { get; }

    /// <summary>Slots not rented right now.</summary>
    public int Available => Volatile.Read(ref _freeCount) + (SlotCount - Volatile.Read(ref _neverRented));

    /// <summary>
    /// When true (threaded mode) rent and return take a lock, since producers and consumers run
    /// on different threads; the deterministic mode runs everything on one thread without it.
    /// </summary>
    public bool Concurrent { get; set; }

    public bool TryRent(out int slot)
    {
        if (Concurrent)
        {
            lock (_lock) return TryRentCore(out slot);
        }
        return TryRentCore(out slot);
    }

    public void Return(int slot)
    {
        if (Concurrent)
        {
            lock (_lock) ReturnCore(slot);
            return;
        }
        ReturnCore(slot);
    }

    /// <summary>Returns the slots of a whole batch of descriptors at once.</summary>
    public void Return(ReadOnlySpan<PacketDescriptor> batch)
    {
        if (Concurrent)
        {
            lock (_lock) ReturnBatchCore(batch);
            return;
        }
        ReturnBatchCore(batch);
    }

    /// <summary>
    /// Gives the frame in <paramref name="slot"/> <paramref name="extra"/> more holders, each of
    /// which returns it once; the slot is free after the last return. Holders only read it.
    /// </summary>
    public void Share(int slot, int extra)
    {
        if (Concurrent)
        {
            lock (_lock) ShareCore(slot, extra);
            return;
        }
        ShareCore(slot, extra);
    }

    private void ShareCore(int slot, int extra)
    {
        Debug.Assert((uint)slot < (uint)_neverRented && extra >= 0, "a share names a slot that is rented");
        (_shares ??= new int[SlotCount])[slot] += extra;
    }

    /// <summary>The bytes of <paramref name="slot"/> (the whole slot).</summary>
    public Span<byte> Slot(int slot) => _slab.AsSpan(slot * SlotSize, SlotSize);

    /// <summary>The frame a descriptor points at.</summary>
    public Span<byte> Frame(in PacketDescriptor descriptor) => _slab.AsSpan(descriptor.Slot * SlotSize, descriptor.Length);

    private bool TryRentCore(out int slot)
    {
        if (_freeCount == 0)
        {
            if (_neverRented == SlotCount)
            {
                slot = -1;
                return false;
            }
            slot = _neverRented++;
            return true;
        }
        slot = _free[--_freeCount];
        Debug.Assert((uint)slot < (uint)SlotCount, "a free-list entry names a slot outside the slab");
        return true;
    }

    private void ReturnBatchCore(ReadOnlySpan<PacketDescriptor> batch)
    {
        Debug.Assert(_freeCount + batch.Length <= _neverRented, "a slot was returned twice");
        var free = _free;
        var count = _freeCount;
        var shares = _shares;
        foreach (var descriptor in batch)
        {
            Debug.Assert((uint)descriptor.Slot < (uint)_neverRented && descriptor.Length <= SlotSize, "a descriptor names a slot outside the slab");
            if (shares is not null && shares[descriptor.Slot] > 0)
            {
                shares[descriptor.Slot]--; // another holder still has it
                continue;
            }
            free[count++] = descriptor.Slot;
        }
        _freeCount = count;
    }

    private void ReturnCore(int slot)
    {
        Debug.Assert(_freeCount < _neverRented, "a slot was returned twice");
        Debug.Assert((uint)slot < (uint)_neverRented, "a slot never rented was returned");
        if (_shares is { } shares && shares[slot] > 0)
        {
            shares[slot]--; // another holder still has it
            return;
        }
        _free[_freeCount++] = slot;
    }
}
