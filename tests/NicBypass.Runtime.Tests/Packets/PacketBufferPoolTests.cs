using NicBypass.Runtime.Packets;

namespace NicBypass.Runtime.Tests;

/// <summary>
/// The buffer pool: a slot returned is rented again first (warm), and a slot shared by several
/// holders is free only after the last of them returns it, however the returns are mixed.
/// </summary>
public class PacketBufferPoolTests
{
    [Fact]
    public void The_slot_returned_last_is_rented_first()
    {
        var pool = new PacketBufferPool(8, 64);
        Assert.True(pool.TryRent(out var a));
        Assert.True(pool.TryRent(out var b));
        pool.Return(a);
        Assert.True(pool.TryRent(out var again));
        Assert.Equal(a, again);
        Assert.NotEqual(a, b);
    }

    [Fact]
    public void A_shared_slot_is_free_only_after_every_holder_returns_it_singly_or_in_batches()
    {
        var pool = new PacketBufferPool(4, 64);
        var random = new Random(3);
        for (var round = 0; round < 2_000; round++)
        {
            Assert.True(pool.TryRent(out var slot));
            var holders = random.Next(1, 6);
            pool.Share(slot, holders - 1);
            for (var h = 0; h < holders; h++)
            {
                Assert.Equal(3, pool.Available); // still held
                if (random.Next(2) == 0) pool.Return(slot);
                else pool.Return([new PacketDescriptor(slot, 60)]);
            }
            Assert.Equal(4, pool.Available);
        }
        // Shares and plain slots side by side in one batch.
        Assert.True(pool.TryRent(out var shared));
        Assert.True(pool.TryRent(out var plain));
        pool.Share(shared, 1);
        pool.Return([new PacketDescriptor(shared, 60), new PacketDescriptor(plain, 60)]);
        Assert.Equal(3, pool.Available);
        pool.Return(shared);
        Assert.Equal(4, pool.Available);
    }

    [Fact]
    public void A_large_pool_asks_linux_for_huge_pages()
    {
        // 48 MiB of 2,048-byte slots. Whether the kernel then finds whole 2 MiB pages depends on
        // the memory the runtime hands over (fresh, or reused by an earlier test); the advice is
        // what the pool gives, and the kernel records it on the mapping (VmFlags "hg").
        var pool = new PacketBufferPool(24 * 1024, 2048);
        while (pool.TryRent(out var slot)) pool.Slot(slot).Fill(1);
        if (!OperatingSystem.IsLinux() || !Directory.Exists("/sys/kernel/mm/transparent_hugepage")) return;
        var flags = VmFlagsAt(pool.SlabAddress + (4 << 20)); // inside the advised part: madvise gave it a mapping of its own
        Assert.Contains("hg", flags.Split(' ', StringSplitOptions.RemoveEmptyEntries));
    }

    // The VmFlags of the mapping that holds `address`, from /proc/self/smaps.
    private static string VmFlagsAt(nint address)
    {
        var inside = false;
        foreach (var line in File.ReadLines("/proc/self/smaps"))
        {
            var dash = line.IndexOf('-');
            var space = line.IndexOf(' ');
            if (dash > 0 && space > dash && ulong.TryParse(line.AsSpan(0, dash), System.Globalization.NumberStyles.HexNumber, null, out var from)
                && ulong.TryParse(line.AsSpan(dash + 1, space - dash - 1), System.Globalization.NumberStyles.HexNumber, null, out var to))
            {
                inside = (ulong)address >= from && (ulong)address < to;
                continue;
            }
            if (inside && line.StartsWith("VmFlags:", StringComparison.Ordinal)) return line["VmFlags:".Length..];
        }
        return "";
    }

    [Fact]
    public void A_loaned_slot_leaves_the_datapaths_count_and_comes_back_only_where_a_rent_would_have_been_granted()
    {
        // Two slots for the datapath, one for a wire's loan: the datapath never holds more than
        // two, loan or not, so its rents and drops are what they were when the wire copied.
        var pool = new PacketBufferPool(2, 64, loanSlots: 1);
        Assert.True(pool.TryRent(out var a));
        Assert.True(pool.TryRent(out var b));
        Assert.False(pool.TryRent(out _)); // the loan's slot is not the datapath's
        Assert.Equal(0, pool.Available);

        Assert.True(pool.TryLoan()); // a is on the wire now
        Assert.False(pool.TryLoan()); // one loan at a time
        Assert.Equal(1, pool.Available);
        Assert.True(pool.TryRent(out var c)); // as the copy's return of a would have allowed
        Assert.False(pool.TryEndLoan(a)); // it lands while the datapath holds two: no buffer, freed
        Assert.Equal(0, pool.Loaned);
        Assert.Equal(0, pool.Available);

        pool.Return(c);
        Assert.True(pool.TryLoan()); // b on the wire
        Assert.Equal(2, pool.Available);
        Assert.True(pool.TryEndLoan(b)); // lands with room: it is the datapath's again
        Assert.Equal(1, pool.Available);
        pool.Return(b);
        Assert.Equal(2, pool.Available);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void A_slot_is_sealed_only_for_the_frame_marked_and_its_next_rent_clears_it()
    {
        // The mark says a stack sealed the bytes in the slot: whatever a later rent writes there
        // is another frame, summed again where it lands.
        var pool = new PacketBufferPool(2, 64);
        Assert.True(pool.TryRent(out var a));
        Assert.False(pool.IsSealed(a));
        pool.MarkSealed(a);
        Assert.True(pool.IsSealed(a));
        pool.Return(a);
        Assert.True(pool.TryRent(out var again));
        Assert.Equal(a, again); // the slot returned last is rented first
        Assert.False(pool.IsSealed(again));
        Assert.True(pool.TryRent(out var fresh)); // never rented before the marks existed
        Assert.False(pool.IsSealed(fresh));
    }
}
