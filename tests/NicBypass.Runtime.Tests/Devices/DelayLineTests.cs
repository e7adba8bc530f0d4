using NicBypass.Runtime.Devices;

namespace NicBypass.Runtime.Tests;

/// <summary>One direction of a TAP wire's delay (TapWire.Delay): order, due times, bounds, wrap-around.</summary>
public class DelayLineTests
{
    [Fact]
    public void A_frame_leaves_only_when_due_and_never_before_the_frame_ahead_of_it()
    {
        var line = new DelayLine(4096);
        Assert.True(line.TryAdd(Frame(1, 100), due: 50));
        Assert.True(line.TryAdd(Frame(2, 100), due: 20)); // jitter drew it earlier: it still waits for frame 1

        Assert.False(line.TryPeekDue(49, out _));
        Assert.Equal(50, line.NextDue);
        Assert.True(line.TryPeekDue(50, out var first));
        Assert.Equal(1, first[0]);
        line.Remove();
        Assert.Equal(50, line.NextDue);
        Assert.True(line.TryPeekDue(50, out var second));
        Assert.Equal(2, second[0]);
        line.Remove();
        Assert.Equal(0, line.Count);
        Assert.False(line.TryPeekDue(long.MaxValue, out _));
    }

    [Fact]
    public void A_full_line_refuses_a_frame_and_takes_frames_again_as_it_drains_across_its_end()
    {
        var line = new DelayLine(1024); // 12-byte header per frame: three 300-byte frames fill it
        Assert.True(line.TryAdd(Frame(1, 300), 0));
        Assert.True(line.TryAdd(Frame(2, 300), 0));
        Assert.True(line.TryAdd(Frame(3, 300), 0));
        Assert.False(line.TryAdd(Frame(4, 300), 0));
        Assert.Equal(3, line.Count);

        // Thousands of frames of changing sizes through the small arena: every one comes out, in order, intact.
        var random = new Random(7);
        var expected = new Queue<byte[]>();
        for (var n = 1; n <= 3; n++) expected.Enqueue(Frame((byte)n, 300));
        byte next = 5;
        for (var round = 0; round < 5000; round++)
        {
            if (random.Next(2) == 0 && line.TryPeekDue(long.MaxValue, out var frame))
            {
                Assert.Equal(expected.Dequeue(), frame.ToArray());
                line.Remove();
            }
            else
            {
                var candidate = Frame(next, random.Next(1, 400));
                if (line.TryAdd(candidate, round))
                {
                    expected.Enqueue(candidate);
                    next++;
                }
            }
            Assert.Equal(expected.Count, line.Count);
        }
        while (line.TryPeekDue(long.MaxValue, out var rest))
        {
            Assert.Equal(expected.Dequeue(), rest.ToArray());
            line.Remove();
        }
        Assert.Empty(expected);
    }

    [Fact]
    public void Clearing_the_line_says_how_many_frames_it_took_and_leaves_room_for_new_ones()
    {
        var line = new DelayLine(1024);
        Assert.True(line.TryAdd(Frame(1, 500), 10));
        Assert.True(line.TryAdd(Frame(2, 400), 20));

        Assert.Equal(2, line.Clear());
        Assert.Equal(0, line.Count);
        Assert.False(line.TryPeekDue(long.MaxValue, out _));
        Assert.True(line.TryAdd(Frame(3, 900), 5)); // the whole arena is free again, and no floor from the cleared frames
        Assert.Equal(5, line.NextDue);
    }

    [Fact]
    public void A_frame_larger_than_the_line_is_refused()
    {
        var line = new DelayLine(1024);
        Assert.False(line.TryAdd(new byte[1024], 0));
        Assert.Equal(0, line.Count);
    }

    // A frame of `length` bytes, each `tag` plus its index, so any mix-up shows.
    private static byte[] Frame(byte tag, int length)
    {
        var frame = new byte[length];
        for (var i = 0; i < length; i++) frame[i] = (byte)(tag + i);
        return frame;
    }

    [Fact]
    public void A_growable_line_doubles_keeping_its_frames_in_order_even_across_a_wrap_and_stops_at_its_maximum()
    {
        var line = new DelayLine(1024, maxBytes: 4096);
        byte[] Frame(int n) => Enumerable.Repeat((byte)n, 300).ToArray();
        Assert.True(line.TryAdd(Frame(1), 1));
        Assert.True(line.TryAdd(Frame(2), 2));
        Assert.True(line.TryAdd(Frame(3), 3));
        Assert.True(line.TryPeekDue(10, out var first));
        Assert.Equal(1, first[0]);
        line.Remove();
        Assert.True(line.TryAdd(Frame(4), 4)); // wraps to the start of the 1,024-byte arena
        Assert.Equal(1024, line.CapacityBytes);
        for (var n = 5; n <= 13; n++) Assert.True(line.TryAdd(Frame(n), n)); // grows: 2,048, then 4,096
        Assert.Equal(4096, line.CapacityBytes);
        Assert.True(line.TryAdd(Frame(14), 14));  // 13 frames of 312 bytes waiting: 4,056 of 4,096
        Assert.False(line.TryAdd(Frame(15), 15)); // the maximum is reached
        for (var n = 2; n <= 14; n++)
        {
            Assert.True(line.TryPeekDue(100, out var frame));
            Assert.Equal(300, frame.Length);
            Assert.Equal(n, frame[0]);
            line.Remove();
        }
        Assert.Equal(0, line.Count);
    }

    [Fact]
    public void A_frame_kept_in_a_buffer_slot_waits_in_order_among_copied_frames_as_its_slot_and_length()
    {
        var line = new DelayLine(1024);
        Assert.True(line.TryAdd(Frame(1, 100), due: 10));
        Assert.True(line.TryAddSlot(slot: 7, length: 1500, due: 20)); // 16 bytes on the line, not 1,500
        Assert.True(line.TryAdd(Frame(3, 100), due: 30));
        Assert.True(line.TryAdd(Frame(4, 700), due: 40)); // fits only because the slot's frame is not copied

        Assert.True(line.TryPeekDue(100, out var first, out var slot, out var length));
        Assert.Equal((1, -1, 100), (first[0], slot, length));
        line.Remove();
        Assert.True(line.TryPeekDue(100, out var kept, out slot, out length));
        Assert.Equal((0, 7, 1500), (kept.Length, slot, length));
        line.Remove();
        Assert.True(line.TryPeekDue(100, out var third, out slot, out _));
        Assert.Equal((3, -1), (third[0], slot));
        line.Remove();
        Assert.True(line.TryPeekDue(100, out var fourth));
        Assert.Equal(700, fourth.Length);
        line.Remove();
        Assert.Equal(0, line.Count);
    }
}

