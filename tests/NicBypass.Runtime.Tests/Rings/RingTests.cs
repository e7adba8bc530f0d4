using CsCheck;
using NicBypass.Runtime.Accounting;
using NicBypass.Runtime.Packets;
using NicBypass.Runtime.Rings;

namespace NicBypass.Runtime.Tests;

public class RingTests
{
    private sealed class CountingTarget : IInterruptTarget
    {
        public int Raised;

        public void RaiseInterrupt(ReceiveRing ring) => Raised++;
    }

    private sealed class NullClient : IReceiveRingClient
    {
        public void Receive(ReceiveRing ring, ReadOnlySpan<PacketDescriptor> batch) { }
    }

    [Fact]
    public void A_descriptor_ring_is_a_bounded_fifo()
    {
        var ring = new DescriptorRing(4);
        for (var i = 0; i < 4; i++) Assert.True(ring.TryEnqueue(new PacketDescriptor(i, 60)));
        Assert.False(ring.TryEnqueue(new PacketDescriptor(9, 60)));

        var batch = new PacketDescriptor[3];
        Assert.Equal(3, ring.Dequeue(batch));
        Assert.Equal(new[] { 0, 1, 2 }, batch.Select(d => d.Slot));
        Assert.True(ring.TryEnqueue(new PacketDescriptor(4, 60)));
        Assert.Equal(2, ring.Dequeue(batch));
        Assert.Equal(new[] { 3, 4 }, batch.Take(2).Select(d => d.Slot));
        Assert.True(ring.IsEmpty);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(100)]
    public void Ring_capacity_must_be_a_power_of_two(int capacity) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new DescriptorRing(capacity));

    [Fact]
    public void A_full_receive_ring_drops_and_counts()
    {
        var ring = new HardwareReceiveRing(0, 16, 0);
        ring.Bind(new NullClient(), new CountingTarget());

        var accepted = Enumerable.Range(0, 20).Count(i => ring.Enqueue(new PacketDescriptor(i, 60)));

        Assert.Equal(16, accepted);
        Assert.Equal(20, ring.Counters.Received);
        Assert.Equal(4, ring.Counters.Dropped(DropReason.RingFull));
        Assert.Equal(16, ring.Count);
    }

    [Fact]
    public void An_interrupt_is_raised_once_until_serviced()
    {
        var target = new CountingTarget();
        var ring = new SoftwareReceiveRing("sr0", 0, 16);
        ring.Bind(new NullClient(), target);

        ring.Enqueue(new PacketDescriptor(0, 60));
        ring.Enqueue(new PacketDescriptor(1, 60));
        Assert.Equal(1, target.Raised);
        Assert.Equal(InterruptKind.Software, ring.InterruptKind);

        ring.Poll(new PacketDescriptor[16], long.MaxValue, out _);
        ring.InterruptServiced();
        ring.Enqueue(new PacketDescriptor(2, 60));
        Assert.Equal(2, target.Raised);
    }

    [Fact]
    public void Frames_that_arrive_while_an_interrupt_is_serviced_raise_another()
    {
        var target = new CountingTarget();
        var ring = new HardwareReceiveRing(0, 16, 0);
        ring.Bind(new NullClient(), target);

        ring.Enqueue(new PacketDescriptor(0, 60));
        ring.InterruptServiced(); // serviced without draining: the frame is still there

        Assert.Equal(2, target.Raised);
    }

    [Fact]
    public void Disabled_interrupts_leave_frames_for_the_poll_entry_point()
    {
        var target = new CountingTarget();
        var ring = new HardwareReceiveRing(0, 16, 0);
        ring.Bind(new NullClient(), target);
        ring.DisableInterrupts();

        for (var i = 0; i < 5; i++) ring.Enqueue(new PacketDescriptor(i, 60));
        Assert.Equal(0, target.Raised);
        Assert.Equal(5, ring.Count);

        var batch = new PacketDescriptor[3];
        Assert.Equal(3, ring.Poll(batch, long.MaxValue, out var waiting));
        Assert.Equal(2, ring.Count);
        Assert.Equal(60, waiting);

        ring.EnableInterrupts();
        Assert.Equal(1, target.Raised);
    }

    [Fact]
    public void Turning_interrupts_off_with_frames_waiting_and_none_pending_wakes_whoever_polls()
    {
        // A frame whose interrupt the moderation holds back (none pending yet): turned to
        // polling before the moderated interrupt comes, the switch itself must bring a poll, or
        // the frame waits for the next one to arrive.
        var target = new CountingTarget();
        var ring = new HardwareReceiveRing(0, 16, 0);
        ring.Bind(new NullClient(), target);
        ring.Moderator = new Deferring();
        var wakes = 0;
        ring.PollWake = () => wakes++;
        ring.DisableInterrupts();
        Assert.Equal(0, wakes); // nothing waiting: nobody to wake
        ring.EnableInterrupts();
        ring.Enqueue(new PacketDescriptor(0, 60));
        Assert.Equal(0, target.Raised); // held back by the moderation
        ring.DisableInterrupts();
        Assert.Equal(1, wakes);
    }

    [Fact]
    public void The_poll_entry_point_never_returns_more_bytes_than_asked()
    {
        // Any ring contents, any budget, any batch size: what comes out fits the budget, is the
        // oldest frames in order, and stops only at the batch size, the budget or an empty ring;
        // the length it reports is the frame it left at the head.
        Gen.Select(Gen.Int[60, 1518].Array[0, 40], Gen.Long[0, 20_000], Gen.Int[1, 32]).Sample((lengths, budget, size) =>
        {
            var ring = new HardwareReceiveRing(0, 64, 0);
            ring.Bind(new NullClient(), new CountingTarget());
            for (var i = 0; i < lengths.Length; i++) ring.Enqueue(new PacketDescriptor(i, lengths[i]));
            var into = new PacketDescriptor[size];
            var n = ring.Poll(into, budget, out var waiting);
            var bytes = 0L;
            for (var i = 0; i < n; i++)
            {
                Assert.Equal(i, into[i].Slot);
                bytes += into[i].Length;
            }
            Assert.True(bytes <= budget, $"{bytes} bytes returned for a budget of {budget}");
            Assert.Equal(n < lengths.Length ? lengths[n] : 0, waiting);
            if (n < lengths.Length && n < size) Assert.True(bytes + lengths[n] > budget, "stopped with budget left for the next frame");
        });
    }

    [Fact]
    public void A_zero_budget_takes_nothing_and_tells_the_head()
    {
        var ring = new HardwareReceiveRing(0, 16, 0);
        ring.Bind(new NullClient(), new CountingTarget());
        ring.Enqueue(new PacketDescriptor(0, 1000));
        Assert.Equal(0, ring.Poll(new PacketDescriptor[4], 0, out var waiting));
        Assert.Equal(1000, waiting);
        Assert.Equal(1, ring.Count);
    }

    [Fact]
    public void The_buffer_pool_rents_every_slot_once()
    {
        var pool = new PacketBufferPool(8, 128);
        var slots = new List<int>();
        while (pool.TryRent(out var slot)) slots.Add(slot);

        Assert.Equal(Enumerable.Range(0, 8), slots.OrderBy(s => s));
        Assert.Equal(0, pool.Available);
        pool.Return(slots[3]);
        Assert.True(pool.TryRent(out var again));
        Assert.Equal(slots[3], again);
        Assert.Equal(128, pool.Slot(again).Length);
    }

    [Fact]
    public void Rings_carved_from_one_chunk_each_keep_their_own_descriptors()
    {
        // Rings built one after another share a pinned chunk (PinnedSlab); interleaved traffic
        // through all of them, wrapping many times, must come out of each as it went in.
        Gen.Select(Gen.Int[1, 9].Array[2, 6], Gen.Int[0, int.MaxValue]).Sample((sizes, seed) =>
        {
            var rings = sizes.Select(bits => new DescriptorRing(1 << bits)).ToArray();
            var models = sizes.Select(_ => new Queue<PacketDescriptor>()).ToArray();
            var random = new Random(seed);
            var into = new PacketDescriptor[64];
            var next = 0;
            for (var step = 0; step < 2_000; step++)
            {
                var r = random.Next(rings.Length);
                if (random.Next(2) == 0)
                {
                    var descriptor = new PacketDescriptor(next++, random.Next(60, 1519));
                    var full = models[r].Count == rings[r].Capacity;
                    Assert.Equal(!full, rings[r].TryEnqueue(descriptor));
                    if (!full) models[r].Enqueue(descriptor);
                }
                else
                {
                    var requested = random.Next(1, into.Length + 1);
                    var n = rings[r].Dequeue(into.AsSpan(0, requested));
                    Assert.Equal(Math.Min(requested, models[r].Count), n); // across the ring's end too
                    for (var i = 0; i < n; i++) Assert.Equal(models[r].Dequeue(), into[i]);
                }
                Assert.Equal(models[r].Count, rings[r].Count);
            }
        }, iter: 200);
    }

    [Fact]
    public void Carved_pieces_start_on_cache_lines_of_their_own()
    {
        // Two rings carved side by side must not share a cache line (the producer of one and the
        // consumer of the other would write the same line): every piece starts on a 64-byte
        // boundary of memory, whatever the sizes asked for before it.
        Gen.Int[1, 3000].Array[1, 40].Sample(lengths =>
        {
            foreach (var length in lengths)
            {
                Assert.Equal(0, Address(PinnedSlab<PacketDescriptor>.Carve(length)) % 64);
                Assert.Equal(0, Address(PinnedSlab<byte>.Carve(length)) % 64);
            }
        }, iter: 50);

        static long Address<T>(ArraySegment<T> piece) where T : unmanaged
        {
            var handle = System.Runtime.InteropServices.GCHandle.Alloc(piece.Array!, System.Runtime.InteropServices.GCHandleType.Pinned);
            try
            {
                return (long)handle.AddrOfPinnedObject() + (long)piece.Offset * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
            }
            finally
            {
                handle.Free();
            }
        }
    }

    [Fact]
    public void Thousands_of_rings_are_built_without_touching_a_fresh_page_each()
    {
        // A 4,000-VNIC host has over 5,000 rings; an array of its own per ring touched a fresh
        // page each (1,988 for these; about 13 µs a page on the reference machine). Carved from
        // shared 2 MiB chunks, one page a chunk (33), the rest not until descriptors arrive.
        var rings = new DescriptorRing[2_000];
        var faults = PageFaults.During(() =>
        {
            for (var i = 0; i < rings.Length; i++) rings[i] = new DescriptorRing(4096);
        });
        Assert.True(faults < 500, $"{faults} fresh pages touched building {rings.Length} rings");
        GC.KeepAlive(rings);
    }

    [Fact]
    public void A_new_buffer_pool_does_not_write_its_free_list()
    {
        // A 100G NIC's pool is hundreds of thousands of slots: listing them all as free touched
        // megabytes while the host was built. Slots never rented are handed out in order instead.
        PacketBufferPool? pool = null;
        var faults = PageFaults.During(() => pool = new PacketBufferPool(1 << 20, 64));
        Assert.True(faults < 200, $"{faults} fresh pages touched by a pool of {1 << 20} slots"); // the whole list would be 1,024
        Assert.Equal(1 << 20, pool!.Available);
    }

    [Fact]
    public void The_buffer_pool_rents_as_a_stack_of_every_slot_would()
    {
        // The order slots come out in decides where frames land and so every report: the pool
        // must rent exactly as the stack it replaced (every slot pushed, the lowest on top).
        Gen.Select(Gen.Int[1, 64], Gen.Int[0, int.MaxValue]).Sample((slots, seed) =>
        {
            var pool = new PacketBufferPool(slots, 64);
            var model = new Stack<int>(Enumerable.Range(0, slots).Reverse());
            var rented = new List<int>();
            var random = new Random(seed);
            for (var step = 0; step < 500; step++)
            {
                if (random.Next(3) != 0)
                {
                    var expected = model.Count > 0;
                    Assert.Equal(expected, pool.TryRent(out var slot));
                    if (expected)
                    {
                        Assert.Equal(model.Pop(), slot);
                        rented.Add(slot);
                    }
                }
                else if (rented.Count > 0)
                {
                    var at = random.Next(rented.Count);
                    var slot = rented[at];
                    rented.RemoveAt(at);
                    if (random.Next(2) == 0) pool.Return(slot);
                    else pool.Return(new[] { new PacketDescriptor(slot, 60) });
                    model.Push(slot);
                }
                Assert.Equal(model.Count, pool.Available);
            }
        }, iter: 200);
    }

    [Fact]
    public void Reverse_bits_flips_each_byte_and_is_its_own_inverse()
    {
        Assert.Equal(0x80, BitReversal.Reverse(0x01));
        Assert.Equal(0x0F, BitReversal.Reverse(0xF0));
        Assert.Equal(0b0110_0010, BitReversal.Reverse(0b0100_0110));
        var bytes = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();
        var once = new byte[256];
        var twice = new byte[256];
        BitReversal.Apply(bytes, once);
        BitReversal.Apply(once, twice);
        Assert.Equal(bytes, twice);
    }
}

file sealed class Deferring : IInterruptModerator
{
    public bool Defer(ReceiveRing ring) => true;

    public bool Throttles(ReceiveRing ring) => true;
}
