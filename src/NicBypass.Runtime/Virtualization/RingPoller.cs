using NicBypass.Runtime.Devices;
using NicBypass.Runtime.Packets;
using NicBypass.Runtime.Rings;

namespace NicBypass.Runtime.Virtualization;

/// <summary>
/// Polling mode for one VNIC: disables its ring's interrupts (through the ring's interrupt
/// control) and pulls frames through the ring's poll entry point when the processor runs it.
/// Frames stay in the ring until then; if they arrive faster than they are polled, the ring
/// fills and drops. <see cref="Budget"/> limits how many frames one poll may take (the
/// bandwidth controller of a VSQ sets it; unlimited by default).
/// </summary>
public sealed class RingPoller : IPollingConsumer
{
    private readonly RingPoll _poll;
    private readonly PacketDescriptor[] _batch = new PacketDescriptor[Processor.BatchSize];

    public RingPoller(Vnic vnic, RingPoll poll, RingInterruptControl interrupts)
    {
        Vnic = vnic;
        _poll = poll;
        interrupts(false);
    }

    public Vnic Vnic { get; }

    /// <summary>Most frames one <see cref="Poll"/> may take.</summary>
    public int Budget { get; set; } = int.MaxValue;

    /// <summary>
    /// The destination's inbound allocation: each poll takes only the frames the allocation allows
    /// by now, so the rate of taking follows the allocation; the rest wait in the ring (which drops
    /// when full). Null: take everything.
    /// </summary>
    public BandwidthLimiter? Limiter { get; set; }

    /// <summary>Polls made, and polls that found frames.</summary>
    public long Polls { get; private set; }

    public bool Poll()
    {
        Polls++;
        var ring = Vnic.Ring!;
        var budget = Budget;
        var moved = 0;
        if (Limiter is { } limiter)
        {
            // One frame at a time: the next frame's length decides whether the allocation allows it.
            while (budget > 0 && ring.Queue.TryPeek(out var next) && limiter.TryConsume(next.Length - (Vnic.Vlan != 0 ? Packets.EthernetHeader.TagLength : 0)))
            {
                _poll(_batch.AsSpan(0, 1));
                Vnic.Receive(ring, _batch.AsSpan(0, 1));
                budget--;
                moved++;
            }
            return moved > 0;
        }
        while (budget > 0)
        {
            var n = _poll(_batch.AsSpan(0, Math.Min(budget, _batch.Length)));
            if (n == 0) break;
            Vnic.Receive(ring, _batch.AsSpan(0, n));
            budget -= n;
            moved += n;
        }
        return moved > 0;
    }
}
