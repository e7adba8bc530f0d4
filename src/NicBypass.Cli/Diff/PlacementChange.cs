namespace NicBypass.Cli.Diff;

/// <summary>
/// One difference between two placements. <see cref="Kind"/> is a stable word for scripts
/// (<c>plan --diff --format json</c>); <see cref="ToString"/> is the sentence a reviewer reads.
/// </summary>
/// <param name="Host">The host it concerns.</param>
/// <param name="Nic">The NIC, or null for a host added or removed.</param>
/// <param name="Kind">host-added, host-removed, nic-added, nic-removed, model-changed, vnic-added,
/// vnic-removed, lost-hardware-ring, gained-hardware-ring, moved, software-ring-added,
/// software-ring-removed, software-ring-grew, software-ring-shrank, classified-in-software,
/// classified-in-hardware, default-ring-changed.</param>
/// <param name="Subject">The VNIC, software ring or model the change is about, when there is one.</param>
/// <param name="From">Where or what it was, when it existed before.</param>
/// <param name="To">Where or what it is now, when it still exists.</param>
public sealed record PlacementChange(string Host, string? Nic, string Kind, string? Subject, string? From, string? To)
{
    public override string ToString()
    {
        var on = Nic is null ? "" : Nic + ": ";
        return on + Kind switch
        {
            "host-added" => $"host {Host} added",
            "host-removed" => $"host {Host} removed",
            "nic-added" => $"NIC added ({To})",
            "nic-removed" => $"NIC removed (was {From})",
            "model-changed" => $"model {From} -> {To}",
            "vnic-added" => $"{Subject} added at {To}",
            "vnic-removed" => $"{Subject} removed (was at {From})",
            "lost-hardware-ring" => $"{Subject} lost its hardware ring: {From} -> {To}",
            "gained-hardware-ring" => $"{Subject} gained a hardware ring: {From} -> {To}",
            "moved" => $"{Subject} moved: {From} -> {To}",
            "software-ring-added" => $"software ring {Subject} added ({To} SRRs)",
            "software-ring-removed" => $"software ring {Subject} removed (was {From} SRRs)",
            "software-ring-grew" => $"software ring {Subject} grew: {From} -> {To} SRRs",
            "software-ring-shrank" => $"software ring {Subject} shrank: {From} -> {To} SRRs",
            "classified-in-software" => $"{Subject} is now classified in software (the hardware classifier holds no entry for it)",
            "classified-in-hardware" => $"{Subject} is classified in hardware again",
            "default-ring-changed" => $"default ring {From ?? "none"} -> {To ?? "none"}",
            _ => $"{Kind} {Subject} {From} -> {To}",
        };
    }
}
