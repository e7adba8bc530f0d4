namespace NicBypass.Runtime.Stacks;

/// <summary>
/// CUBIC's window function (RFC 9438) for one connection, in segments and seconds: where the
/// last loss came (W_max), when the current congestion-avoidance epoch began, and the
/// Reno-friendly estimate beside it. Pure arithmetic: the connection gives it the time, its
/// round trip and its window, and applies what it returns. Not thread-safe (the connection's
/// lock guards it).
/// </summary>
internal sealed class CubicWindow
{
    /// <summary>β_cubic: the window a loss leaves, as a fraction of the flight (RFC 9438 4.6; Linux's 717/1024).</summary>
    public const double Beta = 0.7;

    /// <summary>C: how aggressive the cubic is, segments per second cubed (RFC 9438 5.1; Linux's 0.4).</summary>
    public const double C = 0.4;

    // α_cubic (RFC 9438 4.3): the Reno-friendly estimate's growth per window acknowledged, so it
    // matches Reno's average rate with CUBIC's β; 1 once the estimate passes the window of the loss.
    private const double Alpha = 3 * (1 - Beta) / (1 + Beta);

    private double _wMax;       // segments: the window when the last loss came (0: no loss yet)
    private double _cwndPrior;  // segments: the window just before the last reduction
    private double _k;          // seconds from the epoch's start until the cubic reaches _wMax again
    private double _epochStart = double.NaN; // seconds: when the current avoidance epoch began (NaN: none yet)
    private double _estimate;   // segments: W_est, the Reno-friendly window

    /// <summary>The window when the last loss came, segments (0 before any).</summary>
    public double WindowAtLoss => _wMax;

    /// <summary>
    /// A loss (fast retransmit, a SACK recovery or a timeout) with <paramref name="cwnd"/>
    /// segments of window: remembers where it came (lower than that if the window had not regained
    /// the last loss's: fast convergence, RFC 9438 4.7) and ends the epoch. The new threshold is
    /// <see cref="Beta"/> of the flight; the connection computes it.
    /// </summary>
    public void OnLoss(double cwnd)
    {
        _cwndPrior = cwnd;
        _wMax = cwnd < _wMax ? cwnd * (1 + Beta) / 2 : cwnd;
        _epochStart = double.NaN;
    }

    /// <summary>The epoch ends without a loss (the window restarted after an idle period): the next growth starts a new one from where the window is then.</summary>
    public void Restart() => _epochStart = double.NaN;

    /// <summary>
    /// The window after an ACK of <paramref name="acked"/> segments in congestion avoidance, with
    /// <paramref name="cwnd"/> segments of window now, at <paramref name="now"/> seconds, on a
    /// path of <paramref name="roundTrip"/> seconds (RFC 9438 4.2–4.4): the cubic's value one round
    /// trip ahead (at most half again the window) approached by a share of the gap per segment,
    /// or the Reno-friendly estimate where that is larger.
    /// </summary>
    public double Grow(double now, double roundTrip, double cwnd, double acked)
    {
        if (double.IsNaN(_epochStart))
        {
            // A new epoch: the cubic starts at this window and returns to the loss's window in K
            // seconds (RFC 9438 (2)); with no loss yet, or the window already beyond it, K is 0 and
            // it probes convexly from here.
            _epochStart = now;
            if (_wMax < cwnd)
            {
                _wMax = cwnd;
                _k = 0;
            }
            else
            {
                _k = Math.Cbrt((_wMax - cwnd) / C);
            }
            _estimate = cwnd;
        }
        var t = now - _epochStart;
        var alpha = _estimate >= _cwndPrior ? 1 : Alpha;
        _estimate += alpha * acked / cwnd;
        var cubic = Window(t);
        if (cubic < _estimate) return Math.Max(cwnd, _estimate); // the Reno-friendly region
        var target = Math.Clamp(Window(t + roundTrip), cwnd, 1.5 * cwnd);
        return cwnd + (target - cwnd) / cwnd * acked;
    }

    // W_cubic(t) = C (t − K)³ + W_max (RFC 9438 (1)).
    private double Window(double t)
    {
        var d = t - _k;
        return C * d * d * d + _wMax;
    }
}
