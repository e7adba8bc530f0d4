using NicBypass.Runtime.Devices;
using NicBypass.Runtime.Packets;
using NicBypass.Runtime.Rings;

namespace NicBypass.Runtime.Virtualization;

/// <summary>
/// Polling mode for one VNIC: disables its ring's interrupts (through the ring's interrupt
/// control) and pulls frames through the ring's poll entry point when the processor runs it.
/// Frames stay in the ring until then; if they arrive faster than they are polled, the ring
/// fills and drops. With a <see cref="Limiter"/> (the destination's allocation) a poll takes only
/// what the allocation allows by then.
/// </summary>
internal sealed class RingPoller : IPollingConsumer
{
    private readonly RingPoll _poll;
    private readonly PacketDescriptor[] _batch = new PacketDescriptor[Processor.BatchSize];
    private long _notBefore;

    public RingPoller(Vnic vnic, RingPoll poll, RingInterruptControl interrupts)
    {
        Vnic = vnic;
        _poll = poll;
        interrupts(false);
    }

    public Vnic Vnic { get; }

    /// <summary>
    /// The destination's inbound allocation: each poll takes only the frames the allocation allows
    /// by now, so the rate of taking follows the allocation; the rest wait in the ring (which drops
    /// when full). Null: take everything.
    /// </summary>
    public BandwidthLimiter? Limiter { get; set; }

    /// <summary>Polls made through the ring's poll entry point.</summary>
    public long Polls { get; private set; }

    /// <summary>
    /// Turns at which the poller did not poll because the allocation will not allow the next
    /// frame before a known time: with a limiter, the rate of polling follows the allocation.
    /// </summary>
    public long Deferred { get; private set; }

    /// <summary>When it will poll again for a frame waiting for credit (ns on the limiter's clock); <see cref="long.MaxValue"/> when nothing waits for time.</summary>
    public long NextDue() => _notBefore != 0 && Vnic.Ring is { Count: > 0 } ? _notBefore : long.MaxValue;

    /// <summary>
    /// Its ring holds frames and no allocation holds the next back (a poller waiting for credit
    /// waits on time, not on the processor) — or the credit's time has come: a poller that has not
    /// run since still reads as waiting for it (interrupts kept its processor from it: found by review).
    /// </summary>
    public bool FramesWaiting => Vnic.Ring is { Count: > 0 } && (_notBefore == 0 || Limiter is not { } limiter || limiter.Timestamp >= _notBefore);

    public bool Poll() => Poll(int.MaxValue);

    /// <summary>
    /// Polls once, taking at most <paramref name="maxFrames"/> (what the consumer has room for).
    /// With a limiter, each call of the ring's poll entry point asks for the bytes the allocation
    /// allows by now; the driver returns at most that and says how long the frame it left is,
    /// which tells when to poll again.
    /// </summary>
    public bool Poll(int maxFrames)
    {
        if (maxFrames <= 0) return false;
        if (_notBefore != 0)
        {
            if (Limiter!.Timestamp < _notBefore)
            {
                Deferred++;
                return false;
            }
            _notBefore = 0;
        }
        var ring = Vnic.Ring!;
        if (ring.Count == 0) return false; // nothing to take: no poll (and nothing charged)
        Polls++;
        (Processor.Running ?? Vnic.Processor).ChargePoll();
        var moved = 0;
        int n, waiting;
        if (Limiter is { } limiter)
        {
            // The allocation is in untagged frame bytes and the ring holds tagged ones: asking for
            // the credit plus one tag's bytes can never take more than the credit (n frames of
            // Σ length ≤ credit + tag carry Σ (length − tag) ≤ credit for n ≥ 1). What the tags
            // leave over is asked for again. The clock is read once per poll.
            var now = limiter.Timestamp;
            var tag = Vnic.Vlan != 0 ? Packets.EthernetHeader.TagLength : 0;
            _poll(default, 0, out waiting); // a zero budget takes nothing: it tells the head's length
            while (moved < maxFrames && waiting > 0)
            {
                var budget = limiter.AvailableBytes(now, waiting - tag) + tag;
                n = _poll(_batch.AsSpan(0, Math.Min(_batch.Length, maxFrames - moved)), budget, out waiting);
                if (n == 0) break;
                foreach (var frame in _batch.AsSpan(0, n))
                {
                    var allowed = limiter.TryConsume(frame.Length - tag, now);
                    System.Diagnostics.Debug.Assert(allowed, "the driver returned more bytes than the budget asked for");
                }
                Vnic.Receive(ring, _batch.AsSpan(0, n));
                moved += n;
            }
            // The next frame waits for credit: do not poll again before the allocation allows it.
            if (moved < maxFrames && waiting > 0) _notBefore = limiter.ReadyAt(waiting - tag);
            return moved > 0;
        }
        while (moved < maxFrames && (n = _poll(_batch.AsSpan(0, Math.Min(_batch.Length, maxFrames - moved)), long.MaxValue, out waiting)) > 0)
        {
            Vnic.Receive(ring, _batch.AsSpan(0, n));
            moved += n;
            if (waiting == 0) break;
        }
        return moved > 0;
    }
}
