namespace NicBypass.Runtime.Accounting;

/// <summary>
/// Counters of one stage (a NIC, a ring, a VNIC): frames received, delivered and dropped by
/// reason. Plain fields written only by the stage that owns them (docs/runtime.md); read them
/// when the datapath is quiet (after a pump in deterministic mode, after a stop in threaded mode).
/// </summary>
public sealed class TrafficCounters
{
    private readonly long[] _dropped = new long[DropReasons.Count];

    /// <summary>Frames that reached this stage.</summary>
    public long Received;

    /// <summary>Frames this stage handed on (to the VM or VNS for a VNIC).</summary>
    public long Delivered;

    /// <summary>Ethernet bytes (header and payload, no preamble or FCS) of the delivered frames.</summary>
    public long DeliveredBytes;

    /// <summary>On a NIC: extra copies made of group frames (a frame for three VNICs counts two), so that the VNICs' received add up to the NIC's.</summary>
    public long Replicated;

    public void Drop(DropReason reason) => _dropped[(int)reason]++;

    public void Drop(DropReason reason, long count) => _dropped[(int)reason] += count;

    /// <summary>A drop counted by two stages that may run on different threads (a flow blocked by the hardware and by its VNIC).</summary>
    public void DropShared(DropReason reason) => Interlocked.Increment(ref _dropped[(int)reason]);

    public long Dropped(DropReason reason) => _dropped[(int)reason];

    /// <summary>All drops, whatever the reason.</summary>
    public long DroppedTotal
    {
        get
        {
            long total = 0;
            foreach (var count in _dropped) total += count;
            return total;
        }
    }

    /// <summary>The counts a failed assertion wants to see: received, delivered (bytes), replicated, and the drops by reason.</summary>
    public override string ToString() =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"received {Received}, delivered {Delivered} ({DeliveredBytes} bytes), replicated {Replicated}, dropped {Drops()}");

    /// <summary>Non-zero drops by report name, in enum order.</summary>
    public IReadOnlyList<KeyValuePair<string, long>> Drops()
    {
        var drops = new List<KeyValuePair<string, long>>();
        foreach (var reason in DropReasons.All)
        {
            var count = _dropped[(int)reason];
            if (count != 0) drops.Add(new(DropReasons.Name(reason), count));
        }
        return drops.ToReportList();
    }

    public void Reset()
    {
        Received = Delivered = DeliveredBytes = 0;
        Array.Clear(_dropped);
    }
}
