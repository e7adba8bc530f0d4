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
public sealed class Vnic : IReceiveRingClient, IPollingConsumer
{
    private readonly byte[] _transmitScratch; // the tagging buffer (under TransmitLock)
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
        // Only a VLAN VNIC tags what it sends (a host of thousands of VNICs builds without the rest).
        _transmitScratch = settings.Vlan == 0 ? Array.Empty<byte>() : new byte[nic.Device.MaxFrameLength + EthernetHeader.TagLength];
        var ips = (settings.Ips ?? Array.Empty<IPAddress>()).Select(NetworkAddress.From).ToArray();
        _allowedV4 = ips.Where(a => !a.IsV6).Select(a => (uint)a.Value).ToArray();
        _allowedV6 = ips.Where(a => a.IsV6).Select(a => a.Value).ToArray();
        // Addresses it learns at run time: `ip dhcp`, or no addresses declared at all.
        _learnsAddresses = settings.Dhcp || ips.Length == 0;
        _interfaceIds = _macs.Select(m => (ulong)Stacks.SlaacClient.InterfaceId(m)).ToArray();
        _leases = _learnsAddresses ? _macs.Select(_ => new Lease { Transaction = -1 }).ToArray() : Array.Empty<Lease>();
    }

    // Its declared addresses, and any the host assigns it later (copy-on-write: read on every send).
    private uint[] _allowedV4;
    private UInt128[] _allowedV6;
    private readonly bool _learnsAddresses;

    // DHCP snooping (Solaris's ip-nospoof with DHCP), one per MAC: the IPv4 address a server
    // leased it, learned from the DHCPACK delivered to it — an answer to a transaction its own
    // client began — until the lease's time runs out; a NAK, or the guest's own release or
    // decline, forgets it. Written where frames are delivered and sent, read on transmit.
    private readonly Lease[] _leases;

    private struct Lease
    {
        public uint Address;     // 0 while none
        public long Ends;        // on the host's clock
        public long Transaction; // the last xid its client sent; -1 while none
    }

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
    /// (<c>ip dhcp</c>) are checked by MAC only; one with <c>ip dhcp</c> beside declared addresses
    /// may also send from any IPv4 source (what DHCP leases is not known in advance) and from IPv6
    /// sources ending in its MAC's interface identifier (what SLAAC makes). On by default.
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

    // Its flows in the order their queues are served: high, medium, low (declaration order within
    // each); rank r's flows are _byRank[_rankStart[r] .. + _rankCount[r]].
    private Flow[] _byRank = Array.Empty<Flow>();
    private readonly int[] _rankStart = new int[3];
    private readonly int[] _rankCount = new int[3];

    // Per rank, which of its flows a round of service starts with (equal flows take turns).
    private readonly uint[] _turn = new uint[3];

    // Guards the flow queues: the ring's batches (on whichever processor an MSI vector runs them)
    // and this VNIC's processor serving the queues. Taken before anything delivery takes.
    private readonly object _flowGate = new();

    // Frames in all its flow queues (read without the gate, to skip an idle poll).
    private int _flowWaiting;

    internal void AddFlow(Flow flow)
    {
        flow.Queue = new FlowQueue(flow.Settings.QueueLength);
        _flows = _flows.Append(flow).ToArray();
        _byRank = _flows.OrderBy(RankOf).ToArray(); // a stable sort: declaration order within a rank
        for (var rank = 0; rank < 3; rank++)
        {
            _rankCount[rank] = _flows.Count(f => RankOf(f) == rank);
            _rankStart[rank] = rank == 0 ? 0 : _rankStart[rank - 1] + _rankCount[rank - 1];
        }
        // Waiting frames are served again by this VNIC's processor, as one of its pollers.
        if (_flows.Length == 1) _flowPoller = Processor.AddPoller(this);
    }

    private int _flowPoller = -1; // its index among its processor's pollers, once it has flows

    // The rule a classifier was programmed with for this VNIC, and the fields that classifier matches.
    internal void CheckInSoftware(ClassifierRule rule, ClassifierMatch classifierFields)
    {
        SoftwareCheck = DestinationFilter.Create(rule, (ClassifierMatch.Vlan | ClassifierMatch.DestinationIp | ClassifierMatch.Port) & ~classifierFields);
        // Group frames are copied to every member whatever their port, by any classifier: their
        // ports are checked here, so a broadcast to an undeclared port never reaches the stack
        // either (it did, and was answered as port-unreachable: found by a new user's drive).
        GroupCheck = DestinationFilter.Create(rule, ClassifierMatch.Port);
    }

    /// <summary>The ports a group frame must be to (declared, or ephemeral), where the VNIC's stack declares ports; null where it does not.</summary>
    internal DestinationFilter? GroupCheck { get; private set; }

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
        if (_flows.Length > 0) ReceiveIntoFlows(batch);
        else Deliver(batch, flow: null, check: true);
    }

    // What the VNIC checks in software: the fields the classifier could not match (`check`), and a
    // group frame's port (`groupCheck`, on every model); true when the frame fails either.
    // `decisions` counts the frames checked — each a classifier's decision, charged per batch (a
    // group frame's check on a NIC that matches ports cost nothing: found by review).
    private static bool FailsSoftwareCheck(DestinationFilter? check, DestinationFilter? groupCheck, ReadOnlySpan<byte> frame, ref int decisions)
    {
        var group = groupCheck is not null && (frame[0] & 1) != 0;
        if (check is null && !group) return false;
        decisions++;
        return check is not null && !check.Accepts(frame) || group && !groupCheck!.AcceptsGroup(frame);
    }

    // Delivers `batch` (frames of `flow`, or of no flow) to the VM or stack, checking each frame in
    // software first when `check` (frames a flow queued were checked as they were sorted); then
    // settles counters, costs and every buffer of the batch.
    private void Deliver(ReadOnlySpan<PacketDescriptor> batch, Flow? flow, bool check)
    {
        var pool = Nic.Device.Pool;
        var guest = _interface;
        var consumer = _consumer;
        var tap = Tap;
        var softwareCheck = check ? SoftwareCheck : null;
        var groupCheck = check ? GroupCheck : null;
        var policer = Policer;
        var now = policer?.Timestamp ?? 0; // the clock is read once per batch
        var running = Processor.Running ?? Processor; // whoever runs it: an MSI vector may be shared
        var arrived = pool.ArrivedAt;
        var takenAt = running.Now; // latency: from the frame's last bit on the wire to its delivery
        long bytes = 0;
        var delivered = 0;
        var i = 0;
        var tapping = false; // frame i was delivered (and counted) before the tap saw it
        var decisions = 0; // frames checked in software
        consumer?.BeginBatch(running);
        try
        {
        for (; i < batch.Length; i++)
        {
            var descriptor = batch[i];
            var frame = pool.Frame(descriptor);
            if (FailsSoftwareCheck(softwareCheck, groupCheck, frame, ref decisions))
            {
                Counters.Drop(Accounting.DropReason.NoMatch);
                continue;
            }
            // Frames here are tagged with our VLAN, or untagged or priority-tagged (VID 0) if we have none.
            var tagged = EthernetHeader.StartsWithTag(frame);
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
            if (_learnsAddresses) LearnLease(frame);
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
                consumer?.Deliver(this, frame, pool.IsSealed(descriptor.Slot));
            }
            bytes += frame.Length;
            delivered++;
            if (arrived is not null) Latency.Record(takenAt - arrived[descriptor.Slot]);
            if (tap is not null)
            {
                // After the delivery: a tap that throws has not taken back a frame the guest or VNS
                // already holds (it was counted dropped and delivered both: found by review).
                tapping = true;
                tap(this, frame);
                tapping = false;
            }
        }
        }
        finally
        {
            try
            {
                consumer?.EndBatch(running, delivered);
            }
            finally
            {
                // User code (a tap, a socket's handler) threw at frame i: that frame and the rest
                // of the batch are counted and their buffers go back before the exception goes on
                // to whoever runs the host, so the counts still add up.
                var lost = batch.Length - i - (tapping ? 1 : 0);
                if (lost > 0)
                {
                    Counters.Drop(Accounting.DropReason.HandlerFault, lost);
                    flow?.Counters.Drop(Accounting.DropReason.HandlerFault, lost);
                }
                // Counters, costs and buffer returns are settled once per batch, not once per frame.
                if (decisions > 0) ((Rings.IInterruptTarget)running).ChargeClassification(decisions);
                running.ChargeFrames(delivered, bytes);
                Counters.Delivered += delivered;
                Counters.DeliveredBytes += bytes;
                if (flow is not null)
                {
                    flow.Counters.Delivered += delivered;
                    flow.Counters.DeliveredBytes += bytes;
                }
                pool.Return(batch);
            }
        }
    }

    // A VNIC with flows: each frame of a flow joins its flow's own queue (a blocked flow's are
    // dropped, a full queue drops the newest); then the queues are served, high-priority flows
    // first, then this batch's frames of no flow, then the medium flows, then the low ones — while
    // what is behind the VNIC has room and each flow has credit. What stays waits for the VNIC's
    // processor to serve it again (<see cref="IPollingConsumer.Poll"/>).
    private void ReceiveIntoFlows(ReadOnlySpan<PacketDescriptor> batch)
    {
        while (batch.Length > MaxBatch)
        {
            ReceiveIntoFlows(batch.Slice(0, MaxBatch));
            batch = batch.Slice(MaxBatch);
        }
        var pool = Nic.Device.Pool;
        var check = SoftwareCheck;
        var groupCheck = GroupCheck;
        Span<PacketDescriptor> direct = stackalloc PacketDescriptor[batch.Length];
        var count = 0;
        // A stack's batch was sized to its VSQ's room: the batch's frames of no flow keep theirs.
        // A VM's is not (its ring's room is unbounded): there the guest ring's room goes by rank.
        var stack = _interface is null;
        var sorted = 0;         // frames of the batch sorted (queued, dropped, or set aside in `direct`)
        var decisions = 0;      // frames checked in software (FailsSoftwareCheck)
        var directDone = false; // `direct` handed to Deliver (which settles it, whatever happens)
        try
        {
            lock (_flowGate)
            {
                // Frames already waiting go first where there is room (and credit) for them, so a
                // queue that could drain does not drop a new frame for being full.
                if (_flowWaiting > 0) ServeAll(reserve: stack ? batch.Length : 0);
                for (; sorted < batch.Length; sorted++)
                {
                    var descriptor = batch[sorted];
                    var frame = pool.Frame(descriptor);
                    if (FailsSoftwareCheck(check, groupCheck, frame, ref decisions))
                    {
                        Counters.Drop(Accounting.DropReason.NoMatch);
                        pool.Return(descriptor.Slot);
                        continue;
                    }
                    EthernetHeader.TryRead(frame, out var header); // read at layer 2 by the NIC already: cannot fail
                    var index = IndexOfFlow(_flows, frame, header);
                    if (index < 0)
                    {
                        direct[count++] = descriptor;
                        continue;
                    }
                    if (!Enqueue(_flows[index], descriptor)) pool.Return(descriptor.Slot);
                }
                if (decisions > 0) ((Rings.IInterruptTarget)(Processor.Running ?? Processor)).ChargeClassification(decisions);
                Serve(rank: 0, reserve: stack ? count : 0);
                directDone = true;
                Deliver(direct.Slice(0, count), flow: null, check: false);
                Serve(rank: 1, reserve: 0);
                Serve(rank: 2, reserve: 0);
            }
        }
        finally
        {
            // User code threw while waiting frames were delivered (Deliver settled those): the
            // frames of this batch not yet sorted, or set aside and not yet handed on, are counted
            // and their buffers go back before the exception goes on.
            var lost = batch.Length - sorted + (directDone ? 0 : count);
            if (lost > 0)
            {
                Counters.Drop(Accounting.DropReason.HandlerFault, lost);
                pool.Return(batch.Slice(sorted));
                if (!directDone) pool.Return(direct.Slice(0, count));
            }
        }
        // What still waits is served by this VNIC's processor: if another one ran this batch (a
        // shared MSI vector), make sure this one looks (it may be asleep with nothing due).
        if (_flowWaiting > 0 && (Processor.Running ?? Processor) != Processor) Processor.WakeForWork();
        else if (!Processor.Threaded)
        {
            // Deterministic: frames wait for credit or room, and the processor's next look at its
            // pollers must include this one (its time to serve them has changed).
            if (_flowWaiting > 0) Processor.AwakenPoller(_flowPoller);
        }
        else
        {
            // The threaded mode: the guest or the VSQ may have made room on its own thread after
            // this batch found none, and seen no frame waiting (RoomMade). Each side fences its
            // store before its load, so one of them sees the other: this one looks again.
            Interlocked.MemoryBarrier();
            if (Volatile.Read(ref _flowWaiting) > 0 && DeliveryRoom > 0) Processor.WakeForWork();
        }
    }

    /// <summary>
    /// What is behind the VNIC made room (the guest took frames from its ring, the stack drained
    /// its VSQ): frames waiting in its flows' queues for room can go now, so its processor must
    /// look — in the deterministic mode it may be asleep with nothing due.
    /// </summary>
    internal void RoomMade()
    {
        if (Processor.Threaded) Interlocked.MemoryBarrier(); // the room made before the look (see the end of ReceiveIntoFlows)
        if (Volatile.Read(ref _flowWaiting) > 0) Processor.WakeForWork();
    }

    // Counts a frame into its flow and queues it; false (counted on the flow and the VNIC) when
    // the flow is blocked or its queue is full — `bandwidth` when the flow waits for credit,
    // `flow-queue-full` when it waits for room. A classifier that matches ports counts its own
    // blocked frames on another thread: those counts are shared.
    private bool Enqueue(Flow flow, in PacketDescriptor descriptor)
    {
        Interlocked.Increment(ref flow.Counters.Received);
        if (flow.Settings.Blocked)
        {
            Counters.DropShared(Accounting.DropReason.Blocked);
            flow.Counters.DropShared(Accounting.DropReason.Blocked);
            return false;
        }
        var queue = flow.Queue!;
        if (queue.TryEnqueue(descriptor))
        {
            _flowWaiting++;
            return true;
        }
        var reason = flow.Shaper is { } shaper && !shaper.CanConsume(UntaggedLength(Nic.Device.Pool.Frame(queue.Head)))
            ? Accounting.DropReason.Bandwidth
            : Accounting.DropReason.FlowQueueFull;
        Counters.Drop(reason);
        flow.Counters.Drop(reason);
        return false;
    }

    // Serves the queues of the flows of `rank` (high 0, medium 1, low 2) while what is behind the
    // VNIC has room beyond `reserve` frames: in rounds, each flow with frames taking its share of
    // the room (at least one frame, at most a batch) as far as its credit goes, starting one flow
    // further each time so equal flows share. True if anything was delivered. Under the flow gate.
    private bool Serve(int rank, int reserve)
    {
        var first = _rankStart[rank];
        var count = _rankCount[rank];
        if (count == 0) return false;
        Span<PacketDescriptor> taken = stackalloc PacketDescriptor[Virtualization.Processor.BatchSize];
        var progress = false;
        bool moved;
        do
        {
            moved = false;
            var active = 0;
            for (var k = 0; k < count; k++) active += _byRank[first + k].Queue!.Count > 0 ? 1 : 0;
            if (active == 0) break;
            var start = _turn[rank]++ % (uint)count;
            for (var k = 0; k < count; k++)
            {
                var flow = _byRank[first + (int)((start + (uint)k) % (uint)count)];
                if (flow.Queue!.Count == 0) continue;
                var room = DeliveryRoom - reserve;
                if (room <= 0) return progress;
                var n = Take(flow, taken.Slice(0, Math.Min(taken.Length, Math.Max(1, room / active))));
                if (n == 0) continue; // waiting for credit
                Deliver(taken.Slice(0, n), flow, check: false);
                moved = progress = true;
            }
        }
        while (moved);
        return progress;
    }

    // Every rank's queues in turn, high first. Non-short-circuit: each rank is served.
    private bool ServeAll(int reserve) => Serve(rank: 0, reserve) | Serve(rank: 1, reserve) | Serve(rank: 2, reserve);

    // Takes up to `taken.Length` of the flow's oldest frames it has credit for.
    private int Take(Flow flow, Span<PacketDescriptor> taken)
    {
        var pool = Nic.Device.Pool;
        var queue = flow.Queue!;
        var shaper = flow.Shaper;
        var now = shaper?.Timestamp ?? 0;
        var n = 0;
        while (n < taken.Length && queue.Count > 0 && (shaper is null || shaper.TryConsume(UntaggedLength(pool.Frame(queue.Head)), now)))
        {
            taken[n++] = queue.Dequeue();
        }
        _flowWaiting -= n;
        return n;
    }

    // How many more frames what is behind it takes now: a VM's free guest-ring slots, a stack's VSQ room.
    private int DeliveryRoom => _interface is { } guest ? guest.Room : Room;

    private static int UntaggedLength(ReadOnlySpan<byte> frame) => EthernetHeader.StartsWithTag(frame) ? frame.Length - EthernetHeader.TagLength : frame.Length;

    bool IPollingConsumer.Poll()
    {
        if (Volatile.Read(ref _flowWaiting) == 0) return false;
        lock (_flowGate)
        {
            return ServeAll(reserve: 0);
        }
    }

    long IPollingConsumer.NextDue()
    {
        if (Volatile.Read(ref _flowWaiting) == 0) return long.MaxValue;
        // Queues waiting for credit are due when their oldest frame's credit is; queues waiting
        // for room move when what is behind the VNIC drains (work that re-runs the pollers).
        var due = long.MaxValue;
        lock (_flowGate)
        {
            foreach (var flow in _flows)
            {
                if (flow.Shaper is { } shaper && flow.Queue!.Count > 0)
                {
                    due = Math.Min(due, shaper.ReadyAt(UntaggedLength(Nic.Device.Pool.Frame(flow.Queue.Head))));
                }
            }
        }
        return due;
    }

    /// <summary>Frames waiting in its flows' queues (counted as received, not yet delivered or dropped).</summary>
    internal int FlowQueued => Volatile.Read(ref _flowWaiting);

    // The index of the first of its flows the frame matches, or -1.
    private static int IndexOfFlow(Flow[] flows, ReadOnlySpan<byte> frame, in EthernetHeader header)
    {
        for (var i = 0; i < flows.Length; i++)
        {
            if (flows[i].Matches(frame, header)) return i;
        }
        return -1;
    }

    // Service order: high 0, medium (and frames of no flow) 1, low 2.
    private static int RankOf(Flow flow) => flow.Settings.Priority switch
    {
        "high" => 0,
        "low" => 2,
        _ => 1,
    };

    // A ring batch is sorted into flows up to this many frames at a time (on the stack).
    private const int MaxBatch = 256;

    /// <summary>
    /// Sends an (untagged) frame towards the wire through a transmit ring; the VLAN tag is added
    /// here. Spoofed, too short and too long frames are dropped and counted; a full transmit
    /// ring pushes back (<see cref="SendStatus.Blocked"/>: the caller still has the frame).
    /// </summary>
    /// <remarks>
    /// In the deterministic mode only the datapath's thread touches the NIC (its buffer pool
    /// takes no locks there). A frame sent from another thread — an application's continuation
    /// on the thread pool, awaiting the host's own tasks — is copied into the VNIC's hand-over
    /// queue instead and sent, checked and counted by the datapath at its next round, in order
    /// with what the VNIC sends there (a full hand-over queue pushes back).
    /// </remarks>
    public SendStatus Transmit(ReadOnlySpan<byte> frame) => Transmit(frame, sealedByStack: false);

    /// <summary>
    /// <see cref="Transmit(ReadOnlySpan{byte})"/> for a frame one of the host's own stacks built
    /// (<paramref name="sealedByStack"/>): its checksums need no second sum where it lands in
    /// place (a frame handed over from another thread is copied, and summed again where it lands).
    /// </summary>
    internal SendStatus Transmit(ReadOnlySpan<byte> frame, bool sealedByStack)
    {
        if (Nic.Datapath is { } datapath && !datapath.IsCurrent) return Stage(frame);
        // What other threads handed over goes first: a connection's segments stay in order. (In
        // the threaded mode only frames handed over as the threads started can be waiting.)
        if (_staged is { Count: > 0 })
        {
            SendStaged(out var left);
            if (left)
            {
                BackPressured++;
                return SendStatus.Blocked;
            }
        }
        return TransmitNow(frame, sealedByStack);
    }

    /// <summary>
    /// The VNIC's transmit lock: whoever sends through it — its VNS (outbound VSQ and limiter), its
    /// VM (the guest driver: transform buffer and allocation), the datapath sending what other
    /// threads handed over — holds it around <see cref="Transmit(ReadOnlySpan{byte})"/>, so its counts are plain fields
    /// and its tagging buffer is one. (Not taken by <see cref="Transmit(ReadOnlySpan{byte})"/> itself — its senders
    /// hold it already, and the bare call stays lock-free: a caller of <see cref="Transmit(ReadOnlySpan{byte})"/> from
    /// outside sends from one thread at a time.)
    /// </summary>
    internal Lock TransmitLock { get; } = new();

    // Frames handed over by other threads than the deterministic datapath's (allocated with the
    // first), and those refused at once, counted by the datapath with the next it sends.
    private SerializationQueue? _staged;
    private int _stagedMalformed, _stagedOversize, _stagedSpoofed;

    /// <summary>On its NIC's list of VNICs with frames handed over (guarded by the NIC's list lock).</summary>
    internal bool Listed { get; set; }

    // The largest frame the VNIC takes: the NIC's, less the tag the VNIC adds in a VLAN.
    private int MaxUntaggedFrame => Nic.Device.MaxFrameLength - (Settings.Vlan == 0 ? 0 : EthernetHeader.TagLength);

    private SendStatus Stage(ReadOnlySpan<byte> frame)
    {
        // Refused at once, with the status the datapath would give; counted by the datapath with
        // the frames it sends for this VNIC. (The datapath checks again as it sends: a lease that
        // ran out meanwhile refuses the frame then, counted as spoofed.)
        var refusal = Refusal(frame);
        if (refusal != SendStatus.Sent)
        {
            Interlocked.Increment(ref RefusedAtHandOver(refusal));
            Nic.Staged(this, fresh: false);
            return refusal;
        }
        var staged = Volatile.Read(ref _staged);
        if (staged is null)
        {
            var made = new SerializationQueue("hand-over", StagedFrames, Nic.Device.MaxFrameLength, new SerializationGate(SerializationPolicy.Concurrent));
            staged = Interlocked.CompareExchange(ref _staged, made, null) ?? made;
        }
        var taken = staged.TryEnqueue(frame);
        // Due at once only for a frame taken (a sender retrying a full queue in a loop must not
        // hold time still); a round comes, and with it the datapath's look at the hand-over.
        Nic.Staged(this, fresh: taken);
        Processor.Awaken();
        // The threads started meanwhile: nobody pumps now, and the pool takes locks; send it here.
        if (Nic.Datapath is null) SendStaged(out _);
        // Full: the sender keeps the frame and tries again (the datapath empties the queue at its next round).
        return taken ? SendStatus.Sent : SendStatus.Blocked;
    }

    /// <summary>Frames another thread may hand over before it is pushed back.</summary>
    internal const int StagedFrames = 64;

    /// <summary>Sends what other threads handed over, in order (on the datapath's thread; in the threaded mode on any, one at a time); true if any went. <paramref name="left"/>: some still wait (rings or pool full).</summary>
    internal bool SendStaged(out bool left)
    {
        left = false;
        lock (TransmitLock) // the VNIC's counts, and only the holder takes frames out
        {
            var moved = false; // a refusal counted moves the counters: whoever waits on them looks again
            foreach (var refusal in RefusalKinds)
            {
                ref var refused = ref RefusedAtHandOver(refusal);
                if (Volatile.Read(ref refused) == 0) continue;
                for (var n = Interlocked.Exchange(ref refused, 0); n > 0; n--) CountRefusal(refusal);
                moved = true;
            }
            while (_staged is { Count: > 0 } staged)
            {
                // The frame is read in place.
                if (TransmitNow(staged.Peek()) == SendStatus.Blocked)
                {
                    left = true;
                    return moved;
                }
                staged.DropHead();
                moved = true;
            }
            return moved;
        }
    }

    private static readonly SendStatus[] RefusalKinds = [SendStatus.Malformed, SendStatus.Oversize, SendStatus.Spoofed];

    private ref int RefusedAtHandOver(SendStatus refusal)
    {
        if (refusal == SendStatus.Malformed) return ref _stagedMalformed;
        if (refusal == SendStatus.Oversize) return ref _stagedOversize;
        return ref _stagedSpoofed;
    }

    // Why the VNIC refuses a frame, or Sent when it takes it: too short or too long (with the tag
    // it adds in a VLAN), or spoofed. VLAN isolation (always on): the VNIC puts its frames in its
    // VLAN itself; a tag the sender supplies — a second VLAN inside ours, QinQ, or a tag around a
    // forged header the spoofing checks would not look into — is refused as spoofed.
    private SendStatus Refusal(ReadOnlySpan<byte> frame) =>
        frame.Length < EthernetHeader.Length ? SendStatus.Malformed
        : frame.Length > MaxUntaggedFrame ? SendStatus.Oversize
        : EthernetHeader.StartsWithTag(frame) || Protection && IsSpoofed(frame) ? SendStatus.Spoofed
        : SendStatus.Sent;

    private void CountRefusal(SendStatus refusal)
    {
        TransmitCounters.Received++;
        TransmitCounters.Drop(refusal switch
        {
            SendStatus.Malformed => Accounting.DropReason.Malformed,
            SendStatus.Oversize => Accounting.DropReason.Oversize,
            _ => Accounting.DropReason.Spoofed,
        });
    }

    private SendStatus TransmitNow(ReadOnlySpan<byte> frame, bool sealedByStack = false)
    {
        var device = Nic.Device;
        var refusal = Refusal(frame);
        if (refusal != SendStatus.Sent)
        {
            CountRefusal(refusal);
            return refusal;
        }
        var ring = Id % device.Settings.TxRings;
        bool queued;
        if (Settings.Vlan == 0)
        {
            queued = device.Transmit(ring, frame, sealedByStack);
        }
        else
        {
            // One tagging buffer per VNIC: its senders take turns under TransmitLock.
            var tagged = _transmitScratch.AsSpan(0, frame.Length + EthernetHeader.TagLength);
            frame.Slice(0, 12).CopyTo(tagged);
            BinaryPrimitives.WriteUInt16BigEndian(tagged.Slice(12), EthernetHeader.Vlan8021Q);
            BinaryPrimitives.WriteUInt16BigEndian(tagged.Slice(14), (ushort)Settings.Vlan);
            frame.Slice(12).CopyTo(tagged.Slice(16));
            // The tag is outside what the checksums cover; but the tagging buffer is one, so only a
            // sender holding the VNIC's transmit lock has it to itself (a bare Transmit from
            // another thread could mix two frames in it: found by review).
            queued = device.Transmit(ring, tagged, sealedByStack && TransmitLock.IsHeldByCurrentThread);
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

    private bool IsSpoofed(ReadOnlySpan<byte> frame)
    {
        if (!OwnsMac(EthernetHeader.ReadMac(frame.Slice(6)))) return true;
        var payload = frame.Slice(EthernetHeader.Length);
        switch (BinaryPrimitives.ReadUInt16BigEndian(frame.Slice(12)))
        {
            case EtherType.Ipv4 when payload.Length >= Ipv4Header.MinLength:
                // The source, even in a damaged header; then no DHCP server's messages.
                return !AllowedV4(BinaryPrimitives.ReadUInt32BigEndian(payload.Slice(12))) || ServesDhcp(frame);
            case EtherType.Arp when ArpHeader.TryRead(payload, out var arp):
                // A probe (RFC 5227: sender 0.0.0.0) asks about an address its sender means to take:
                // one it may send from — a probe for a neighbour's offered address made its DHCP
                // client decline it (found by an adversarial review).
                var sender = BinaryPrimitives.ReadUInt32BigEndian(arp.SenderAddress);
                var target = BinaryPrimitives.ReadUInt32BigEndian(arp.TargetAddress);
                return !OwnsMac(arp.SenderMac) || !AllowedV4(sender) || sender == 0 && (target == 0 || !AllowedV4(target));
            case EtherType.Ipv6 when payload.Length >= Ipv6Header.Length:
                var source = BinaryPrimitives.ReadUInt128BigEndian(payload.Slice(8));
                if (source != 0 && !AllowedV6(source)) return true; // the unspecified source: duplicate address detection
                // Headers it cannot walk (more than eight extension headers, a length past the frame)
                // are refused: the runtime's stacks drop them, but a peer's might read an RA there.
                if (!Ipv6Header.TryRead(payload, out var ip)) return true;
                if (ip.Problem.Kind != Ipv6ProblemKind.None) return false; // answered with a parameter problem
                var next = ip.NextHeader;
                var upper = ip.Payload;
                if (next == IpProtocol.Ipv6Fragment)
                {
                    // A real fragment: the first one carries the upper header, judged as unfragmented
                    // (neighbour discovery in a fragment is dropped by every receiver, RFC 6980:
                    // refused here too); later ones carry none.
                    if (upper.Length < 8 || (BinaryPrimitives.ReadUInt16BigEndian(upper.Slice(2)) & 0xFFF8) != 0) return false;
                    next = upper[0];
                    upper = upper.Slice(8);
                    // The headers after the fragment header, to the upper one (as before it, at most eight).
                    for (var walked = 0; next is 0 or 43 or 60; walked++)
                    {
                        if (walked == Ipv6Header.MaxExtensionHeaders || upper.Length < 8 || upper.Length < (upper[1] + 1) * 8) return true;
                        var skip = (upper[1] + 1) * 8;
                        next = upper[0];
                        upper = upper.Slice(skip);
                    }
                    if (next == IpProtocol.IcmpV6 && upper.Length >= 1 && upper[0] is >= 133 and <= 137) return true;
                }
                return next switch
                {
                    IpProtocol.IcmpV6 => IsSpoofedNeighborDiscovery(upper, source),
                    IpProtocol.Udp => upper.Length >= 4 && (BinaryPrimitives.ReadUInt16BigEndian(upper) == Dhcpv6ServerPort
                        || BinaryPrimitives.ReadUInt16BigEndian(upper.Slice(2)) == Dhcpv6ClientPort),
                    _ => false,
                };
            default:
                return false;
        }
    }

    private const int Dhcpv6ClientPort = 546, Dhcpv6ServerPort = 547;
    private const ulong LinkLocalPrefix = 0xFE80_0000_0000_0000UL;

    private bool AllowedV4(uint source)
    {
        if (source == 0) return true; // DHCP discover / ARP probe
        foreach (var own in Volatile.Read(ref _allowedV4))
        {
            if (own == source) return true;
        }
        for (var i = 0; i < _leases.Length; i++)
        {
            if (Volatile.Read(ref _leases[i].Address) == source && Volatile.Read(ref _leases[i].Ends) > Clock.GetTimestamp()) return true;
        }
        return false;
    }

    private TimeProvider Clock => Nic.Device.Clock ?? TimeProvider.System;

    // A source it may send from: declared, or — learning its addresses — ending in its MAC's
    // interface identifier (what SLAAC and link-local addressing give it).
    private bool AllowedV6(UInt128 source)
    {
        // Its link-local address (fe80::/64 and its MAC's identifier) is every VNIC's.
        if (OwnsInterfaceId(source) && (_learnsAddresses || source >> 64 == LinkLocalPrefix)) return true;
        foreach (var own in Volatile.Read(ref _allowedV6))
        {
            if (own == source) return true;
        }
        return false;
    }

    /// <summary>An address the host gives the VNIC at run time (<see cref="VirtualMachine.AssignAddress"/>): it may send from it from now on.</summary>
    internal void AllowSource(Stacks.NetworkAddress address)
    {
        lock (_macs)
        {
            if (address.IsV6) Volatile.Write(ref _allowedV6, [.. _allowedV6, address.Value]);
            else Volatile.Write(ref _allowedV4, [.. _allowedV4, (uint)address.Value]);
        }
    }

    // DHCP guard: a tenant is a DHCP client, never a server to its neighbours (an offer or ACK
    // from it would hand them its own router and name servers): nothing from the server port,
    // nothing to the client port, no BOOTREPLY. Its requests name one of its own MACs (chaddr): a
    // request, release or decline in a neighbour's name made the server NAK or free the
    // neighbour's lease (found by review). A request's transaction is what a server's answer to
    // it must carry to be snooped; a release or decline forgets the lease.
    private bool ServesDhcp(ReadOnlySpan<byte> frame)
    {
        // Most frames are told apart by two bytes: not UDP, or not a first fragment (the header
        // bytes as sent, even damaged: what a receiver might make of them).
        var ip = frame.Slice(EthernetHeader.Length);
        if (ip[9] != IpProtocol.Udp || (BinaryPrimitives.ReadUInt16BigEndian(ip.Slice(6)) & 0x1FFF) != 0) return false;
        var header = (ip[0] & 0x0F) * 4;
        if (header < Ipv4Header.MinLength || ip.Length < header + 4) return false;
        var from = BinaryPrimitives.ReadUInt16BigEndian(ip.Slice(header));
        var to = BinaryPrimitives.ReadUInt16BigEndian(ip.Slice(header + 2));
        if (from == BootpMessage.ServerPort || to == BootpMessage.ClientPort) return true;
        if (to != BootpMessage.ServerPort) return false;
        if (ip.Length > header + 8 && ip[header + 8] == 2) return true; // a BOOTREPLY: a server's or a relay's
        // What is not a well-formed Ethernet client's message in one piece — a fragment (a server
        // reassembles it, the check could not read it), another hardware type, no magic cookie —
        // is refused: no client of its own sends one (found by review).
        if (!BootpMessage.TryRead(frame, out var message)) return true;
        if (message.FromServer || IndexOfMac(message.ClientMac) is not (var index and >= 0)) return true;
        if (message.ClientIdentifierMac is { } identified && IndexOfMac(identified) < 0) return true; // option 61 names the lease where given
        if (_learnsAddresses)
        {
            Volatile.Write(ref _leases[index].Transaction, message.Transaction);
            if (message.Type is BootpMessage.Release or BootpMessage.Decline) Volatile.Write(ref _leases[index].Address, 0);
        }
        return false;
    }

    // A DHCP server's answer delivered to this VNIC, to a transaction its own client began: an ACK
    // leases it the address for the lease's time; a NAK takes the lease back.
    private void LearnLease(ReadOnlySpan<byte> frame)
    {
        if (!BootpMessage.TryRead(frame, out var message) || !message.FromServer || IndexOfMac(message.ClientMac) is not (var index and >= 0)
            || Volatile.Read(ref _leases[index].Transaction) != message.Transaction)
        {
            return;
        }
        if (message.Type == BootpMessage.Ack && message.YourAddress != 0)
        {
            var clock = Clock;
            // As long as the client keeps it: at least its shortest lease (a 4-second lease ended
            // here while the client kept the address 10 s, and its renewals were dropped as spoofed).
            var ends = message.LeaseSeconds is { } seconds and not uint.MaxValue
                ? clock.GetTimestamp() + (long)(Math.Max(seconds, Stacks.DhcpClient.MinimumLeaseSeconds) * (double)clock.TimestampFrequency)
                : long.MaxValue;
            Volatile.Write(ref _leases[index].Ends, ends);
            Volatile.Write(ref _leases[index].Address, message.YourAddress);
        }
        else if (message.Type == BootpMessage.Nak)
        {
            Volatile.Write(ref _leases[index].Address, 0);
        }
    }

    // Neighbour discovery (RFC 4861) from a tenant: every link-layer address it gives (source or
    // target option) is one of its MACs; the address an advertisement claims, or a duplicate
    // address probe asks about, is one it may send from; router advertisements and redirects are
    // a router's, not a tenant's (RA guard, RFC 6105). Without these, a tenant sending from its
    // own address took a neighbour's entries in a third stack's cache and stopped its SLAAC
    // (found by an adversarial review).
    private bool IsSpoofedNeighborDiscovery(ReadOnlySpan<byte> message, UInt128 source)
    {
        if (message.Length < 4) return false; // the stack drops it
        switch (message[0])
        {
            case 133: // router solicitation
                return !OwnLinkLayerOptions(message, 8);
            case 134 or 137: // router advertisement, redirect
                return true;
            case 135 when message.Length >= 24: // neighbour solicitation
                return source == 0 && !AllowedV6(BinaryPrimitives.ReadUInt128BigEndian(message.Slice(8))) || !OwnLinkLayerOptions(message, 24);
            case 136 when message.Length >= 24: // neighbour advertisement
                return !AllowedV6(BinaryPrimitives.ReadUInt128BigEndian(message.Slice(8))) || !OwnLinkLayerOptions(message, 24);
            default:
                return false;
        }
    }

    // True when every source or target link-layer address option from `at` on names one of its
    // MACs; a malformed option list (a zero length, one cut short) is refused too.
    private bool OwnLinkLayerOptions(ReadOnlySpan<byte> message, int at)
    {
        while (at < message.Length)
        {
            if (at + 2 > message.Length) return false;
            var length = message[at + 1] * 8;
            if (length == 0 || at + length > message.Length) return false;
            if (message[at] is 1 or 2 && !OwnsMac(EthernetHeader.ReadMac(message.Slice(at + 2)))) return false;
            at += length;
        }
        return true;
    }

    private int IndexOfMac(ulong mac) => Array.IndexOf(_macs, mac);

    private bool OwnsInterfaceId(UInt128 address)
    {
        foreach (var own in _interfaceIds)
        {
            if ((ulong)address == own) return true;
        }
        return false;
    }

    private readonly ulong[] _interfaceIds; // learning its addresses: the interface identifiers its MACs give autoconfigured addresses

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
