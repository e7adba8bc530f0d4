using NicBypass.Dsl.Diagnostics;
using NicBypass.Dsl.Model;
using NicBypass.Dsl.Syntax;
using NicBypass.Dsl.Text;
using NicBypass.Dsl.Values;

namespace NicBypass.Dsl.Binding;

/// <summary>
/// The checks that look across one NIC's VNICs once each is bound: MACs and IPs used twice
/// (NB0007, NB0009), classifier capacity (NB0018), allocations beyond the link (NB0015, NB0016)
/// and NICs nobody uses (NB0023).
/// </summary>
internal sealed class NicChecks(BindingContext context)
{
    public void Check(NicDefinition nic, List<VnicDraft> vnics)
    {
        if (vnics.Count == 0)
        {
            context.Report(DiagnosticDescriptors.NicUnused, nic.Location.Span, null, nic.Name);
            return;
        }

        var macs = new Dictionary<MacAddress, (VnicDraft Vnic, SyntaxToken Token)>();
        var ips = new Dictionary<(int Vlan, IpAddress Address), (VnicDraft Vnic, SyntaxToken Token)>();
        foreach (var vnic in vnics)
        {
            foreach (var (mac, token) in vnic.Macs)
            {
                if (macs.TryGetValue(mac, out var first))
                {
                    context.Report(DiagnosticDescriptors.DuplicateMac, token.Span, new[] { context.Location(first.Token.Span) }, mac, Describe(first.Vnic, vnic), nic.Name,
                        ReferenceEquals(first.Vnic, vnic) ? "remove the repeated one" : "every VNIC on a NIC needs its own MAC");
                }
                else
                {
                    macs.Add(mac, (vnic, token));
                }
            }
            foreach (var (prefix, token) in vnic.Ips)
            {
                var key = (vnic.Vlan, prefix.Address);
                if (ips.TryGetValue(key, out var first))
                {
                    context.Report(DiagnosticDescriptors.DuplicateIp, token.Span, new[] { context.Location(first.Token.Span) }, prefix.Address, Describe(first.Vnic, vnic), nic.Name,
                        vnic.Vlan == 0 ? "untagged" : $"in VLAN {vnic.Vlan}",
                        // The same VNIC listing it twice: the fix is to remove a line, not to move VNICs apart (found by a new user's drive).
                        ReferenceEquals(first.Vnic, vnic) ? "remove the repeated one" : "give each VNIC its own address or put them in different VLANs");
                }
                else
                {
                    ips.Add(key, (vnic, token));
                }
            }
        }

        CheckAllocations(nic, vnics, "inbound", v => v.Bandwidth, v => v.BandwidthToken, "bandwidth");
        CheckAllocations(nic, vnics, "outbound", v => v.OutboundBandwidth, v => v.OutboundToken, "outbound-bandwidth");
    }

    private void CheckAllocations(NicDefinition nic, List<VnicDraft> vnics, string direction, Func<VnicDraft, BitRate?> rate, Func<VnicDraft, SyntaxToken?> token, string property)
    {
        ulong total = 0;
        var related = new List<SourceLocation>();
        foreach (var vnic in vnics)
        {
            if (rate(vnic) is not { } r || token(vnic) is not { } t) continue;
            if (r > nic.Speed)
            {
                // An error already: not counted towards oversubscription too (one VNIC of 20G on a
                // 10G NIC said both).
                context.Report(DiagnosticDescriptors.AllocationExceedsLink, t.Span, null, $"{property} {r} of {vnic.Keyword} '{vnic.Name}'", nic.Speed, nic.Name);
                continue;
            }
            total += r.BitsPerSecond;
            related.Add(context.Location(t.Span));
        }
        if (total > nic.Speed.BitsPerSecond)
        {
            context.Report(DiagnosticDescriptors.Oversubscribed, nic.Location.Span, related, direction, nic.Name, new BitRate(total), nic.Speed);
        }
    }

    private static string Describe(VnicDraft first, VnicDraft current) =>
        ReferenceEquals(first, current) ? $"{current.Keyword} '{current.Name}' itself" : $"{first.Keyword} '{first.Name}'";
}
