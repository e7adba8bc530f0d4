namespace NicBypass.Runtime.Devices;

/// <summary>
/// The receive side of a NIC's link: frames offered to it, carried (they fitted the link rate
/// and reached the NIC) and dropped (they did not). <c>Offered = Carried + Dropped</c>, and
/// <c>Carried</c> equals the NIC's <c>Counters.Received</c>.
/// </summary>
public sealed class LinkCounters
{
    public long Offered { get; internal set; }

    public long Dropped { get; internal set; }

    public long Carried => Offered - Dropped;
}
