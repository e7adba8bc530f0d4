namespace NicBypass.Runtime.Accounting;

/// <summary>
/// Latencies in nanoseconds, kept as a log-linear histogram (each power of two split into 16
/// buckets: within 6.25% of the true value) so recording is an index and an add, with no
/// allocation; percentiles and the maximum are read from it. Written by one stage only.
/// </summary>
public sealed class LatencyHistogram
{
    private const int SubBuckets = 16;
    private const int SubBits = 4;
    // One row of 16 buckets per power of two, each allocated when a latency first falls in it: a
    // VNIC's latencies span a few powers of two, so it keeps about 1 KB instead of 8 (and a host
    // of thousands of VNICs builds with none).
    private long[]?[]? _rows;

    public long Count { get; private set; }

    /// <summary>The largest latency recorded, in nanoseconds.</summary>
    public long Max { get; private set; }

    internal void Record(long nanoseconds)
    {
        if (nanoseconds < 0) nanoseconds = 0;
        var bucket = Bucket(nanoseconds);
        var rows = _rows ??= new long[]?[64];
        (rows[bucket >> SubBits] ??= new long[SubBuckets])[bucket & (SubBuckets - 1)]++;
        Count++;
        if (nanoseconds > Max) Max = nanoseconds;
    }

    /// <summary>The latency (ns) at or below which <paramref name="fraction"/> of the recorded ones fall (the bucket's upper edge, capped at the maximum).</summary>
    public long Percentile(double fraction)
    {
        if (Count == 0 || _rows is not { } rows) return 0;
        var rank = (long)Math.Ceiling(Math.Clamp(fraction, 0, 1) * Count);
        if (rank < 1) rank = 1;
        long seen = 0;
        for (var r = 0; r < rows.Length; r++)
        {
            if (rows[r] is not { } row) continue;
            for (var sub = 0; sub < SubBuckets; sub++)
            {
                seen += row[sub];
                if (seen >= rank) return Math.Min(UpperEdge(r * SubBuckets + sub), Max);
            }
        }
        return Max;
    }

    // Values below 16 get a bucket each; above, bucket = (exponent, top four bits after the leading one).
    private static int Bucket(long value)
    {
        if (value < SubBuckets) return (int)value;
        var exponent = 63 - (int)long.LeadingZeroCount(value);
        var sub = (int)((value >> (exponent - SubBits)) & (SubBuckets - 1));
        return (exponent - SubBits + 1) * SubBuckets + sub;
    }

    private static long UpperEdge(int bucket)
    {
        if (bucket < SubBuckets) return bucket;
        var exponent = bucket / SubBuckets + SubBits - 1;
        var sub = bucket % SubBuckets;
        var shift = exponent - SubBits;
        // (16 + sub + 1) << shift, less one, without overflowing at the top bucket (long.MaxValue).
        return ((long)(SubBuckets + sub) << shift) + ((1L << shift) - 1);
    }
}
