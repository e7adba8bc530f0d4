namespace NicBypass.Runtime.Stacks;

/// <summary>
/// HyStart (Ha and Rhee, "Taming the elephants", 2011), as Linux's CUBIC runs it
/// (<c>tcp_cubic.c</c>'s <c>hystart_update</c>): leaves slow start, setting the threshold to the
/// window, before the bottleneck's queue overflows instead of at the loss that overflow brings.
/// Each round (from the SND.NXT a round starts at until SND.UNA passes it) is watched two ways,
/// once the window is <see cref="LowWindow"/> segments:
/// <list type="bullet">
/// <item>the ACK train: ACKs that come at most <see cref="AckSpacing"/> apart, the train lasting
/// past the least round trip (half of it unpaced) plus an allowance for a burst's ACKs
/// (<c>hystart_ack_delay</c>) — the window has filled the path;</item>
/// <item>the delay: the least of a round's round trips, once it has more than
/// <see cref="MinSamples"/>, above the connection's least by <c>clamp(least / 8, 4 ms, 16 ms)</c>
/// — the queue is filling.</item>
/// </list>
/// Without it slow start ran until a loss and overshot a short queue by hundreds of segments.
/// Round trips per ACK are TCP timestamps' (RFC 7323, milliseconds here, as the stack's clock
/// sends them): a connection without them watches the ACK train only.
/// </summary>
internal sealed class HybridSlowStart
{
    /// <summary>hystart_low_window: the window, in segments, before which nothing is watched.</summary>
    public const int LowWindow = 16;

    /// <summary>HYSTART_MIN_SAMPLES: round trips a round takes before its delay counts.</summary>
    public const int MinSamples = 8;

    /// <summary>hystart_ack_delta_us: the most between two ACKs of one train, seconds.</summary>
    public const double AckSpacing = 0.002;

    /// <summary>HYSTART_DELAY_MIN and HYSTART_DELAY_MAX, seconds: the least and most increase that counts.</summary>
    public const double MinDelayIncrease = 0.004, MaxDelayIncrease = 0.016;

    private bool _started;
    private uint _roundEnd;
    private long _roundStart, _lastAck; // clock ticks
    private double _roundLeast = double.MaxValue; // seconds: the least round trip of this round's samples
    private double _least = double.MaxValue;      // seconds: the least round trip of any sample
    private int _samples;

    /// <summary>Slow start should end here: the caller sets the threshold to the window (once, until <see cref="Restart"/>).</summary>
    public bool Found { get; private set; }

    /// <summary>Found by the round trips' growth (else by the ACK train).</summary>
    public bool ByDelay { get; private set; }

    /// <summary>Whether a timeout restarted it (what was measured before does not count).</summary>
    public bool Restarted { get; private set; }

    /// <summary>A timeout restarts slow start: watched afresh, the least round trip learned again (Linux's bictcp_state on loss resets delay_min).</summary>
    public void Restart()
    {
        Found = false;
        ByDelay = false;
        _started = false;
        _least = double.MaxValue;
        Restarted = true;
    }

    /// <summary>
    /// An ACK in slow start that moved SND.UNA to <paramref name="ack"/>, SND.NXT being
    /// <paramref name="next"/>, at <paramref name="now"/> (ticks of <paramref name="frequency"/>
    /// a second), the window <paramref name="window"/> bytes of <paramref name="segment"/>-byte
    /// segments; <paramref name="roundTrip"/>: the round trip it measured, seconds (negative:
    /// none); <paramref name="leastRoundTrip"/>: the least measured on the connection, seconds
    /// (0: none yet, and no ACK train is watched); <paramref name="paced"/>: whether its segments
    /// leave paced (else the threaded mode's, whose workers wake once a millisecond).
    /// </summary>
    public void Acknowledged(uint ack, uint next, long now, long frequency, int window, int segment, double roundTrip, double leastRoundTrip, bool paced)
    {
        if (Found) return;
        if (!_started || (int)(ack - _roundEnd) > 0)
        {
            // A round begins: it ends when what is sent by now is acknowledged (bictcp_hystart_reset).
            _started = true;
            _roundEnd = next;
            _roundStart = _lastAck = now;
            _roundLeast = double.MaxValue;
            _samples = 0;
        }
        if (roundTrip >= 0) _least = Math.Min(_least, roundTrip);
        if (window < LowWindow * segment) return;
        if (leastRoundTrip > 0 && now - _lastAck <= AckSpacing * frequency)
        {
            _lastAck = now;
            // A burst's ACKs come together (GRO, a batch): an allowance of up to a millisecond, less
            // as the pacing rate (twice the window a round trip) grows (hystart_ack_delay).
            var rate = 2.0 * window / leastRoundTrip;
            var threshold = leastRoundTrip + Math.Min(0.001, 4 * 65536 / rate);
            // Unpaced, a round's segments leave in half a round trip's burst — and in the threaded
            // mode ACKs are taken up to a poll (a millisecond) late, together: that much more.
            if (!paced) threshold = (threshold + 0.001) / 2;
            if (now - _roundStart > threshold * frequency)
            {
                Found = true;
                return;
            }
        }
        if (roundTrip < 0) return;
        _roundLeast = Math.Min(_roundLeast, roundTrip);
        if (_samples < MinSamples)
        {
            _samples++;
            return;
        }
        if (_roundLeast > _least + Math.Clamp(_least / 8, MinDelayIncrease, MaxDelayIncrease))
        {
            Found = true;
            ByDelay = true;
        }
    }
}
