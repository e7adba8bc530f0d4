namespace NicBypass.Runtime.Virtualization;

/// <summary>
/// The report of a run (README.md § A short tour; the JSON field names are a contract). Every count is a
/// number of frames; a VNIC's <c>Received</c> counts frames classified to it, before any later
/// drop, so <c>Received = Delivered + dropped</c> once the datapath is idle.
/// </summary>
public sealed record TrafficReport(long Frames, IReadOnlyList<NicTrafficReport> Nics, double Seconds, IReadOnlyList<ProcessorTrafficReport>? Cpus = null);

/// <summary>One NIC: what its link was offered and carried, frames off its wire and the drops no VNIC owns.</summary>
/// <remarks><c>Σ Vnics.Received = Received − Σ Dropped + Replicated − Queued</c> (extra copies of group
/// frames; <c>Queued</c>: frames still on the default ring of a NIC that classifies in software, not
/// yet any VNIC's — 0 otherwise, and 0 once the datapath is idle).</remarks>
public sealed record NicTrafficReport(string Name, long Received, IReadOnlyList<KeyValuePair<string, long>> Dropped, IReadOnlyList<VnicTrafficReport> Vnics, WireTrafficReport? Wire = null, long Replicated = 0, long Queued = 0);

/// <summary>
/// One VNIC: the ring that serves it, frames classified to it, delivered (and their bytes), drops
/// by reason, frames still in its ring (<c>Received = Delivered + dropped + Queued</c>); for a
/// container or service, what its VNS did with what it was delivered and its serialization
/// queues; for a VM under the cost model, its guest side; for a VM, what its guest stack did with
/// what was delivered (<see cref="GuestStack"/>: <c>Waiting</c> is what its guest ring still
/// held, so Delivered = its received + waiting).
/// </summary>
public sealed record VnicTrafficReport(string Name, string Ring, long Received, long Delivered, long DeliveredBytes, IReadOnlyList<KeyValuePair<string, long>> Dropped, StackTrafficReport? Stack = null,
    LatencyReport? Latency = null, long Queued = 0, SerializationQueueReport? Vsq = null, GuestTrafficReport? Guest = null,
    IReadOnlyList<FlowTrafficReport>? Flows = null, StackTrafficReport? GuestStack = null);
