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
}
