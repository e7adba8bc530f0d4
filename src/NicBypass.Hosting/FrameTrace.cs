using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using NicBypass.Runtime.Accounting;
using NicBypass.Runtime.Devices;
using NicBypass.Runtime.Packets;
using NicBypass.Runtime.Rings;
using NicBypass.Runtime.Stacks;
using NicBypass.Runtime.Virtualization;

namespace NicBypass.Hosting;

/// <summary>
/// <c>nicbypass trace</c>: sends one frame into a NIC of a running host and reports its path —
/// the frame as parsed, the hardware classifier's decision, each ring, software ring and VNIC it
/// went through, what the VM or VNS did with it, and what went back out on the wire. Nothing is
/// instrumented: the frame runs through the real datapath, and each stage's decision is read from
/// its own counters (before and after), in the order a frame meets them.
/// </summary>
public static class FrameTrace
{
    public static IReadOnlyList<TraceStep> Run(NetworkHost host, string nicName, byte[] frame)
    {
        var nic = host.Nic(nicName);
        var steps = new List<TraceStep> { new("frame", Describe(frame)) };
        // What the host sends of its own as it starts (an `ip dhcp` VNIC's DISCOVER, its duplicate
        // address detection) goes before the trace begins: the trace shows only what the frame caused.
        host.Pump();
        var wires = host.Nics.ToDictionary(n => n, n => new RecordingWire(n.Device.Wire));
        foreach (var (n, wire) in wires) n.Device.Wire = wire;
        var before = Snapshot.Take(host);
        nic.Device.Receive(frame);
        host.Pump();
        var after = Snapshot.Take(host);
        foreach (var (n, wire) in wires) n.Device.Wire = wire.Inner;

        var nicDelta = after.Nics[nic] - before.Nics[nic];
        var fields = nic.Info.Classifier.Fields;
        if (nicDelta.DroppedTotal > 0)
        {
            steps.Add(new($"{nic.Name}", $"dropped ({Reasons(nicDelta)}) {NicDropWhy(host, nic, nicDelta, frame)}"));
        }
        var reached = nic.ReceiveRings.Where(r => after.Rings[r].Received > before.Rings[r].Received).ToList();
        if (reached.Count > 0)
        {
            var targets = string.Join(", ", reached.Select(r => $"{r.Name} ({Client(r.Client)})"));
            var group = EthernetHeader.TryRead(frame, out var header) && header.IsGroup;
            var known = nic.Info.Classifier.Program.Rules.Any(r => r.Mac == EthernetHeader.ReadMac(frame));
            steps.Add(new($"{nic.Name} hardware classifier ({Fields(fields)})",
                !group && !known && nic.DefaultRing is { } defaultRing
                    ? $"destination {Mac(frame)}{VlanText(frame)} matches no entry → default ring hrr{defaultRing}, classified in software ({targets})"
                    : reached.Count == 1 && !group
                        ? $"destination {Mac(frame)}{VlanText(frame)} → {targets}"
                        : $"group destination {Mac(frame)}{VlanText(frame)}: copied to every ring serving a member of the group{(nic.DefaultRing is not null ? " and to the default ring" : "")}: {targets}"));
        }
        foreach (var ring in reached)
        {
            steps.Add(new($"{nic.Name} {ring.Name}", RingText(after.Rings[ring] - before.Rings[ring], after.Interrupts[ring] - before.Interrupts[ring], ring)));
        }
        foreach (var software in nic.SoftwareRings)
        {
            var delta = after.Software[software] - before.Software[software];
            if (delta.Received == 0) continue;
            var delivered = software.Rings.Where(r => after.Rings[r].Received > before.Rings[r].Received).ToList();
            steps.Add(new($"{nic.Name} software ring {software.Id} (software classifier)",
                delivered.Count == 0 ? $"dropped ({Reasons(delta)})" : $"destination {Mac(frame)} → {string.Join(", ", delivered.Select(r => $"{r.Name} ({Client(r.Client)})"))}"));
            foreach (var ring in delivered)
            {
                steps.Add(new($"{nic.Name} {ring.Name}", RingText(after.Rings[ring] - before.Rings[ring], after.Interrupts[ring] - before.Interrupts[ring], ring)));
            }
        }
        foreach (var vnic in host.Vnics.Where(v => v.Nic == nic))
        {
            foreach (var flow in vnic.Flows)
            {
                var flowDelta = after.Flows[flow] - before.Flows[flow];
                if (flowDelta.Received == 0) continue;
                var where = flowDelta.Dropped.ContainsKey("blocked")
                    ? after.Vnics[vnic].Received > before.Vnics[vnic].Received && after.Rings.Where(r => r.Key.Client == vnic).All(r => r.Value.Received == before.Rings[r.Key].Received)
                        ? " by the hardware classifier, before any ring" : " by the VNIC, in software"
                    : "";
                var outcome = flowDelta.Delivered > 0 ? "delivered"
                    : flowDelta.DroppedTotal == 0 ? $"waiting in the flow's own queue ({flow.Queued} there), for room behind the VNIC or for its allocation"
                    : $"dropped ({Reasons(flowDelta)}){where}";
                steps.Add(new($"flow {flow.Name} on {vnic.Name}", $"selected; {outcome}"));
            }
            var delta = after.Vnics[vnic] - before.Vnics[vnic];
            if (delta.Received == 0) continue;
            var text = $"received; {(delta.Delivered > 0 ? $"delivered {delta.DeliveredBytes} bytes{(vnic.Vlan != 0 ? $" (VLAN {vnic.Vlan} tag removed)" : "")}" : "not delivered")}";
            if (delta.DroppedTotal > 0) text += $"; dropped ({Reasons(delta)})";
            // The VNIC's own software check (its VLAN, …) comes first, as in Vnic.Deliver (a group frame of another VLAN was blamed on its port: found by review).
            var failsOwnCheck = vnic.SoftwareCheck is { } own && !own.Accepts(frame);
            if (delta.Dropped.ContainsKey("no-match") && !failsOwnCheck && (frame[0] & 1) != 0 && vnic.GroupCheck is { } groupCheck && !groupCheck.AcceptsGroup(frame))
            {
                text += " — the frame's port is not one of its own; checked in software (a group frame is copied to every member of its group, whatever its port)";
            }
            else if (delta.Dropped.ContainsKey("no-match") && vnic.SoftwareCheck is { } check && EthernetHeader.TryRead(frame, out var read))
            {
                var field = check.Rejected(frame, read);
                text += " — " + RejectedText(host, vnic, frame, read, field == Runtime.Classification.ClassifierMatch.None ? check.Fields : field) +
                        "; checked in software (the hardware classifier cannot match it)";
            }
            steps.Add(new($"VNIC {vnic.Name}", text));
            if (delta.Delivered == 0) continue;
            // An answer to a sender whose link-layer address the stack does not hold waits for it:
            // the solicitation goes out instead, and the trace says so (it named an answer the
            // wire never showed: found by a new user's drive).
            var soliciting = wires.Values.Any(w => w.Frames.Any(IsSolicitation));
            if (vnic.Interface is { } guest)
            {
                steps.Add(new($"interface {vnic.Name}", guest.Transform == PacketTransform.ReverseBits ? "reverse-bits: each byte's bit order flipped into VM memory" : "copied into VM memory"));
                steps.Add(new($"VM {vnic.Name} guest stack", StackText(after.Stacks[vnic] - before.Stacks[vnic], soliciting, IsIpv4(frame))));
            }
            else if (host.NetworkStackOf(vnic) is { } vns)
            {
                var policy = vns.Policy == SerializationPolicy.Concurrent ? "concurrent: UDP only, threads in parallel" : "one thread at a time: TCP in order";
                steps.Add(new($"VNS {vnic.Name} ({policy})", StackText(after.Stacks[vnic] - before.Stacks[vnic], soliciting, IsIpv4(frame))));
            }
            else
            {
                steps.Add(new($"destination {vnic.Name}", "handed to its consumer"));
            }
        }
        foreach (var (n, wire) in wires)
        {
            foreach (var sent in wire.Frames) steps.Add(new($"{n.Name} wire", "out: " + Describe(sent)));
        }
        foreach (var vnic in host.Vnics)
        {
            var spoofed = vnic.TransmitCounters.Dropped(DropReason.Spoofed) - before.Spoofed[vnic];
            if (spoofed > 0) steps.Add(new($"VNIC {vnic.Name}", $"{spoofed} outgoing frame(s) dropped as spoofed"));
        }
        return steps;
    }

    /// <summary>Parses a frame written in hexadecimal (spaces, colons, dashes and a 0x prefix allowed).</summary>
    public static bool TryParseHex(string text, out byte[] frame, out string error)
    {
        var digits = text.Trim();
        if (digits.StartsWith("0x", StringComparison.OrdinalIgnoreCase)) digits = digits.Substring(2);
        digits = new string(digits.Where(c => !char.IsWhiteSpace(c) && c is not (':' or '-' or '.')).ToArray());
        frame = Array.Empty<byte>();
        var bad = digits.FirstOrDefault(c => !Uri.IsHexDigit(c));
        if (bad != default)
        {
            error = $"'{bad}' is not a hexadecimal digit";
            return false;
        }
        if (digits.Length == 0 || digits.Length % 2 != 0)
        {
            error = digits.Length == 0 ? "the frame is empty" : $"an odd number of hexadecimal digits ({digits.Length}): each byte takes two";
            return false;
        }
        frame = Convert.FromHexString(digits);
        error = "";
        return true;
    }

    // ---- describing ----------------------------------------------------------------------------

    private static string Describe(byte[] frame)
    {
        if (frame.Length < EthernetHeader.Length) return $"{frame.Length} byte{(frame.Length == 1 ? "" : "s")}, shorter than an Ethernet header";
        if (!EthernetHeader.TryRead(frame, out var header)) return $"{frame.Length} bytes, a cut-off VLAN tag";
        var text = $"{frame.Length} bytes, {EthernetHeader.FormatMac(header.Source)} → {EthernetHeader.FormatMac(header.Destination)}{(header.IsTagged ? $", VLAN {header.Vlan}" : ", untagged")}, EtherType 0x{header.EtherType:X4}";
        var payload = frame.AsSpan(header.PayloadOffset);
        return header.EtherType switch
        {
            0x0806 when payload.Length >= 28 => text + (BinaryPrimitives.ReadUInt16BigEndian(payload.Slice(6)) == 1
                ? $" (ARP request: who has {new IPAddress(payload.Slice(24, 4))}, tell {new IPAddress(payload.Slice(14, 4))})"
                : $" (ARP reply: {new IPAddress(payload.Slice(14, 4))} is at {EthernetHeader.FormatMac(EthernetHeader.ReadMac(payload.Slice(8)))})"),
            0x0800 when payload.Length >= 20 => text + $" (IPv4 {new IPAddress(payload.Slice(12, 4))} → {new IPAddress(payload.Slice(16, 4))}, {Transport(payload[9], payload.Slice(Math.Min(payload.Length, (payload[0] & 0x0F) * 4)))})",
            0x86DD when payload.Length >= 40 => text + $" (IPv6 {new IPAddress(payload.Slice(8, 16))} → {new IPAddress(payload.Slice(24, 16))}, {Ipv6Transport(payload)})",
            _ => text,
        };
    }

    // What an IPv6 packet carries, through the extension headers the stack walks (the transport
    // read "protocol 0" behind a hop-by-hop header: found by a new user's drive), a fragment's
    // header and a routing header it stops at.
    private static string Ipv6Transport(ReadOnlySpan<byte> packet)
    {
        if (!Ipv6Header.TryRead(packet, out var ip)) return Transport(packet[6], packet.Slice(40));
        var behind = ip.NextHeader != packet[6] || ip.AtomicFragment ? " behind extension headers" : "";
        var next = ip.Payload;
        switch (ip.NextHeader)
        {
            case 44 when next.Length >= 8: // a fragment: the first carries the transport's header
                var offset = BinaryPrimitives.ReadUInt16BigEndian(next.Slice(2)) & 0xFFF8;
                var more = (next[3] & 1) != 0;
                return offset == 0
                    ? $"first fragment{(more ? "" : " (alone)")}, {Transport(next[0], next.Slice(8))}{behind}"
                    : $"fragment at offset {offset}{(more ? "" : ", the last")}{behind}";
            case 43 when next.Length >= 4:
                return $"routing header type {next[2]}, {next[3]} segment{(next[3] == 1 ? "" : "s")} left{behind}";
            default:
                return Transport(ip.NextHeader, next) + behind;
        }
    }

    // An ARP request or an IPv6 neighbour solicitation.
    private static bool IsSolicitation(byte[] frame)
    {
        if (!EthernetHeader.TryRead(frame, out var header)) return false;
        var payload = frame.AsSpan(header.PayloadOffset);
        return header.EtherType switch
        {
            0x0806 => payload.Length >= 8 && BinaryPrimitives.ReadUInt16BigEndian(payload.Slice(6)) == 1,
            0x86DD => Ipv6Header.TryRead(payload, out var ip) && ip.NextHeader == 58 && ip.Payload.Length >= 1 && ip.Payload[0] == 135,
            _ => false,
        };
    }

    // Why a VNIC's software check refused a frame, in the words of docs/dsl.md's rules: a tag in
    // the tag (QinQ) is nobody's, whatever the outer VLAN; a transport the stack does not serve is
    // its protocol, not its port (both were "the frame's VLAN/port is not one of its own": found
    // by a new user's drive).
    private static string RejectedText(NetworkHost host, Vnic vnic, byte[] frame, in EthernetHeader header, Runtime.Classification.ClassifierMatch field)
    {
        if (field == Runtime.Classification.ClassifierMatch.Vlan && header.Vlan == vnic.Vlan && EthernetHeader.IsTagType(header.EtherType))
        {
            return "the frame carries a second VLAN tag inside the first (802.1ad QinQ), which belongs to no VNIC";
        }
        if (field == Runtime.Classification.ClassifierMatch.Port && host.NetworkStackOf(vnic)?.Stack.Settings.Protocols is { } served
            && TransportOf(frame.AsSpan(header.PayloadOffset), header.EtherType) is var (name, protocol) && (served & protocol) == 0)
        {
            return $"the frame is {name}, a transport it does not serve (it serves {ProtocolNames(served)})";
        }
        return $"the frame's {FieldNames(field)} is not one of its own";
    }

    private static (string Name, Runtime.Stacks.StackProtocols Protocol)? TransportOf(ReadOnlySpan<byte> packet, ushort etherType)
    {
        byte protocol;
        if (etherType == 0x0800 && packet.Length >= 20) protocol = packet[9];
        else if (etherType == 0x86DD && Ipv6Header.TryRead(packet, out var ip)) protocol = ip.NextHeader == 44 && ip.Payload.Length >= 8 ? ip.Payload[0] : ip.NextHeader;
        else return null;
        return protocol switch
        {
            6 => ("TCP", Runtime.Stacks.StackProtocols.Tcp),
            17 => ("UDP", Runtime.Stacks.StackProtocols.Udp),
            _ => null,
        };
    }

    private static string ProtocolNames(Runtime.Stacks.StackProtocols served)
    {
        var names = new List<string>();
        if ((served & Runtime.Stacks.StackProtocols.Tcp) != 0) names.Add("tcp");
        if ((served & Runtime.Stacks.StackProtocols.Udp) != 0) names.Add("udp");
        return names.Count == 0 ? "neither tcp nor udp" : string.Join(" and ", names);
    }

    private static string Transport(byte protocol, ReadOnlySpan<byte> segment) => protocol switch
    {
        1 when segment.Length >= 1 => segment[0] switch { 8 => "ICMP echo request", 0 => "ICMP echo reply", 3 => "ICMP destination unreachable", var t => $"ICMP type {t}" },
        58 when segment.Length >= 1 => segment[0] switch { 128 => "ICMPv6 echo request", 129 => "ICMPv6 echo reply", 135 => "neighbour solicitation", 136 => "neighbour advertisement", 1 => "ICMPv6 destination unreachable", var t => $"ICMPv6 type {t}" },
        17 when segment.Length >= 8 => $"UDP {BinaryPrimitives.ReadUInt16BigEndian(segment)} → {BinaryPrimitives.ReadUInt16BigEndian(segment.Slice(2))}",
        6 when segment.Length >= 14 => $"TCP {BinaryPrimitives.ReadUInt16BigEndian(segment)} → {BinaryPrimitives.ReadUInt16BigEndian(segment.Slice(2))} [{TcpFlagsText(segment[13])}]",
        0 => "hop-by-hop options header",
        60 => "destination options header",
        43 => "routing header",
        44 => "fragment header",
        _ => $"protocol {protocol}",
    };

    private static string TcpFlagsText(byte flags)
    {
        var names = new[] { (0x02, "SYN"), (0x10, "ACK"), (0x01, "FIN"), (0x04, "RST"), (0x08, "PSH") }.Where(f => (flags & f.Item1) != 0).Select(f => f.Item2).ToList();
        return names.Count == 0 ? "no flags" : string.Join(" ", names);
    }

    // An IPv4 frame (ICMP answers it; ICMPv6 an IPv6 one), past any VLAN tags.
    private static bool IsIpv4(ReadOnlySpan<byte> frame) => EthernetHeader.TryRead(frame, out var ethernet) && ethernet.EtherType == EtherType.Ipv4;

    private static string StackText(StackDelta delta, bool soliciting = false, bool ipv4 = false)
    {
        var parts = new List<string>();
        if (delta.ArpRepliesSent > 0) parts.Add("answered the ARP request");
        if (delta.NeighborAdvertisementsSent > 0) parts.Add("answered with a neighbour advertisement");
        if (delta.EchoRepliesSent > 0) parts.Add("answered with an echo reply");
        if (delta.UdpEchoesSent > 0) parts.Add("echoed the datagram (the guest's echo service)");
        if (delta.PortUnreachablesSent > 0) parts.Add("answered with port unreachable");
        if (delta.ParameterProblemsSent > 0) parts.Add(ipv4 ? "answered with an ICMP parameter problem" : "answered with an ICMPv6 parameter problem");
        if (delta.ResetsSent > 0) parts.Add("answered with RST");
        if (delta.Delivered > 0) parts.Add("delivered to a socket or connection");
        if (delta.Answered > 0 && parts.Count == 0) parts.Add("handled by the stack");
        if (soliciting && parts.Count > 0 && !parts[0].StartsWith("delivered", StringComparison.Ordinal))
        {
            parts[0] += " (which waits for the sender's link-layer address: the solicitation below goes first)";
        }
        foreach (var (reason, count) in delta.Drops) parts.Add($"dropped ({reason}{(count > 1 ? " ×" + count : "")})");
        return parts.Count == 0 ? "nothing yet (waiting in its queue)" : string.Join("; ", parts);
    }

    private static string RingText(Counts delta, long interrupts, Runtime.Rings.ReceiveRing ring)
    {
        if (delta.Delivered == 0) return $"dropped ({Reasons(delta)})";
        var how = ring.InterruptsEnabled
            ? interrupts > 0 ? $"{(ring.InterruptKind == Runtime.Rings.InterruptKind.Hardware ? "hardware" : "software")} interrupt on {Target(ring.InterruptTarget)}" : "drained with frames already pending"
            : "polling mode: taken through its poll entry point";
        return $"queued; {how}";
    }

    private static string NicDropWhy(NetworkHost host, HostNic nic, Counts delta, byte[] frame) =>
        delta.Dropped.ContainsKey("no-match") && frame.Length >= 6 && (frame[0] & 1) != 0 ? $"— no VNIC is a member of group {Mac(frame)}{VlanText(frame)}"
        : delta.Dropped.ContainsKey("no-match") && frame.Length >= 6 && Owner(host, nic, EthernetHeader.ReadMac(frame)) is { } owner
            ? $"— destination {Mac(frame)} is VNIC {owner.Name}'s, but the frame's {FieldNames(Mismatch(nic, frame))} does not match its rule"
        : delta.Dropped.ContainsKey("no-match") ? $"— no classifier rule for destination {Mac(frame)}{VlanText(frame)}"
        : delta.Dropped.ContainsKey("oversize") ? $"— {frame.Length} bytes is longer than the MTU allows"
        : delta.Dropped.ContainsKey("malformed") ? "— not a whole Ethernet header" : "";

    // Which of the fields the NIC's classifier matches besides the MAC the frame fails (its port,
    // not "destination IP, VLAN, port" when only the port is wrong: found by a new user's drive);
    // all of them where that cannot be told.
    private static Runtime.Classification.ClassifierMatch Mismatch(HostNic nic, byte[] frame)
    {
        var fields = nic.Info.Classifier.Fields & ~Runtime.Classification.ClassifierMatch.DestinationMac;
        var mac = EthernetHeader.ReadMac(frame);
        if (nic.Info.Classifier.Program.Rules.FirstOrDefault(r => r.Mac == mac) is not { } rule || !EthernetHeader.TryRead(frame, out var header)) return fields;
        var failed = Runtime.Classification.DestinationFilter.Create(rule, fields)?.Rejected(frame, header) ?? Runtime.Classification.ClassifierMatch.None;
        return failed == Runtime.Classification.ClassifierMatch.None ? fields : failed;
    }

    // The VNIC a NIC's hardware classifier has a rule for the MAC of.
    private static Vnic? Owner(NetworkHost host, HostNic nic, ulong mac) =>
        nic.Info.Classifier.Program.Rules.FirstOrDefault(r => r.Mac == mac) is { } rule ? host.Vnics.FirstOrDefault(v => ReferenceEquals(v.Counters, rule.Counters)) : null;

    private static string FieldNames(Runtime.Classification.ClassifierMatch fields, string separator = ", ", bool brief = false)
    {
        var names = new List<string>();
        if ((fields & Runtime.Classification.ClassifierMatch.DestinationIp) != 0) names.Add(brief ? "IP" : "destination IP");
        if ((fields & Runtime.Classification.ClassifierMatch.Vlan) != 0) names.Add("VLAN");
        if ((fields & Runtime.Classification.ClassifierMatch.Port) != 0) names.Add("port");
        return names.Count == 0 ? "header" : string.Join(separator, names);
    }

    // The hardware classifier's fields as `trace` names them: "matches MAC + IP + VLAN + port".
    private static string Fields(Runtime.Classification.ClassifierMatch fields) =>
        "matches MAC" + ((fields & ~Runtime.Classification.ClassifierMatch.DestinationMac) is var rest and not 0 ? " + " + FieldNames(rest, " + ", brief: true) : "");

    private static string Client(Runtime.Rings.IReceiveRingClient? client) => client switch
    {
        Vnic vnic => $"VNIC {vnic.Name}",
        SoftwareRing software => $"software ring {software.Id}",
        _ => "unbound",
    };

    private static string Reasons(Counts delta) => string.Join(", ", delta.Dropped.Select(d => d.Value > 1 ? $"{d.Key} ×{d.Value}" : d.Key));

    private static string Mac(byte[] frame) => frame.Length >= 6 ? EthernetHeader.FormatMac(EthernetHeader.ReadMac(frame)) : "?";

    private static string VlanText(byte[] frame) => EthernetHeader.TryRead(frame, out var header) && header.IsTagged ? $" in VLAN {header.Vlan}" : "";

    // ---- counters ------------------------------------------------------------------------------

    private sealed record Counts(long Received, long Delivered, long DeliveredBytes, Dictionary<string, long> Dropped)
    {
        public long DroppedTotal => Dropped.Values.Sum();

        public static Counts Of(TrafficCounters c) => new(c.Received, c.Delivered, c.DeliveredBytes, c.Drops().ToDictionary(d => d.Key, d => d.Value));

        public static Counts operator -(Counts a, Counts b) => new(a.Received - b.Received, a.Delivered - b.Delivered, a.DeliveredBytes - b.DeliveredBytes,
            a.Dropped.Select(d => (d.Key, Value: d.Value - b.Dropped.GetValueOrDefault(d.Key))).Where(d => d.Value != 0).ToDictionary(d => d.Key, d => d.Value));
    }

    private sealed record StackDelta(long Delivered, long Answered, long ArpRepliesSent, long EchoRepliesSent, long UdpEchoesSent, long NeighborAdvertisementsSent, long PortUnreachablesSent, long ResetsSent, long ParameterProblemsSent, Dictionary<string, long> Drops)
    {
        public static StackDelta Of(StackCounters c) => new(c.Delivered, c.Answered, c.ArpRepliesSent, c.EchoRepliesSent, c.UdpEchoesSent, c.NeighborAdvertisementsSent, c.PortUnreachablesSent, c.ResetsSent, c.ParameterProblemsSent,
            c.Drops().ToDictionary(d => d.Key, d => d.Value));

        public static StackDelta operator -(StackDelta a, StackDelta b) => new(a.Delivered - b.Delivered, a.Answered - b.Answered, a.ArpRepliesSent - b.ArpRepliesSent, a.EchoRepliesSent - b.EchoRepliesSent,
            a.UdpEchoesSent - b.UdpEchoesSent, a.NeighborAdvertisementsSent - b.NeighborAdvertisementsSent, a.PortUnreachablesSent - b.PortUnreachablesSent, a.ResetsSent - b.ResetsSent, a.ParameterProblemsSent - b.ParameterProblemsSent,
            a.Drops.Select(d => (d.Key, Value: d.Value - b.Drops.GetValueOrDefault(d.Key))).Where(d => d.Value != 0).ToDictionary(d => d.Key, d => d.Value));
    }

    private sealed record Snapshot(
        Dictionary<HostNic, Counts> Nics,
        Dictionary<Runtime.Rings.ReceiveRing, Counts> Rings,
        Dictionary<Runtime.Rings.ReceiveRing, long> Interrupts,
        Dictionary<SoftwareRing, Counts> Software,
        Dictionary<Vnic, Counts> Vnics,
        Dictionary<Vnic, StackDelta> Stacks,
        Dictionary<Vnic, long> Spoofed,
        Dictionary<Runtime.Classification.Flow, Counts> Flows)
    {
        public static Snapshot Take(NetworkHost host)
        {
            // A NIC lists all its software rings, nested ones included.
            var rings = host.Nics.SelectMany(n => n.ReceiveRings.Cast<Runtime.Rings.ReceiveRing>().Concat(n.SoftwareRings.SelectMany(s => s.Rings))).ToList();
            return new Snapshot(
                host.Nics.ToDictionary(n => n, n => Counts.Of(n.Device.Counters)),
                rings.ToDictionary(r => r, r => Counts.Of(r.Counters)),
                rings.ToDictionary(r => r, r => r.Interrupts),
                host.Nics.SelectMany(n => n.SoftwareRings).ToDictionary(s => s, s => Counts.Of(s.Counters)),
                host.Vnics.ToDictionary(v => v, v => Counts.Of(v.Counters)),
                host.Vnics.Where(v => v.Interface is not null || host.NetworkStackOf(v) is not null).ToDictionary(v => v, v => StackDelta.Of(v.Interface is { } i ? i.VirtualMachine.Counters : host.NetworkStackOf(v)!.Counters)),
                host.Vnics.ToDictionary(v => v, v => v.TransmitCounters.Dropped(DropReason.Spoofed)),
                host.Vnics.SelectMany(v => v.Flows).ToDictionary(f => f, f => Counts.Of(f.Counters)));
        }
    }

    // Where an interrupt landed: the processor, and for an HRR the MSI vector it came through.
    private static string Target(Runtime.Rings.IInterruptTarget? target) => target switch
    {
        MsiVector vector => $"{vector.Processor} (MSI vector {vector.Index})",
        null => "-",
        _ => target.ToString() ?? "-",
    };
}
