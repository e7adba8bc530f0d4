using NicBypass.Runtime.Stacks;

namespace NicBypass.Runtime.Tests;

/// <summary>
/// A VSQ keeps its frames in order through any mix of arrivals and departures, and writes the
/// slots freed last: a queue that holds a few frames at a time touches a few slots of its slab,
/// not all of them in turn.
/// </summary>
public class SerializationQueueSlabTests
{
    private static SerializationQueue Queue(int capacity, int frameSize) =>
        new("inbound", capacity, frameSize, new SerializationGate(SerializationPolicy.MutualExclusion));

    [Fact]
    public void Frames_come_out_in_the_order_they_went_in_through_every_mix_of_enqueue_dequeue_and_drop()
    {
        const int Capacity = 16, FrameSize = 1518;
        var queue = Queue(Capacity, FrameSize);
        var expected = new Queue<(int Length, byte Fill)>();
        var random = new Random(5);
        var buffer = new byte[FrameSize];
        var placed = 0;
        for (var step = 0; step < 50_000; step++)
        {
            var action = random.Next(5);
            if (action < 2)
            {
                var length = random.Next(1, FrameSize + 1);
                var fill = (byte)placed++;
                var frame = new byte[length];
                for (var i = 0; i < length; i++) frame[i] = (byte)(fill + i);
                Assert.Equal(expected.Count < Capacity, queue.TryEnqueue(frame));
                if (expected.Count < Capacity) expected.Enqueue((length, fill));
            }
            else if (action < 4)
            {
                Assert.Equal(expected.Count > 0, queue.TryDequeue(buffer, out var length));
                if (expected.Count == 0) continue;
                var (want, fill) = expected.Dequeue();
                Assert.Equal(want, length);
                for (var i = 0; i < length; i++) Assert.Equal((byte)(fill + i), buffer[i]);
            }
            else if (expected.Count > 0)
            {
                var (want, fill) = expected.Dequeue();
                var head = queue.Peek();
                Assert.Equal(want, head.Length);
                Assert.Equal(fill, head[0]);
                queue.DropHead();
            }
            Assert.Equal(expected.Count, queue.Count);
        }
        Assert.Equal(Capacity, queue.HighWater); // the walk filled the queue
        Assert.False(queue.TryEnqueue(new byte[FrameSize + 1]));
    }

    [Fact]
    public void A_queue_that_holds_few_frames_at_a_time_writes_few_slots()
    {
        var queue = Queue(1024, 1518);
        var frame = new byte[1000];
        var buffer = new byte[1518];
        for (var i = 0; i < 10_000; i++)
        {
            // Up to three waiting at once, drained now and then.
            Assert.True(queue.TryEnqueue(frame));
            if (i % 3 == 2)
            {
                while (queue.TryDequeue(buffer, out _)) { }
            }
        }
        Assert.Equal(3, queue.SlotsUsed); // in turn through the slab: all 1,024
        Assert.Equal(3, queue.HighWater);
    }
}
