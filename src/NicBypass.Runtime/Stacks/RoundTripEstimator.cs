namespace NicBypass.Runtime.Stacks;

/// <summary>
/// RFC 6298's retransmission timer for one TCP connection: smoothed round trip (SRTT), its
/// variation (RTTVAR) and the timeout RTO = SRTT + max(G, 4·RTTVAR), kept within
/// [min, max]; doubled on each timeout (back-off) and recomputed from the estimate when an ACK
/// makes progress. Samples come from echoed timestamps (RFC 7323), so a segment sent again is
/// measured too. Not thread-safe: the connection's lock guards it.
/// </summary>
internal sealed class RoundTripEstimator
{
    private readonly TimeSpan _initial;
    private readonly TimeSpan _min;
    private readonly TimeSpan _max;
    private double _srtt, _rttvar; // seconds; _srtt == 0: no sample yet

    /// <param name="initial">The timeout before any sample (RFC 6298: 1 s; configurable for tests).</param>
    public RoundTripEstimator(TimeSpan initial, TimeSpan min, TimeSpan max)
    {
        _initial = initial;
        // A configured initial timeout below the floor lowers the floor (tests on short timers).
        _min = initial < min ? initial : min;
        _max = max;
        Timeout = initial;
    }

    /// <summary>The retransmission timeout in force.</summary>
    public TimeSpan Timeout { get; private set; }

    /// <summary>The smoothed round trip, once measured.</summary>
    public TimeSpan? Smoothed => _srtt > 0 ? _smoothed : null;

    /// <summary><see cref="Smoothed"/> in seconds (as its <see cref="TimeSpan"/> reads: whole ticks), 0 before a sample: read by every segment a paced sender sends, so kept, not converted each time.</summary>
    public double SmoothedSeconds { get; private set; }

    private TimeSpan _smoothed;

    /// <summary>A sample has been taken (<see cref="Smoothed"/> is not null).</summary>
    public bool Measured => _srtt > 0;

    /// <summary>Adds one round-trip sample (in seconds); bogus samples (over a minute: a wrapped echo) are ignored.</summary>
    /// <param name="seconds">The round trip measured.</param>
    /// <param name="floor">The least a first sample counts as: half the clock's resolution (the
    /// timestamps' millisecond: 0 ms is anything below one), or one tick of a clock that times
    /// segments; never 0, which stands for no sample.</param>
    public void Sample(double seconds, double floor = 0.0005)
    {
        if (seconds > 60 || seconds < 0) return;
        if (_srtt == 0)
        {
            _srtt = Math.Max(seconds, floor);
            _rttvar = seconds / 2;
        }
        else
        {
            _rttvar = 0.75 * _rttvar + 0.25 * Math.Abs(_srtt - seconds);
            _srtt = 0.875 * _srtt + 0.125 * seconds;
        }
        _smoothed = TimeSpan.FromSeconds(_srtt);
        SmoothedSeconds = _smoothed.TotalSeconds;
        Timeout = Computed();
    }

    /// <summary>
    /// Before any sample: the timeout a first sample of <paramref name="seconds"/> would give
    /// (RFC 6298 2.2: three times it), without taking it as the smoothed round trip — the
    /// handshake's, where no timestamps measure the data.
    /// </summary>
    public void Seed(double seconds)
    {
        if (_srtt > 0 || seconds is > 60 or < 0) return;
        var rto = TimeSpan.FromSeconds(3 * seconds);
        Timeout = rto < _min ? _min : rto > _max ? _max : rto;
    }

    /// <summary>A timeout fired: double the timeout, up to the maximum (RFC 6298 5.5).</summary>
    public void BackOff() => Timeout = Timeout * 2 > _max ? _max : Timeout * 2;

    /// <summary>An ACK made progress without a sample: undo the back-off (RFC 6298 5.7's spirit).</summary>
    public void Reset() => Timeout = _srtt > 0 ? Computed() : _initial;

    private TimeSpan Computed()
    {
        var rto = TimeSpan.FromSeconds(_srtt + Math.Max(0.001, 4 * _rttvar));
        return rto < _min ? _min : rto > _max ? _max : rto;
    }
}
