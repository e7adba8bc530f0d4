using NicBypass.Runtime.Packets;
using NicBypass.Runtime.Stacks;

namespace NicBypass.Runtime.Virtualization;

/// <summary>
/// A virtual network stack (VNS): the stack a container or service has behind its VNIC. Inbound,
/// frames pass the inbound serialization queue into the IP and transport layers
/// (<see cref="Stack"/>) and on to sockets; outbound, frames pass the outbound serialization
/// queue, which enforces <c>outbound-bandwidth</c>, to the VNIC, a transmit ring and the wire.
///
/// <list type="bullet">
/// <item><b>Interrupt mode</b>: a frame the ring's interrupt delivers is processed at once when
/// the inbound VSQ is idle, and waits in it otherwise. At the VSQ's threshold the ring is
/// switched to polling (its interrupt disabled) and keeps further frames; as the VSQ drains, the
/// VNS takes them through the ring's poll entry point and re-enables the interrupt once the ring
/// is empty.</item>
/// <item><b>Polling mode</b>: the ring's interrupt stays off; the VNS polls the ring only when its
/// inbound VSQ is empty, taking what is there up to what the bandwidth allocation allows by now
/// (and what the VSQ has room for), so the rate of polling follows the allocation.</item>
/// <item><b>Outbound</b>: a frame goes straight to the VNIC when nothing waits and the
/// allocation allows it; otherwise it waits in the outbound VSQ, which sends as credit accrues
/// and the transmit ring has room (a full ring pushes back; nothing is lost). When the outbound
/// VSQ is full, senders are blocked (<see cref="SendStatus.Blocked"/>) and
/// <see cref="WhenWritable"/> tells them when they may send again.</item>
/// </list>
/// The processor its VNIC is bound to runs it (<see cref="Poll"/>): backlog, ring, timers, outbound.
/// </summary>
public sealed class VirtualNetworkStack : IFlowControlledConsumer, IPollingConsumer, IStackOutput
{
    [ThreadStatic] private static byte[]? t_inbound;
    [ThreadStatic] private static PacketDescriptor[]? t_batch;
    [ThreadStatic] private static VirtualNetworkStack? t_entered;

    private readonly Lock _transmit = new();
    private RingPoller? _poller;
    private TaskCompletionSource? _writable;

    internal VirtualNetworkStack(Vnic vnic, StackSettings settings, TimeProvider time)
    {
        Vnic = vnic;
        Settings = settings;
        var frameSize = vnic.Nic.Device.MaxFrameLength;
        var inbound = new SerializationGate(settings.Policy);
        Inbound = new SerializationQueue("inbound", settings.InboundThreshold, frameSize, inbound);
        Outbound = new SerializationQueue("outbound", settings.OutboundCapacity, frameSize, settings.Bidirectional ? inbound : new SerializationGate(settings.Policy));
        if (vnic.Settings.OutboundBandwidth is { } outbound) OutboundLimiter = new BandwidthLimiter(outbound, frameSize, time);
        Stack = new NetworkStack(vnic.Macs[0], vnic.Ips, frameSize - 18, time, this, settings, concurrentReceive: settings.Policy == SerializationPolicy.Concurrent);
    }

    public string Name => Vnic.Name;

    public Vnic Vnic { get; }

    public StackSettings Settings { get; }

    /// <summary>The IP and transport layers: bind sockets, listen and connect here.</summary>
    public NetworkStack Stack { get; }

    public StackCounters Counters => Stack.Counters;

    /// <summary>TCP present → mutual exclusion; UDP only → concurrent.</summary>
    public SerializationPolicy Policy => Settings.Policy;

    internal SerializationQueue Inbound { get; }

    internal SerializationQueue Outbound { get; }

    /// <summary>The <c>outbound-bandwidth</c> allocation, if any.</summary>
    internal BandwidthLimiter? OutboundLimiter { get; }

    /// <summary>The ring poller, in polling mode.</summary>
    internal RingPoller? Poller => _poller;

    /// <summary>Times the ring was switched to polling because the inbound VSQ reached its threshold.</summary>
    public long Backlogs { get; private set; }

    /// <summary>The most frames its inbound VSQ has held.</summary>
    public int InboundHighWater => Inbound.HighWater;

    /// <summary>The most frames its outbound VSQ has held.</summary>
    public int OutboundHighWater => Outbound.HighWater;

    /// <summary>Senders told to wait because the outbound VSQ was full.</summary>
    public long BlockedSends { get; private set; }

    internal int Room => Math.Max(0, Inbound.Capacity - Inbound.Count);

    int IFlowControlledConsumer.Room => Room;

    void IFlowControlledConsumer.UsePoller(RingPoller poller) => _poller = poller;

    // ---- inbound -------------------------------------------------------------------------------

    /// <summary>A batch of frames is coming: enter the inbound VSQ once for all of them if it is idle.</summary>
    void IVnicConsumer.BeginBatch()
    {
        if (Inbound.Count == 0 && Inbound.TryEnter()) t_entered = this;
    }

    /// <summary>The batch is over: leave the inbound VSQ if BeginBatch entered it.</summary>
    void IVnicConsumer.EndBatch()
    {
        if (t_entered != this) return;
        t_entered = null;
        Inbound.Exit();
    }

    /// <summary>A frame from the VNIC: processed at once if the inbound VSQ is idle, queued otherwise.</summary>
    void IVnicConsumer.Deliver(Vnic vnic, ReadOnlySpan<byte> frame)
    {
        if (t_entered == this)
        {
            Stack.Receive(frame);
            return;
        }
        if (Inbound.Count == 0 && Inbound.TryEnter())
        {
            try
            {
                Stack.Receive(frame);
            }
            finally
            {
                Inbound.Exit();
            }
            return;
        }
        if (!Inbound.TryEnqueue(frame)) Stack.CountUnprocessed(StackDropReason.QueueFull);
    }

    /// <summary>
    /// Runs the VNS once on its processor: processes the inbound backlog; when it is empty takes
    /// more from the ring (polling mode, or a ring switched to polling at the threshold); runs
    /// the timers; sends what waits in the outbound VSQ. True if anything moved.
    /// </summary>
    internal bool Poll()
    {
        var progress = DrainInbound();
        if (Inbound.Count == 0) progress |= PullFromRing();
        progress |= Stack.Tick();
        progress |= FlushOutbound();
        return progress;
    }

    void IFlowControlledConsumer.Backlogged() => Backlogs++;

    private bool DrainInbound()
    {
        // Someone else inside a mutually exclusive VSQ drains it (or the next poll will).
        if (Inbound.Count == 0 || !Inbound.TryEnter()) return false;
        var buffer = t_inbound ??= new byte[16 * 1024];
        var moved = false;
        try
        {
            while (Inbound.TryDequeue(buffer, out var length))
            {
                Stack.Receive(buffer.AsSpan(0, length));
                moved = true;
            }
        }
        finally
        {
            Inbound.Exit();
        }
        return moved;
    }

    private bool PullFromRing()
    {
        if (_poller is { } poller) return poller.Poll(Room);
        var ring = Vnic.Ring;
        if (ring is null || ring.InterruptsEnabled) return false;
        // The ring was switched to polling at the threshold: take what waits, up to the room.
        var batch = t_batch ??= new PacketDescriptor[Virtualization.Processor.BatchSize];
        var moved = 0;
        int room;
        while ((room = Room) > 0)
        {
            if (ring.Count == 0) break;
            (Virtualization.Processor.Running ?? Vnic.Processor).ChargePoll();
            var n = ring.Poll(batch.AsSpan(0, Math.Min(room, batch.Length)));
            if (n == 0) break;
            Vnic.Receive(ring, batch.AsSpan(0, n));
            moved += n;
            DrainInbound();
        }
        if (ring.Count == 0) ring.EnableInterrupts();
        return moved > 0;
    }

    // ---- outbound ------------------------------------------------------------------------------

    /// <summary>A frame from the stack: sent now if nothing waits and the allocation allows; queued if there is room; blocked otherwise.</summary>
    public SendStatus Send(ReadOnlySpan<byte> frame)
    {
        lock (_transmit)
        {
            if (Outbound.Count == 0)
            {
                var status = TryTransmit(frame);
                if (status != SendStatus.Blocked) return status; // sent, or dropped with its reason
            }
            if (Outbound.TryEnqueue(frame)) return SendStatus.Queued;
            BlockedSends++;
            return SendStatus.Blocked;
        }
    }

    /// <summary>Completes when the outbound VSQ has room again (at once if it has room now).</summary>
    public Task WhenWritable()
    {
        lock (_transmit)
        {
            if (Outbound.Count < Outbound.Capacity) return Task.CompletedTask;
            return (_writable ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
        }
    }

    private bool FlushOutbound()
    {
        if (Outbound.Count == 0) return false;
        TaskCompletionSource? writable = null;
        var moved = 0;
        using (Outbound.Enter())
        {
            lock (_transmit)
            {
                while (Outbound.Count > 0)
                {
                    var status = TryTransmit(Outbound.Peek());
                    if (status == SendStatus.Blocked) break;
                    if (StackDropReasons.Of(status) is { } reason) Stack.Counters.DropSend(reason);
                    Outbound.DropHead();
                    moved++;
                }
                if (moved > 0 && _writable is not null)
                {
                    writable = _writable;
                    _writable = null;
                }
            }
        }
        writable?.TrySetResult();
        return moved > 0;
    }

    // Sent, Blocked (held back by the allocation or a full transmit ring: it waits), or dropped
    // by the VNIC with its reason.
    private SendStatus TryTransmit(ReadOnlySpan<byte> frame)
    {
        var limiter = OutboundLimiter;
        if (limiter is not null && !limiter.CanConsume(frame.Length)) return SendStatus.Blocked;
        var status = Vnic.Transmit(frame);
        if (status == SendStatus.Sent) limiter?.Consume(frame.Length);
        return status;
    }

    bool IPollingConsumer.Poll() => Poll();

    /// <summary>When the VNS next has work that only time brings: a stack timer, credit for a frame waiting in its ring (polling) or in its outbound VSQ.</summary>
    internal long NextDue()
    {
        var due = Stack.NextDue();
        if (_poller is { } poller) due = Math.Min(due, poller.NextDue());
        if (OutboundLimiter is { } limiter && Outbound.Count > 0) due = Math.Min(due, limiter.ReadyAt(Outbound.Peek().Length));
        return due;
    }

    long IPollingConsumer.NextDue() => NextDue();

    public override string ToString() => $"VNS '{Name}' ({Policy})";
}
