namespace NicBypass.Runtime.Virtualization;

/// <summary>
/// A token bucket on the host's clock, exact in integers: credit accrues at the allocation in
/// bit·nanoseconds per nanosecond and a frame costs its bits × 10⁹. The bucket starts with one
/// millisecond's credit (at most one longest frame's — so a VM of any useful allocation answers
/// its first ping, at ≤ 0.1% extra over a second) and holds ten milliseconds of the allocation
/// plus the cost of the frame asking — so a burst is at most 1% of a second's allocation and one
/// frame beyond it, late polls and frames lose nothing, and a slow
/// allocation is never rounded up to a whole MTU per tick (Crossbow's per-tick floor): 64 Kbps
/// is as exact as 100 Gbps, to the granularity of the frames themselves.
/// </summary>
internal sealed class BandwidthLimiter
{
    private const long NanosecondsPerSecond = 1_000_000_000;
    private readonly TimeProvider _time;
    private readonly long _depth;
    private long _credit;
    private long _last;

    public BandwidthLimiter(long bitsPerSecond, int maxFrameBytes, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bitsPerSecond, 1);
        BitsPerSecond = bitsPerSecond;
        _time = time;
        // Credit is kept in bit·ns: ten milliseconds of 100 Gbps is 10^18, inside a long.
        _depth = checked(bitsPerSecond * (NanosecondsPerSecond / 100));
        MaxFrameBytes = maxFrameBytes;
        _credit = Math.Min(_depth / 10, checked((long)maxFrameBytes * 8 * NanosecondsPerSecond));
        _last = Now();
    }

    public long BitsPerSecond { get; }

    /// <summary>The longest frame it will be asked about (a frame's cost may exceed one millisecond of credit).</summary>
    public int MaxFrameBytes { get; }

    /// <summary>Takes credit for a frame of <paramref name="bytes"/> if there is enough; false (nothing taken) otherwise.</summary>
    public bool TryConsume(int bytes) => TryConsume(bytes, Now());

    /// <summary>
    /// <see cref="TryConsume(int)"/> at a time the caller read once for a whole batch
    /// (<see cref="Timestamp"/>): reading the clock costs more than the rest of the decision.
    /// </summary>
    public bool TryConsume(int bytes, long now)
    {
        var cost = (long)bytes * 8 * NanosecondsPerSecond;
        Refill(Cap(cost), now);
        if (_credit < cost) return false;
        _credit -= cost;
        return true;
    }

    /// <summary>
    /// The bytes of credit there are at <paramref name="now"/> (nothing taken) — the budget a poll
    /// may ask its ring for. <paramref name="waitingBytes"/> is the frame the caller knows is next
    /// (it lets the bucket hold that frame's cost, as <see cref="TryConsume(int, long)"/> does).
    /// </summary>
    public long AvailableBytes(long now, int waitingBytes)
    {
        Refill(Cap((long)waitingBytes * 8 * NanosecondsPerSecond), now);
        return _credit <= 0 ? 0 : _credit / (8 * NanosecondsPerSecond);
    }

    /// <summary>Whether there is credit for a frame of <paramref name="bytes"/> now (nothing taken).</summary>
    public bool CanConsume(int bytes)
    {
        var cost = (long)bytes * 8 * NanosecondsPerSecond;
        Refill(Cap(cost));
        return _credit >= cost;
    }

    /// <summary>The host-clock timestamp (in nanoseconds) at which a frame of <paramref name="bytes"/> will have enough credit; now if it has.</summary>
    public long ReadyAt(int bytes)
    {
        var cost = (long)bytes * 8 * NanosecondsPerSecond;
        Refill(Cap(cost));
        var now = _last;
        return _credit >= cost ? now : now + (cost - _credit + BitsPerSecond - 1) / BitsPerSecond;
    }

    /// <summary>The host clock, in nanoseconds.</summary>
    public long Timestamp => Now();

    /// <summary>Takes credit for a frame already sent (after <see cref="CanConsume"/> said yes).</summary>
    public void Consume(int bytes) => _credit -= (long)bytes * 8 * NanosecondsPerSecond;

    // Ten milliseconds of the allocation; while a frame larger than that waits, that frame's cost
    // on top, so the credit that accrues past the frame's cost while it waits for the next poll
    // is not thrown away (at 64 Kbps a 1,000-byte frame is 125 ms of credit).
    // Always one frame's cost on top of the ten milliseconds: a frame that comes a little after
    // its credit is ready (traffic not locked to the bucket's phase) finds the credit of the wait
    // kept — without it, 64-byte frames offered at twice 64 Kbps, each at a random point of its
    // spacing, got 89% of the allocation (the bucket held 1.25 frames).
    private long Cap(long cost) => cost + _depth;

    private void Refill(long cap) => Refill(cap, Now());

    private void Refill(long cap, long now)
    {
        var elapsed = now - _last;
        if (elapsed <= 0) return;
        _last = now;
        // elapsed × rate could overflow for long idle gaps: the bucket is full long before.
        _credit = elapsed >= cap / BitsPerSecond + 1 ? cap : Math.Min(cap, _credit + elapsed * BitsPerSecond);
    }

    private long Now()
    {
        var timestamp = _time.GetTimestamp();
        var frequency = _time.TimestampFrequency;
        return frequency == NanosecondsPerSecond ? timestamp : (long)(timestamp * (NanosecondsPerSecond / (double)frequency));
    }
}
