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

    /// <param name="slots">Slots the datapath may rent.</param>
    /// <param name="slotSize">Bytes a slot holds.</param>
    /// <param name="loanSlots">Slots beyond those, for frames a wire keeps in their slot while they
    /// travel (<see cref="TryLoan"/>).</param>
    public PacketBufferPool(int slots, int slotSize, int loanSlots = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(slots, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(slotSize, 64);
        ArgumentOutOfRangeException.ThrowIfNegative(loanSlots);
        RegularCount = slots;
        LoanLimit = loanSlots;
        slots = checked(slots + loanSlots);
        SlotCount = slots;
        SlotSize = slotSize;
        _slab = GC.AllocateUninitializedArray<byte>(checked(slots * slotSize), pinned: true);
        HugePages.Advise(_slab); // its slots are first touched as rings fill: 2 MiB at a time, where Linux allows
        // Not filled with every slot up front: a NIC's pool is hundreds of thousands of slots,
        // and writing them all touched megabytes of fresh pages while a large host was built.
        _free = GC.AllocateUninitializedArray<int>(slots);
    }

    /// <summary>Slots in the slab: those the datapath rents, and the loans' (<see cref="LoanLimit"/>).</summary>
    public int SlotCount { get; }

    /// <summary>Slots the datapath may hold at once (rented and not on loan to a wire).</summary>
    public int RegularCount { get; }

    /// <summary>Frames a wire may keep in their slots at once (<see cref="TryLoan"/>).</summary>
    public int LoanLimit { get; }

    private int _loaned;

    /// <summary>Frames a wire keeps in their slots now.</summary>
    public int Loaned => Volatile.Read(ref _loaned);

    /// <summary>Where the slab starts in memory (tests: how the kernel backs it).</summary>
    internal nint SlabAddress => System.Runtime.InteropServices.Marshal.UnsafeAddrOfPinnedArrayElement(_slab, 0);

    /// <summary>
    /// When each slot's frame arrived (its last bit off the wire, ns on the host's clock), for
    /// latency measurement; null while latency is not measured (the cost model is off).
    /// </summary>
    public long[]? ArrivedAt { get; set; }

    public int SlotSize { get; }

    // Slots whose frame one of the host's own stacks built, its checksums sealed over exactly
    // those bytes (allocated at the first; a rent clears the slot's).
    private bool[]? _sealed;

    /// <summary>
    /// Marks the frame just written into <paramref name="slot"/> as built by one of the host's own
    /// stacks, its IP and transport checksums sealed over exactly these bytes: a stack that
    /// receives it from this slot (a hairpin lends it in place) need not sum it again — the
    /// simulated NIC's receive checksum offload, as Linux's veth passes a frame its own stack
    /// checksummed on as verified. Anything written into a slot afterwards comes with a new rent,
    /// which clears the mark.
    /// </summary>
    public void MarkSealed(int slot)
    {
        // The first mark makes the array: two threads' first marks at once keep one array.
        var marks = Volatile.Read(ref _sealed) ?? Interlocked.CompareExchange(ref _sealed, new bool[SlotCount], null) ?? _sealed!;
        marks[slot] = true;
    }

    /// <summary>Whether the frame in <paramref name="slot"/> is one a stack sealed (<see cref="MarkSealed"/>).</summary>
    public bool IsSealed(int slot) => _sealed is { } marks && marks[slot];

    /// <summary>Slots not rented right now.</summary>
    public int Available => RegularCount - (Volatile.Read(ref _neverRented) - Volatile.Read(ref _freeCount) - Volatile.Read(ref _loaned));

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

    /// <summary>
    /// A wire keeps the frame in a rented slot while it travels (a hairpin's lands in this same pool,
    /// another cable's is copied out as it lands): the slot leaves the datapath's count, as the copy the wire used to keep left it — so
    /// the datapath's rents and drops are what they were with the copy. False when the loans are
    /// all out: the wire copies the frame, and the slot is returned as ever.
    /// </summary>
    public bool TryLoan()
    {
        if (Concurrent)
        {
            lock (_lock) return TryLoanCore();
        }
        return TryLoanCore();
    }

    private bool TryLoanCore()
    {
        if (_loaned >= LoanLimit) return false;
        _loaned++;
        return true;
    }

    /// <summary>A loan taken for a frame the wire could not keep after all.</summary>
    public void CancelLoan()
    {
        if (Concurrent)
        {
            lock (_lock) _loaned--;
            return;
        }
        _loaned--;
    }

    /// <summary>The frame on loan in <paramref name="slot"/> was copied where it went (another NIC's pool): the slot is free.</summary>
    public void ReturnLoan(int slot)
    {
        if (Concurrent)
        {
            lock (_lock) ReturnLoanCore(slot);
            return;
        }
        ReturnLoanCore(slot);
    }

    private void ReturnLoanCore(int slot)
    {
        Debug.Assert(_loaned > 0, "a loan ended that was never taken");
        _loaned--;
        ReturnCore(slot);
    }

    /// <summary>
    /// The frame on loan in <paramref name="slot"/> has landed: its slot is the datapath's again, as
    /// a slot rented for it would be — unless the datapath holds all it may (a rent would have
    /// failed): then the slot is freed and false returned (the frame is dropped, no-buffer).
    /// </summary>
    public bool TryEndLoan(int slot)
    {
        if (Concurrent)
        {
            lock (_lock) return TryEndLoanCore(slot);
        }
        return TryEndLoanCore(slot);
    }

    private bool TryEndLoanCore(int slot)
    {
        Debug.Assert(_loaned > 0, "a loan ended that was never taken");
        var regular = _neverRented - _freeCount - _loaned;
        _loaned--;
        if (regular < RegularCount) return true;
        ReturnCore(slot);
        return false;
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
        if (_neverRented - _freeCount - _loaned >= RegularCount)
        {
            slot = -1;
            return false;
        }
        if (_freeCount > 0)
        {
            slot = _free[--_freeCount];
            Debug.Assert((uint)slot < (uint)SlotCount, "a free-list entry names a slot outside the slab");
        }
        else if (_neverRented < SlotCount)
        {
            slot = _neverRented++;
        }
        else
        {
            slot = -1;
            return false;
        }
        if (_sealed is { } marks) marks[slot] = false; // whatever is written here now is not the frame that was sealed
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
