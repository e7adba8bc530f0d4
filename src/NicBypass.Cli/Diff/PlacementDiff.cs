namespace NicBypass.Cli.Diff;

/// <summary>
/// What moved between two placements (<c>nicbypass plan --diff</c>): which VNIC lost or gained a
/// hardware ring, which software ring grew, what the hardware classifier no longer holds. Pure:
/// two snapshots in, changes out, in host, NIC and placement order.
/// </summary>
public static class PlacementDiff
{
    public static IReadOnlyList<PlacementChange> Compare(PlacementSnapshot before, PlacementSnapshot after)
    {
        var changes = new List<PlacementChange>();
        var oldHosts = before.Hosts.ToDictionary(h => h.Name, StringComparer.Ordinal);
        var newHosts = after.Hosts.Select(h => h.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var host in before.Hosts.Where(h => !newHosts.Contains(h.Name))) changes.Add(new(host.Name, null, "host-removed", null, host.Name, null));
        foreach (var host in after.Hosts)
        {
            if (!oldHosts.TryGetValue(host.Name, out var old))
            {
                changes.Add(new(host.Name, null, "host-added", null, null, host.Name));
                continue;
            }
            CompareHost(old, host, changes);
        }
        return changes;
    }

    private static void CompareHost(PlacementSnapshot.Host before, PlacementSnapshot.Host after, List<PlacementChange> changes)
    {
        var host = after.Name;
        var oldNics = before.Nics.ToDictionary(n => n.Name, StringComparer.Ordinal);
        var newNics = after.Nics.ToDictionary(n => n.Name, StringComparer.Ordinal);
        // Where each VNIC was and is across the host, so a VNIC moved to another NIC reads as a move.
        var wasAt = before.Nics.SelectMany(n => n.Vnics.Select(v => (v.Key, Nic: n.Name, Place: v.Value))).ToDictionary(v => v.Key, StringComparer.Ordinal);
        var isAt = after.Nics.SelectMany(n => n.Vnics.Select(v => (v.Key, Nic: n.Name, Place: v.Value))).ToDictionary(v => v.Key, StringComparer.Ordinal);

        foreach (var nic in before.Nics.Where(n => !newNics.ContainsKey(n.Name))) changes.Add(new(host, nic.Name, "nic-removed", null, nic.Model, null));
        foreach (var nic in after.Nics)
        {
            if (!oldNics.TryGetValue(nic.Name, out var old))
            {
                changes.Add(new(host, nic.Name, "nic-added", null, null, nic.Model));
            }
            else if (old.Model != nic.Model)
            {
                changes.Add(new(host, nic.Name, "model-changed", nic.Name, old.Model, nic.Model));
            }
        }

        foreach (var (vnic, was) in wasAt.Where(v => !isAt.ContainsKey(v.Key)))
        {
            changes.Add(new(host, was.Nic, "vnic-removed", vnic, was.Place.ToString(), null));
        }
        foreach (var nic in after.Nics)
        {
            foreach (var (vnic, place) in nic.Vnics.OrderBy(v => v.Value.HardwareRing).ThenBy(v => v.Value.SoftwareRing, StringComparer.Ordinal).ThenBy(v => v.Value.SoftwareRingIndex))
            {
                if (!wasAt.TryGetValue(vnic, out var was))
                {
                    changes.Add(new(host, nic.Name, "vnic-added", vnic, null, place.ToString()));
                    continue;
                }
                var from = was.Nic == nic.Name ? was.Place.ToString() : $"{was.Nic} {was.Place}";
                var to = was.Nic == nic.Name ? place.ToString() : $"{nic.Name} {place}";
                if (from == to) continue;
                var kind = was.Place.Dedicated && !place.Dedicated ? "lost-hardware-ring"
                    : !was.Place.Dedicated && place.Dedicated ? "gained-hardware-ring"
                    : "moved";
                changes.Add(new(host, nic.Name, kind, vnic, from, to));
            }
        }

        foreach (var nic in after.Nics)
        {
            if (!oldNics.TryGetValue(nic.Name, out var old)) continue;
            foreach (var (id, count) in old.SoftwareRings.Where(r => !nic.SoftwareRings.ContainsKey(r.Key)))
            {
                changes.Add(new(host, nic.Name, "software-ring-removed", id, Count(count), null));
            }
            foreach (var (id, count) in nic.SoftwareRings)
            {
                if (!old.SoftwareRings.TryGetValue(id, out var oldCount)) changes.Add(new(host, nic.Name, "software-ring-added", id, null, Count(count)));
                else if (count != oldCount) changes.Add(new(host, nic.Name, count > oldCount ? "software-ring-grew" : "software-ring-shrank", id, Count(oldCount), Count(count)));
            }
            foreach (var vnic in nic.SoftwareClassified.Where(v => !old.SoftwareClassified.Contains(v)).Order(StringComparer.Ordinal))
            {
                changes.Add(new(host, nic.Name, "classified-in-software", vnic, null, null));
            }
            foreach (var vnic in old.SoftwareClassified.Where(v => !nic.SoftwareClassified.Contains(v) && isAt.ContainsKey(v)).Order(StringComparer.Ordinal))
            {
                changes.Add(new(host, nic.Name, "classified-in-hardware", vnic, null, null));
            }
            if (old.DefaultRing != nic.DefaultRing)
            {
                changes.Add(new(host, nic.Name, "default-ring-changed", null, Ring(old.DefaultRing), Ring(nic.DefaultRing)));
            }
        }
    }

    private static string Count(int count) => count.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static string? Ring(int? index) => index is { } i ? "hrr" + i.ToString(System.Globalization.CultureInfo.InvariantCulture) : null;
}
