namespace NicBypass.Runtime.Stacks;

/// <summary>
/// A token bucket on the stack's clock for what a stack sends unasked in answer to others'
/// packets — ICMP errors, solicitations, challenge ACKs — so no flood can make it a traffic
/// source: <c>burst</c> at once, then <c>perSecond</c>. Exact in integers (credit in event·ns).
/// </summary>
internal sealed class RateLimit(TimeProvider time, long perSecond, long burst)
{
    private const long Nanoseconds = 1_000_000_000L;
    private readonly Lock _sync = new();
    private long _credit = burst * Nanoseconds;
    private long _last = long.MinValue;

    /// <summary>Takes one token if there is one.</summary>
    public bool TryTake()
    {
        var now = VirtualClock.ToNanoseconds(time, time.GetTimestamp());
        lock (_sync)
        {
            if (_last != long.MinValue && now > _last)
            {
                var elapsed = now - _last;
                _credit = elapsed >= burst * Nanoseconds / perSecond ? burst * Nanoseconds : Math.Min(burst * Nanoseconds, _credit + elapsed * perSecond);
            }
            _last = Math.Max(_last, now);
            if (_credit < Nanoseconds) return false;
            _credit -= Nanoseconds;
            return true;
        }
    }
}
