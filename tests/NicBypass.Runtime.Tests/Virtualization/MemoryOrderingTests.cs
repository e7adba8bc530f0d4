using NicBypass.Runtime.Packets;
using NicBypass.Runtime.Rings;
using NicBypass.Runtime.Virtualization;

namespace NicBypass.Runtime.Tests;

/// <summary>
/// The threaded mode's hand-offs between two threads, raced (<see cref="Litmus"/>): each side
/// publishes, then looks at what the other published, and one of them must always see the other.
/// Alone, not beside other tests: its two threads spin on two cores.
/// </summary>
[Collection(LitmusCollection.Name)]
public class MemoryOrderingTests
{
    private sealed class NullClient : IReceiveRingClient
    {
        public void Receive(ReceiveRing ring, ReadOnlySpan<PacketDescriptor> batch) { }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_frame_that_arrives_as_another_thread_services_the_interrupt_is_never_stranded(bool reEnabled)
    {
        // The threaded mode's feeder publishes a frame, then reads whether the ring's interrupt is
        // still pending (or whether interrupts are on); the processor clears the pending interrupt
        // (or turns interrupts back on), then reads whether the ring is empty. x86 lets a load pass
        // an earlier store to another place, so without a fence on each side both can read the old
        // value — the feeder an interrupt still pending, the processor an empty ring — and the
        // frame waits with no interrupt raised until the next frame comes (for the last frame of
        // a burst, never: StopThreads' test saw one such frame in 450 stressed runs). Raced for
        // many rounds (Litmus): after each, a frame in the ring must have its interrupt.
        var ring = new HardwareReceiveRing(0, 16, 0) { Concurrent = true };
        ring.Bind(new NullClient(), new SharedCountingTarget());
        var into = new PacketDescriptor[16];
        var round = 0;
        var (stranded, rounds) = Litmus.Race(50_000,
            prepare: () =>
            {
                // Each round starts with an empty ring and its interrupt being serviced (pending),
                // or with interrupts off (about to be switched back on).
                if (ring.InterruptPending) ring.InterruptServiced();
                ring.Poll(into, long.MaxValue, out _);
                if (ring.InterruptPending) ring.InterruptServiced(); // raised again for a frame the poll took
                if (reEnabled) ring.DisableInterrupts();
                else
                {
                    ring.Enqueue(new PacketDescriptor(0, 60)); // raises it
                    ring.Poll(into, long.MaxValue, out _);
                }
            },
            first: () => ring.Enqueue(new PacketDescriptor(++round, 60)), // the feeder
            second: () =>                                                  // the processor
            {
                if (reEnabled) ring.EnableInterrupts();
                else ring.InterruptServiced();
            },
            wrong: () => ring.Count > 0 && !ring.InterruptPending);
        Assert.Equal(0, stranded);
        Assert.True(rounds >= 1_000, $"{rounds} rounds raced");
    }

    private sealed class SharedCountingTarget : IInterruptTarget
    {
        public int Raised;

        public void RaiseInterrupt(ReceiveRing ring) => Interlocked.Increment(ref Raised);
    }

    [Fact]
    public void A_frame_placed_as_the_guest_takes_the_last_one_is_seen_or_interrupts()
    {
        // The host side publishes a frame, then reads how far the guest got (an interrupt only if
        // the ring was empty); the guest releases the frame it took, then looks for the next. With
        // the two on different threads (the threaded mode) and no fence between each side's store
        // and load, both can read the old value: the host sees the ring still holding the taken
        // frame (no interrupt), the guest an empty ring, and the new frame waits for the vCPU's
        // next timed poll. Each round starts with one frame in the ring, the guest's; the host
        // places a second as the guest releases the first.
        var memory = new GuestMemory(8, 64) { Concurrent = true };
        Assert.True(memory.TryReserve(60, out _));
        memory.Publish();
        var interrupted = false;
        var seen = false;
        var (stranded, rounds) = Litmus.Race(50_000,
            prepare: () => (interrupted, seen) = (false, false),
            first: () =>                        // the host side
            {
                _ = memory.TryReserve(60, out _); // room for 8, and never more than 2 held
                interrupted = memory.Publish();
            },
            second: () =>                       // the guest
            {
                memory.Release();
                seen = memory.TryPeek(out _);
            },
            wrong: () => !interrupted && !seen && memory.Count > 0);
        Assert.Equal(0, stranded);
        Assert.True(rounds >= 1_000, $"{rounds} rounds raced");
    }
}
