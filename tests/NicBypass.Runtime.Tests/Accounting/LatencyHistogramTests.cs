using CsCheck;
using NicBypass.Runtime.Accounting;

namespace NicBypass.Runtime.Tests;

/// <summary>The log-linear latency histogram: percentiles within a bucket of the truth, memory only where latencies fall.</summary>
public class LatencyHistogramTests
{
    [Fact]
    public void Each_percentile_is_the_upper_edge_of_the_bucket_holding_the_true_one_capped_at_the_maximum()
    {
        // Latencies spread over many powers of two (and some below 16 ns, a bucket each).
        Gen.Select(Gen.Long[0, 1L << 40].Array[1, 300], Gen.Double[0, 1]).Sample((latencies, fraction) =>
        {
            var histogram = new LatencyHistogram();
            foreach (var latency in latencies) histogram.Record(latency);
            var sorted = latencies.Order().ToArray();
            var rank = Math.Max(1, (int)Math.Ceiling(fraction * sorted.Length));
            var truth = sorted[rank - 1];
            var reported = histogram.Percentile(fraction);

            Assert.Equal(sorted.Length, histogram.Count);
            Assert.Equal(sorted[^1], histogram.Max);
            Assert.InRange(reported, truth, Math.Min(sorted[^1], truth + truth / 16 + 1)); // within 6.25% above, never below
        });
    }

    [Fact]
    public void The_smallest_and_largest_latencies_have_buckets_of_their_own()
    {
        var histogram = new LatencyHistogram();
        foreach (var latency in new[] { 0L, 15, 16, long.MaxValue }) histogram.Record(latency);

        Assert.Equal(0, histogram.Percentile(0.25));
        Assert.Equal(15, histogram.Percentile(0.5));
        Assert.Equal(16, histogram.Percentile(0.75));
        Assert.Equal(long.MaxValue, histogram.Percentile(1)); // the top bucket's edge is long.MaxValue itself
        Assert.Equal(long.MaxValue, histogram.Max);
    }

    [Fact]
    public void Memory_is_taken_only_for_the_powers_of_two_latencies_fall_in()
    {
        var warm = new LatencyHistogram(); // the code's first run allocates for itself
        warm.Record(1);
        _ = warm.Percentile(0.5);
        var empty = GC.GetAllocatedBytesForCurrentThread();
        var histogram = new LatencyHistogram();
        var none = histogram.Percentile(0.99);
        var emptyBytes = GC.GetAllocatedBytesForCurrentThread() - empty;
        Assert.Equal(0, none);
        Assert.True(emptyBytes < 100, $"an empty histogram holds no buckets: {emptyBytes} bytes");

        // The fewer bytes of two fresh histograms: what the runtime allocates once on this thread
        // (the loop's first switch to optimized code, a type's statics) is not the histogram's.
        var bytes = long.MaxValue;
        for (var run = 0; run < 2; run++)
        {
            if (run > 0) histogram = new LatencyHistogram();
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < 10_000; i++) histogram.Record(2_000 + i % 3_000); // 2.0-5.0 µs: two powers of two (and the end of one more)
            bytes = Math.Min(bytes, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        // Every power of two up front was 8 KB a VNIC: a host of 4,000 held 32 MB of them.
        Assert.True(bytes < 1_200, $"{bytes} bytes for latencies in two powers of two");
        Assert.InRange(histogram.Percentile(0.5), 3_400, 3_800);
    }
}
