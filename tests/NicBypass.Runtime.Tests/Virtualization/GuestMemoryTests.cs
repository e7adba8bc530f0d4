using NicBypass.Runtime.Virtualization;

namespace NicBypass.Runtime.Tests;

/// <summary>
/// The guest receive ring packs frames one after another in its buffer (as virtio's mergeable
/// receive buffers do) instead of one maximum-sized slot each: small frames touch little memory,
/// and however sizes mix, a frame never overwrites one the guest has not taken yet.
/// </summary>
public class GuestMemoryTests
{
    [Fact]
    public void Small_frames_sit_one_cache_line_after_another_not_a_slot_apart()
    {
        var memory = new GuestMemory(256, 1536);
        for (var i = 0; i < 10; i++)
        {
            Assert.True(memory.TryReserve(60, out var slot));
            slot.Fill((byte)i);
            memory.Publish();
            Assert.Equal(i * 64, memory.LastOffset); // a slot apart would be i * 1,536
        }
        for (var i = 0; i < 10; i++)
        {
            Assert.True(memory.TryPeek(out var frame));
            Assert.Equal(60, frame.Length);
            Assert.All(frame.ToArray(), b => Assert.Equal((byte)i, b));
            memory.Release();
        }
        Assert.False(memory.TryPeek(out _));
    }

    [Fact]
    public void A_ring_the_guest_has_emptied_starts_again_at_the_beginning()
    {
        // A guest that keeps up takes each frame before the next comes: every frame lands in the
        // first cache lines, warm, instead of walking through the ring's buffer (1.5 MB here).
        var memory = new GuestMemory(1024, 1536);
        for (var i = 0; i < 100; i++)
        {
            Assert.True(memory.TryReserve(1000, out var slot));
            slot.Fill((byte)i);
            memory.Publish();
            Assert.Equal(0, memory.LastOffset);
            Assert.True(memory.TryPeek(out var frame));
            Assert.Equal((byte)i, frame[999]);
            memory.Release();
        }
        // A frame the guest still holds is not written over: the next goes after it.
        Assert.True(memory.TryReserve(1000, out var held));
        held.Fill(1);
        memory.Publish();
        Assert.True(memory.TryReserve(1000, out var next));
        next.Fill(2);
        memory.Publish();
        Assert.Equal(1024, memory.LastOffset);
        Assert.True(memory.TryPeek(out var first));
        Assert.All(first.ToArray(), b => Assert.Equal(1, b));
    }

    [Fact]
    public void Frames_of_every_size_through_many_wraps_come_out_as_they_went_in()
    {
        const int Slots = 16, SlotSize = 1536;
        PlaceAndTake([new GuestMemory(Slots, SlotSize)], Slots, SlotSize, steps: 20_000, seed: 7);
    }

    // Random frames (a third of them the largest) placed into and taken from the rings in random
    // turns, each ring kept between empty and full in bursts either way: every frame taken must
    // be the one placed, byte for byte.
    private static void PlaceAndTake(GuestMemory[] memories, int slots, int slotSize, int steps, int seed)
    {
        var expected = memories.Select(_ => new Queue<(int Length, byte Seed)>()).ToArray();
        var random = new Random(seed);
        var placed = 0;
        for (var step = 0; step < steps; step++)
        {
            var m = random.Next(memories.Length);
            var memory = memories[m];
            if (random.Next(3) != 0 && memory.Count < slots)
            {
                var length = random.Next(3) == 0 ? slotSize : random.Next(1, slotSize);
                var fill = (byte)placed++;
                Assert.True(memory.TryReserve(length, out var slot));
                for (var i = 0; i < slot.Length; i++) slot[i] = (byte)(fill + i);
                memory.Publish();
                expected[m].Enqueue((length, fill));
            }
            else if (memory.TryPeek(out var frame))
            {
                var (length, fill) = expected[m].Dequeue();
                Assert.Equal(length, frame.Length);
                for (var i = 0; i < frame.Length; i++) Assert.Equal((byte)(fill + i), frame[i]);
                memory.Release();
            }
        }
    }

    [Fact]
    public void Rings_carved_side_by_side_never_write_into_each_other()
    {
        // Guest rings share pinned chunks (PinnedSlab): three built one after another sit next to
        // each other; each wraps many times at its own end, never past it into its neighbour.
        const int Slots = 8, SlotSize = 1536;
        var memories = Enumerable.Range(0, 3).Select(_ => new GuestMemory(Slots, SlotSize)).ToArray();
        PlaceAndTake(memories, Slots, SlotSize, steps: 30_000, seed: 11);
    }

    [Fact]
    public void A_thousand_guest_rings_are_built_without_touching_their_memory()
    {
        // A 4,000-VNIC host has 1,333 VMs, each with a 400 KB guest ring: an array of its own
        // each touched a fresh page at build time; carved from shared 2 MiB chunks, one page a
        // chunk, the rest not until frames arrive: 1,012 pages for these on the old code, about
        // 170 now, in a process of their own. (Rings of 32 descriptors of 9 KB, six to a chunk:
        // the small arrays beside each ring stay well under a page a ring.)
        var memories = new GuestMemory[1_000];
        var faults = PageFaults.During(() =>
        {
            for (var i = 0; i < memories.Length; i++) memories[i] = new GuestMemory(32, 9216);
        });
        Assert.True(faults < 500, $"{faults} fresh pages touched building {memories.Length} guest rings");
        GC.KeepAlive(memories);
    }

    [Fact]
    public void Largest_frames_behind_a_small_one_never_overwrite_a_frame_the_guest_holds()
    {
        // One small frame, then the largest ones until the ring is full; the guest takes only the
        // small one; the next largest frame must not land on the oldest it still holds (with room
        // for exactly one largest frame per descriptor it would wrap onto it).
        const int Slots = 8, SlotSize = 1536;
        var memory = new GuestMemory(Slots, SlotSize);
        Place(memory, 64, 0);
        for (var i = 1; i < Slots; i++) Place(memory, SlotSize, (byte)i);
        Assert.True(memory.TryPeek(out _));
        memory.Release();
        Place(memory, SlotSize, 99);
        for (var i = 1; i < Slots; i++)
        {
            Assert.True(memory.TryPeek(out var frame));
            Assert.All(frame.ToArray(), b => Assert.Equal((byte)i, b));
            memory.Release();
        }
    }

    private static void Place(GuestMemory memory, int length, byte fill)
    {
        Assert.True(memory.TryReserve(length, out var slot));
        slot.Fill(fill);
        memory.Publish();
    }

    [Fact]
    public void A_full_ring_refuses_the_next_frame()
    {
        var memory = new GuestMemory(4, 1536);
        for (var i = 0; i < 4; i++)
        {
            Assert.True(memory.TryReserve(1536, out _));
            memory.Publish();
        }
        Assert.False(memory.TryReserve(64, out _));
        Assert.True(memory.TryPeek(out _));
        memory.Release();
        Assert.True(memory.TryReserve(1536, out _));
    }
}
