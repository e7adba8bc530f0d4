using System.Buffers.Binary;
using System.Net;
using NicBypass.Runtime.Accounting;
using NicBypass.Runtime.Classification;
using NicBypass.Runtime.Packets;
using NicBypass.Runtime.Rings;
using NicBypass.Runtime.Stacks;

namespace NicBypass.Runtime.Virtualization;

/// <summary>
/// A virtual NIC: owns MACs, IPs and a VLAN, and acts like a NIC towards what is behind it — a
/// VM (through its <see cref="GuestInterface"/>) or a packet destination (through its stack).
/// A receive ring (HRR or SRR) hands it frames a batch at a time; it removes the VLAN tag,
/// delivers each frame and frees its buffer. Outbound frames get the VLAN tag back and go to one
/// of the NIC's transmit rings.
/// </summary>
public sealed class Vnic : IReceiveRingClient
{
    private readonly byte[] _transmitScratch;
    private readonly ulong[] _macs;
    private GuestInterface? _interface;
    private IVnicConsumer? _consumer;

    internal Vnic(int id, VnicRole role, VnicSettings settings, HostNic nic, Processor processor)
    {
        Id = id;
        Role = role;
        Settings = settings;
        Nic = nic;
        Processor = processor;
        _macs = settings.Macs.ToArray();
        _transmitScratch = new byte[nic.Device.MaxFrameLength + EthernetHeader.TagLength];
        var ips = (settings.Ips ?? Array.Empty<IPAddress>()).Select(NetworkAddress.From).ToArray();
        _allowedV4 = ips.Where(a => !a.IsV6).Select(a => (uint)a.Value).ToArray();
        _allowedV6 = ips.Where(a => a.IsV6).Select(a => a.Value).ToArray();
        _checkIps = ips.Length > 0;
    }

    private readonly uint[] _allowedV4;
    private readonly UInt128[] _allowedV6;
    private readonly bool _checkIps;

    public int Id { get; }

    public string Name => Settings.Name;

    public VnicRole Role { get; }

    public VnicSettings Settings { get; }

    public HostNic Nic { get; }

    /// <summary>The processor its ring's interrupts (and its polling) run on.</summary>
    public Processor Processor { get; }

    /// <summary>Its MACs (the first is the one its stack sends from).</summary>
    public IReadOnlyList<ulong> Macs => _macs;

    public IReadOnlyList<IPAddress> Ips => Settings.Ips ?? Array.Empty<IPAddress>();

    public int Vlan => Settings.Vlan;

    /// <summary>From each delivered frame's last bit on the wire to its delivery to the VM or VNS (measured under the cost model).</summary>
    public LatencyHistogram Latency { get; } = new();

    /// <summary>Inbound: received (classified to it), delivered, delivered bytes, drops by reason.</summary>
    public TrafficCounters Counters { get; } = new();

    /// <summary>
    /// Outbound: frames sent (<c>Received</c>), queued on a transmit ring (<c>Delivered</c>) and
    /// dropped (<c>spoofed</c>, <c>malformed</c>, <c>oversize</c>). A frame refused for a full transmit
    /// ring is not counted here (the sender keeps it and retries; see <see cref="BackPressured"/>).
    /// </summary>
    public TrafficCounters TransmitCounters { get; } = new();

    /// <summary>Sends refused because the transmit ring was full (back-pressure, not loss).</summary>
    public long BackPressured { get; private set; }

    /// <summary>
    /// Spoofing protection (Crossbow's <c>protection</c>): frames whose source MAC is not one of
    /// the VNIC's, or whose source IP (IPv4, IPv6, ARP sender) is not one of its declared
    /// addresses, are dropped and counted as <c>spoofed</c>. VNICs without declared addresses
    /// (<c>ip dhcp</c>) are checked by MAC only. On by default.
    /// </summary>
    public bool Protection { get; set; } = true;

    /// <summary>How many more frames what is behind it takes now (the inbound VSQ's room); the ring keeps the rest.</summary>
    internal int Room => _consumer is IFlowControlledConsumer flow ? flow.Room : int.MaxValue;

    int IReceiveRingClient.Room => Room;

    /// <summary>Sees every frame as it is delivered (VLAN tag removed) — for captures; null costs nothing.</summary>
    public FrameHandler? Tap { get; set; }

    /// <summary>A VM's inbound allocation, policed here (VMs are interrupt-driven): excess is dropped as <c>bandwidth</c>.</summary>
    internal BandwidthLimiter? Policer { get; set; }

    /// <summary>The ring that serves it, once bound.</summary>
    public ReceiveRing? Ring { get; internal set; }

    /// <summary>The interface to its VM, for a VM's VNIC.</summary>
    public GuestInterface? Interface => _interface;

    /// <summary>The stack or sink behind it, for a container's or service's VNIC.</summary>
    internal IVnicConsumer? Consumer => _consumer;

    internal void Attach(GuestInterface guestInterface) => _interface = guestInterface;

    /// <summary>
    /// The fields it declares that the classifier serving it cannot match (docs/architecture.md § Classification as advertised): checked
    /// here, in software, before delivery — counted (<c>no-match</c>) and costed (a
    /// classification on its processor). Null when the classifier matches everything it declares.
    /// </summary>
    internal DestinationFilter? SoftwareCheck { get; private set; }

    private Flow[] _flows = Array.Empty<Flow>();

    /// <summary>Its flows, in declaration order: a frame belongs to the first it matches.</summary>
    public IReadOnlyList<Flow> Flows => _flows;

    internal void AddFlow(Flow flow)
    {
        _flows = _flows.Append(flow).ToArray();
        _prioritized = _flows.Any(f => RankOf(f) != 1);
    }

    // The rule a classifier was programmed with for this VNIC, and the fields that classifier matches.
    internal void CheckInSoftware(ClassifierRule rule, ClassifierMatch classifierFields) =>
        SoftwareCheck = DestinationFilter.Create(rule, (ClassifierMatch.Vlan | ClassifierMatch.DestinationIp | ClassifierMatch.Port) & ~classifierFields);

    void IReceiveRingClient.Backlogged()
    {
        (_consumer as IFlowControlledConsumer)?.Backlogged();
    }

    bool IReceiveRingClient.PollsItself => _consumer is IFlowControlledConsumer;

    /// <summary>Connects the packet destination's stack (or any consumer) behind this VNIC.</summary>
    internal void Attach(IVnicConsumer consumer) => _consumer = consumer;

    void IReceiveRingClient.Receive(ReceiveRing ring, ReadOnlySpan<PacketDescriptor> batch) => Receive(ring, batch);

    internal void Receive(ReceiveRing ring, ReadOnlySpan<PacketDescriptor> batch)
    {
        if (_prioritized && batch.Length <= MaxRankedBatch) ReceiveRanked(batch);
        else Deliver(batch, batch, default, ranked: false);
    }

    // With flows of more than one priority, the batch is delivered high first, then medium (and
    // frames of no flow), then low: a busy or full consumer (a full guest ring) meets the
    // low-priority frames last. The frames are matched first and put in that order (out of the
    // common path, which then carries no stack buffers).
    private void ReceiveRanked(ReadOnlySpan<PacketDescriptor> batch)
    {
        Span<PacketDescriptor> ordered = stackalloc PacketDescriptor[batch.Length];
        Span<short> flowOf = stackalloc short[batch.Length];
        var count = Rank(batch, Nic.Device.Pool, SoftwareCheck, _flows, ordered, flowOf);
        Deliver(batch, ordered.Slice(0, count), flowOf, ranked: true);
    }

    // Delivers `source` (the batch, or its ranked order with each frame's flow in `flowOf`), then
    // settles counters, costs and every buffer of `batch`.
    private void Deliver(ReadOnlySpan<PacketDescriptor> batch, ReadOnlySpan<PacketDescriptor> source, ReadOnlySpan<short> flowOf, bool ranked)
    {
        var pool = Nic.Device.Pool;
        var guest = _interface;
        var consumer = _consumer;
        var tap = Tap;
        var check = SoftwareCheck;
        var flows = _flows;
        var policer = Policer;
        var now = policer?.Timestamp ?? 0; // the clock is read once per batch
        var running = Processor.Running ?? Processor; // whoever runs it: an MSI vector may be shared
        var arrived = pool.ArrivedAt;
        var takenAt = running.Now; // latency: from the frame's last bit on the wire to the processor taking its batch
        long bytes = 0;
        var delivered = 0;
        consumer?.BeginBatch(running);
        try
        {
        for (var i = 0; i < source.Length; i++)
        {
            var descriptor = source[i];
            var frame = pool.Frame(descriptor);
            Flow? flow = null;
            // Frames here are tagged with our VLAN, or untagged or priority-tagged (VID 0) if we have none.
            var tagged = IsTagged(frame);
            if (ranked)
            {
                if (flowOf[i] >= 0) flow = flows[flowOf[i]];
            }
            else
            {
                if (check is not null && !check.Accepts(frame))
                {
                    Counters.Drop(Accounting.DropReason.NoMatch);
                    continue;
                }
                if (flows.Length > 0)
                {
                    EthernetHeader.TryRead(frame, out var header); // read at layer 2 by the NIC already: cannot fail
                    flow = FlowOf(flows, frame, header);
                }
            }
            if (flow is not null && !AdmitToFlow(flow, tagged ? frame.Length - EthernetHeader.TagLength : frame.Length))
            {
                continue;
            }
            if (policer is not null && !policer.TryConsume(tagged ? frame.Length - EthernetHeader.TagLength : frame.Length, now))
            {
                Counters.Drop(Accounting.DropReason.Bandwidth);
                flow?.Counters.Drop(Accounting.DropReason.Bandwidth);
                continue;
            }
            // Remove the tag in place by sliding the two MACs over it.
            if (tagged)
            {
                frame.Slice(0, 12).CopyTo(frame.Slice(EthernetHeader.TagLength));
                frame = frame.Slice(EthernetHeader.TagLength);
            }
            if (guest is not null)
            {
                if (!guest.Deliver(frame))
                {
                    Counters.Drop(Accounting.DropReason.GuestRingFull);
                    flow?.Counters.Drop(Accounting.DropReason.GuestRingFull);
                    continue;
                }
            }
            else
            {
                consumer?.Deliver(this, frame);
            }
            tap?.Invoke(this, frame);
            bytes += frame.Length;
            delivered++;
            if (flow is not null)
            {
                flow.Counters.Delivered++;
                flow.Counters.DeliveredBytes += frame.Length;
            }
            if (arrived is not null) Latency.Record(takenAt - arrived[descriptor.Slot]);
        }
        }
        finally
        {
            consumer?.EndBatch(running, delivered);
        }
        // Counters, costs and buffer returns are settled once per batch, not once per frame.
        if (check is not null) ((Rings.IInterruptTarget)running).ChargeClassification(batch.Length);
        running.ChargeFrames(delivered, bytes);
        Counters.Delivered += delivered;
        Counters.DeliveredBytes += bytes;
        pool.Return(batch);
    }

    // The first of its flows the frame matches, or null.
    private static Flow? FlowOf(Flow[] flows, ReadOnlySpan<byte> frame, in EthernetHeader header)
    {
        var index = IndexOfFlow(flows, frame, header);
        return index >= 0 ? flows[index] : null;
    }

    // The index of the first of its flows the frame matches, or -1.
    private static int IndexOfFlow(Flow[] flows, ReadOnlySpan<byte> frame, in EthernetHeader header)
    {
        for (var i = 0; i < flows.Length; i++)
        {
            if (flows[i].Matches(frame, header)) return i;
        }
        return -1;
    }

    // Puts `batch` into `ordered` by priority (high, medium and no flow, low), each frame's flow
    // index beside it; frames the software check refuses are counted and left out. How many remain.
    private int Rank(ReadOnlySpan<PacketDescriptor> batch, PacketBufferPool pool, DestinationFilter? check, Flow[] flows,
        Span<PacketDescriptor> ordered, Span<short> flowOf)
    {
        Span<short> matched = stackalloc short[batch.Length];
        for (var i = 0; i < batch.Length; i++)
        {
            var frame = pool.Frame(batch[i]);
            if (check is not null && !check.Accepts(frame))
            {
                Counters.Drop(Accounting.DropReason.NoMatch);
                matched[i] = -2;
                continue;
            }
            EthernetHeader.TryRead(frame, out var header); // read at layer 2 by the NIC already: cannot fail
            matched[i] = (short)IndexOfFlow(flows, frame, header);
        }
        var count = 0;
        for (var rank = 0; rank < 3; rank++)
        {
            for (var i = 0; i < batch.Length; i++)
            {
                if (matched[i] == -2 || RankOf(matched[i] >= 0 ? flows[matched[i]] : null) != rank) continue;
                ordered[count] = batch[i];
                flowOf[count++] = matched[i];
            }
        }
        return count;
    }

    // Delivery order within a batch: high 0, medium (and no flow) 1, low 2.
    private static int RankOf(Flow? flow) => flow?.Settings.Priority switch
    {
        "high" => 0,
        "low" => 2,
        _ => 1,
    };

    // Batches up to this many frames are ranked by priority (they are Processor.BatchSize, 32, or smaller).
    private const int MaxRankedBatch = 256;

    // Some flow has a priority other than medium: batches are delivered by rank.
    private bool _prioritized;

    // Counts a frame (`length` bytes without a tag) into its flow; false when the flow blocks it
    // or its allocation is spent (counted on both). A classifier that matches ports counts its
    // own blocked frames on another thread: those counts are shared.
    private bool AdmitToFlow(Flow flow, int length)
    {
        Interlocked.Increment(ref flow.Counters.Received);
        if (flow.Settings.Blocked)
        {
            Counters.DropShared(Accounting.DropReason.Blocked);
            flow.Counters.DropShared(Accounting.DropReason.Blocked);
            return false;
        }
        if (flow.Policer is { } limiter && !limiter.TryConsume(length))
        {
            Counters.Drop(Accounting.DropReason.Bandwidth);
            flow.Counters.Drop(Accounting.DropReason.Bandwidth);
            return false;
        }
        return true;
    }

    /// <summary>
    /// Sends an (untagged) frame towards the wire through a transmit ring; the VLAN tag is added
    /// here. Spoofed, too short and too long frames are dropped and counted; a full transmit
    /// ring pushes back (<see cref="SendStatus.Blocked"/>: the caller still has the frame).
    /// </summary>
    public SendStatus Transmit(ReadOnlySpan<byte> frame)
    {
        var device = Nic.Device;
        if (frame.Length < EthernetHeader.Length || frame.Length > device.MaxFrameLength)
        {
            TransmitCounters.Received++;
            var shortFrame = frame.Length < EthernetHeader.Length;
            TransmitCounters.Drop(shortFrame ? Accounting.DropReason.Malformed : Accounting.DropReason.Oversize);
            return shortFrame ? SendStatus.Malformed : SendStatus.Oversize;
        }
        // VLAN isolation (always on): the VNIC puts its frames in its VLAN itself; a tag the sender
        // supplies — a second VLAN inside ours, QinQ, or a tag around a forged header the checks
        // below would not look into — is refused and counted as spoofed.
        if (IsTagged(frame) || Protection && IsSpoofed(frame))
        {
            TransmitCounters.Received++;
            TransmitCounters.Drop(Accounting.DropReason.Spoofed);
            return SendStatus.Spoofed;
        }
        var ring = Id % device.Settings.TxRings;
        bool queued;
        if (Settings.Vlan == 0)
        {
            queued = device.Transmit(ring, frame);
        }
        else
        {
            // One tagging buffer per VNIC: senders on several threads (a guest's replies, an
            // application's sends) take turns.
            lock (_transmitScratch)
            {
                var tagged = _transmitScratch.AsSpan(0, frame.Length + EthernetHeader.TagLength);
                frame.Slice(0, 12).CopyTo(tagged);
                BinaryPrimitives.WriteUInt16BigEndian(tagged.Slice(12), EthernetHeader.Vlan8021Q);
                BinaryPrimitives.WriteUInt16BigEndian(tagged.Slice(14), (ushort)Settings.Vlan);
                frame.Slice(12).CopyTo(tagged.Slice(16));
                queued = device.Transmit(ring, tagged);
            }
        }
        if (!queued)
        {
            BackPressured++;
            return SendStatus.Blocked;
        }
        TransmitCounters.Received++;
        TransmitCounters.Delivered++;
        return SendStatus.Sent;
    }

    private static bool IsTagged(ReadOnlySpan<byte> frame) => EthernetHeader.IsTagType(BinaryPrimitives.ReadUInt16BigEndian(frame.Slice(12)));

    private bool IsSpoofed(ReadOnlySpan<byte> frame)
    {
        if (!OwnsMac(EthernetHeader.ReadMac(frame.Slice(6)))) return true;
        if (!_checkIps) return false;
        var payload = frame.Slice(EthernetHeader.Length);
        switch (BinaryPrimitives.ReadUInt16BigEndian(frame.Slice(12)))
        {
            case EtherType.Ipv4 when payload.Length >= Ipv4Header.MinLength:
                return !AllowedV4(BinaryPrimitives.ReadUInt32BigEndian(payload.Slice(12))); // the source, even in a damaged header
            case EtherType.Arp when ArpHeader.TryRead(payload, out var arp):
                return !OwnsMac(arp.SenderMac) || !AllowedV4(BinaryPrimitives.ReadUInt32BigEndian(arp.SenderAddress));
            case EtherType.Ipv6 when payload.Length >= Ipv6Header.Length:
                var source = BinaryPrimitives.ReadUInt128BigEndian(payload.Slice(8));
                if (source == 0) return false; // duplicate address detection
                foreach (var own in _allowedV6)
                {
                    if (own == source) return false;
                }
                return true;
            default:
                return false;
        }
    }

    private bool AllowedV4(uint source)
    {
        if (source == 0) return true; // DHCP discover / ARP probe
        foreach (var own in _allowedV4)
        {
            if (own == source) return true;
        }
        return false;
    }

    private bool OwnsMac(ulong mac)
    {
        foreach (var own in _macs)
        {
            if (own == mac) return true;
        }
        return false;
    }

    public override string ToString() => Name;
}
