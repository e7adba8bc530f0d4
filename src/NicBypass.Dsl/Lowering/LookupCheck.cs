using NicBypass.Dsl.Hardware;
using NicBypass.Dsl.Model;
using NicBypass.Dsl.Planning;

namespace NicBypass.Dsl.Lowering;

/// <summary>
/// What a generated lookup bakes for one classifier rule beyond its MAC: the runtime's
/// <c>FieldCheck</c> (docs/architecture.md § Classification as advertised) — which fields it compares (<see cref="Options"/>, names of
/// the runtime's <c>FieldCheckOptions</c>), the VLAN, the one IPv4 address and up to four ports
/// packed in 16-bit lanes. Computed from the planned entry and the fields its classifier
/// matches, by the rule the runtime derives it by (the classifier refuses a lookup whose checks
/// differ from its own).
/// </summary>
public sealed record LookupCheck(EquatableArray<string> Options, int Vlan, uint Ipv4, ulong PortLanes, string Summary)
{
    /// <summary>The ports a check holds; more make the rule <c>Overflow</c> (its filter decides).</summary>
    public const int MaxPorts = 4;

    /// <summary>The first port of the stacks' ephemeral range (RFC 6335); such ports always pass.</summary>
    public const int FirstEphemeralPort = 49152;

    public bool IsEmpty => Options.Count == 0;

    public static LookupCheck For(ClassifierEntry entry, ClassifierFields fields)
    {
        var options = new List<string>();
        var summary = new List<string>();
        var vlan = 0;
        if ((fields & ClassifierFields.Vlan) != 0)
        {
            options.Add("Vlan");
            vlan = entry.Vlan;
            summary.Add(vlan == 0 ? "untagged" : "vlan " + vlan);
        }
        var overflow = false;
        uint ipv4 = 0;
        if ((fields & ClassifierFields.DestinationIp) != 0 && entry.Ips.Count > 0)
        {
            var v4 = entry.Ips.Where(ip => !ip.IsV6).ToList();
            if (v4.Count == 1)
            {
                options.Add("Ipv4");
                ipv4 = (uint)v4[0].Low;
                summary.Add(v4[0].ToString());
            }
            else
            {
                overflow = true;
                summary.Add(v4.Count == 0 ? "IPv6 only" : v4.Count + " IPv4 addresses");
            }
        }
        ulong lanes = 0;
        if ((fields & ClassifierFields.Port) != 0 && entry.Ports.Count > 0)
        {
            options.Add("Ports");
            if ((entry.Protocols & TransportProtocols.Tcp) != 0) options.Add("Tcp");
            if ((entry.Protocols & TransportProtocols.Udp) != 0) options.Add("Udp");
            var ports = entry.Ports.Where(p => p is > 0 and < FirstEphemeralPort).Distinct().OrderBy(p => p).ToList();
            if (ports.Count > MaxPorts)
            {
                overflow = true;
                summary.Add(ports.Count + " ports");
            }
            else
            {
                lanes = PackPorts(ports);
                summary.Add("ports " + (ports.Count == 0 ? "ephemeral" : string.Join(" ", ports)));
            }
        }
        if (overflow) options.Add("Overflow");
        return new LookupCheck(options.ToEquatableArray(), vlan, ipv4, lanes, string.Join(", ", summary));
    }

    // Lane i holds port i, unused lanes repeat the last; none gives 65535 in every lane.
    private static ulong PackPorts(IReadOnlyList<int> ports)
    {
        if (ports.Count == 0) return ulong.MaxValue;
        ulong lanes = 0;
        for (var lane = 0; lane < MaxPorts; lane++) lanes |= (ulong)(ushort)ports[Math.Min(lane, ports.Count - 1)] << (16 * lane);
        return lanes;
    }
}
