using CsCheck;

namespace NicBypass.Hosting.Tests;

/// <summary>
/// The simulation's offer schedule keeps each interval's streams in a lane of their own and
/// orders only the lanes' heads: it must give what one heap of every stream gives.
/// </summary>
public class OfferScheduleTests
{
    // The streams' (stream, time) in the order a schedule gives them, each stream coming round
    // again one interval later until `end`, as the simulation drives it.
    private static List<(int Stream, double At)> Drive(Func<int, double, bool> enqueue, Func<(bool, int, double)> dequeue, double[] intervals, double[] first, double end)
    {
        for (var i = 0; i < intervals.Length; i++) enqueue(i, first[i]);
        var order = new List<(int, double)>();
        while (dequeue() is (true, var stream, var at))
        {
            if (at >= end) continue;
            order.Add((stream, at));
            enqueue(stream, at + intervals[stream]);
        }
        return order;
    }

    [Fact]
    public void It_gives_the_streams_in_the_order_one_heap_of_all_of_them_gives()
    {
        // A few distinct intervals shared by many streams (as a simulation's VNICs share a rate),
        // first times anywhere (not only within an interval, so lanes also take frames out of
        // order), times distinct as doubles.
        var gen = Gen.Select(Gen.Int[1, 4], Gen.Int[1, 60], Gen.Int[0, int.MaxValue]);
        gen.Sample((lanes, streams, seed) =>
        {
            var random = new Random(seed);
            var distinct = Enumerable.Range(0, lanes).Select(_ => 1 + random.NextDouble() * 100).ToArray();
            var intervals = Enumerable.Range(0, streams).Select(_ => distinct[random.Next(lanes)]).ToArray();
            var first = intervals.Select(i => random.NextDouble() * 3 * i).ToArray();
            const double end = 2_000;

            var schedule = new OfferSchedule(intervals);
            var ours = Drive((s, at) => { schedule.Enqueue(s, at); return true; },
                () => schedule.TryDequeue(out var s, out var at) ? (true, s, at) : (false, -1, 0), intervals, first, end);
            var heap = new PriorityQueue<int, double>();
            var theirs = Drive((s, at) => { heap.Enqueue(s, at); return true; },
                () => heap.TryDequeue(out var s, out var at) ? (true, s, at) : (false, -1, 0), intervals, first, end);

            Assert.Equal(theirs, ours);
            Assert.Equal(0, schedule.Count);
        }, iter: 300);
    }

    [Fact]
    public void A_lane_whose_head_is_overtaken_by_a_later_enqueue_still_gives_the_earliest_first()
    {
        var schedule = new OfferSchedule(new[] { 10.0, 10.0, 7.0 });
        schedule.Enqueue(0, 5);
        schedule.Enqueue(2, 6);
        schedule.Enqueue(1, 3); // before the head of its lane: the heap's entry for that head goes stale

        var order = new List<(int, double)>();
        while (schedule.TryDequeue(out var stream, out var at)) order.Add((stream, at));
        Assert.Equal(new[] { (1, 3.0), (0, 5.0), (2, 6.0) }, order);
    }
}
