using System.Net;
using NicBypass.Runtime.Packets;
using NicBypass.Runtime.Stacks;

namespace NicBypass.Runtime.Virtualization;

/// <summary>
/// A VM: its own memory, its own OS and a network stack of its own — unlike containers and
/// services, it does not use a host VNS. Its guest stack is the same <see cref="NetworkStack"/>
/// code (without serialization queues: the guest OS schedules itself): it answers ARP and IPv6
/// neighbour solicitations for its addresses, replies to ICMP and ICMPv6 echo, echoes UDP
/// datagrams sent to ports it has no socket on, and serves whatever UDP sockets and TCP
/// connections a test opens on <see cref="Stack"/> — so a test can ping a VM, or exchange a
/// byte stream with it, end to end across the simulated wire.
///
/// The VM boundary: the interface places received frames in the guest receive ring in the VM's
/// memory (<see cref="GuestRingSize"/> slots) and raises a virtual interrupt; the guest driver
/// takes them on the VM's own processor (<see cref="Vcpu"/>, which the guest stack's work is
/// charged to under the cost model), a batch at a time. The guest's driver knows its
/// interface's transform: it undoes it when reading a frame from memory and applies it when
/// writing one, so the stack itself always sees plain frames. Sends over the VM's
/// <c>outbound-bandwidth</c> are refused (<see cref="SendStatus.Blocked"/>) and the guest is
/// notified when it may send again (<see cref="IStackOutput.WhenWritable"/>).
/// </summary>
public sealed class VirtualMachine : IPollingConsumer
{
    private readonly byte[] _in;
    private readonly byte[] _wire;
    private readonly bool _reverse;
    private readonly GuestOutput _output;

    /// <summary>Slots in a VM's guest receive ring.</summary>
    public const int GuestRingSize = 256;

    private int _notified; // a virtual interrupt is pending

    internal VirtualMachine(Vnic vnic, PacketTransform transform, TimeProvider time, Processor vcpu)
    {
        Vnic = vnic;
        Vcpu = vcpu;
        Mac = vnic.Macs[0];
        var size = vnic.Nic.Device.MaxFrameLength;
        _in = new byte[size];
        _wire = new byte[size];
        Memory = new GuestMemory(GuestRingSize, (size + 63) & ~63);
        Interface = new GuestInterface(vnic, this, transform);
        _reverse = transform == PacketTransform.ReverseBits;
        _output = new GuestOutput(this);
        Stack = new NetworkStack(Mac, vnic.Ips, size - 18, time, _output, new StackSettings(EchoUdp: true), concurrentReceive: false);
        foreach (var group in vnic.Settings.Multicast ?? Array.Empty<System.Net.IPAddress>()) Stack.JoinGroup(NetworkAddress.From(group));
        Stack.SetRoutes(vnic.Settings.Ips ?? Array.Empty<System.Net.IPAddress>(), vnic.Settings.PrefixLengths, vnic.Settings.Gateways);
        Stack.TimerArmed = Vcpu.Awaken; // the guest's timers run on its vCPU
        if (vnic.Settings.Dhcp) Stack.StartDhcp(); // `ip dhcp`: its first DISCOVER leaves with the first pump
    }

    public string Name => Vnic.Name;

    public Vnic Vnic { get; }

    public GuestInterface Interface { get; }

    internal GuestMemory Memory { get; }

    /// <summary>The VM's own processor: the guest driver and stack run here.</summary>
    public Processor Vcpu { get; }

    /// <summary>Virtual interrupts raised: a frame placed in an empty guest receive ring.</summary>
    public long VirtualInterrupts { get; private set; }

    /// <summary>Frames waiting in the guest receive ring, and the most it has held.</summary>
    public int GuestRingCount => Memory.Count;

    public int GuestRingHighWater => Memory.HighWater;

    /// <summary>The guest OS's network stack: open sockets and connections here.</summary>
    public NetworkStack Stack { get; }

    /// <summary>The VM's own MAC (its VNIC's first).</summary>
    public ulong Mac { get; }

    /// <summary>What the guest stack did with the frames it got and sent.</summary>
    public StackCounters Counters => Stack.Counters;

    public IReadOnlyList<IPAddress> Addresses => Stack.Addresses.Select(a => a.ToIPAddress()).ToList();

    /// <summary>Gives the guest an address (static, or learned at run time for <c>ip dhcp</c>): the host's act, so its VNIC lets it send from it too (link protection).</summary>
    public void AssignAddress(IPAddress address)
    {
        var own = NetworkAddress.From(address);
        Vnic.AllowSource(own);
        Stack.AddAddress(own);
    }

    /// <summary>Sends a plain frame from the guest as it is (through its driver, interface and VNIC) — any frame, even a forged one.</summary>
    public SendStatus Send(ReadOnlySpan<byte> frame) => Send(frame, sealedByStack: false);

    // A frame from the guest: from its stack (sealedByStack: built there, checksums sealed), or
    // any frame an application sends.
    private SendStatus Send(ReadOnlySpan<byte> frame, bool sealedByStack)
    {
        // The guest driver's transmit lock (the VNIC's): its vCPU and applications' threads
        // (threaded mode) send through one transform buffer, allocation and VNIC.
        lock (Vnic.TransmitLock)
        {
            if (!_reverse) return Interface.Send(frame, sealedByStack);
            var memory = _wire.AsSpan(0, Math.Min(frame.Length, _wire.Length));
            BitReversal.Apply(frame.Slice(0, memory.Length), memory);
            return Interface.Send(memory, sealedByStack && memory.Length == frame.Length);
        }
    }

    /// <summary>The host is disposed: a sender waiting for the guest's transmit path looks again, and finds its socket closed.</summary>
    internal void ReleaseWriters() => _output.Signal();

    /// <summary>The guest on its vCPU: takes a batch from the guest receive ring, runs its stack's timers, wakes blocked senders.</summary>
    bool IPollingConsumer.Poll() => Poll();

    // After a poll that moved: more now if frames are left in the guest ring (a full batch, or one
    // placed meanwhile), a timer is due, or a held-back sender may go; otherwise its wakes say
    // when (a virtual interrupt, a timer armed, credit).
    bool IPollingConsumer.HasMoreNow =>
        Volatile.Read(ref _notified) != 0 || Memory.Count > 0 || Stack.TimersDue || (_output.Waiting && Interface.MaySendAgain);

    long IPollingConsumer.NextDue()
    {
        var due = Stack.NextDue();
        // A sender waiting for the allocation (a blocked send, or a segment TCP retries) needs the
        // vCPU when credit comes back.
        return (_output.Waiting || Stack.OutputRetryPending) && Interface.OutboundLimiter is not null ? Math.Min(due, Interface.SendableAt) : due;
    }

    // The interface placed a frame in the empty guest ring: a virtual interrupt for the vCPU.
    internal void Notify()
    {
        if (Interlocked.Exchange(ref _notified, 1) != 0) return;
        VirtualInterrupts++;
        WakeVcpu();
    }

    // The vCPU looks again.
    private void WakeVcpu() => Vcpu.WakeForWork();

    internal bool Poll()
    {
        var running = Processor.Running ?? Vcpu;
        if (Volatile.Read(ref _notified) != 0)
        {
            // An exchange, a full fence: the look at the ring below cannot pass the cleared flag
            // (a Notify that still saw it set woke nobody, for a frame published before it).
            Interlocked.Exchange(ref _notified, 0);
            running.ChargeInterrupt();
        }
        var taken = 0;
        using (AcknowledgmentBatch.Open()) // the guest's TCP acknowledges the batch's data once
        {
            while (taken < Processor.BatchSize && Memory.TryPeek(out var frame))
            {
                try
                {
                    OnFrame(frame);
                }
                finally
                {
                    // Taken even when a handler threw on it (the stack counts it as handler-fault):
                    // left in the ring, the next poll would throw on it again, and again.
                    Memory.Release();
                }
                taken++;
            }
        }
        running.ChargeStack(taken);
        if (taken > 0) Interface.Vnic.RoomMade(); // frames waiting in its flows' queues may go now
        if (_output.Waiting && Interface.MaySendAgain) _output.Signal();
        return Stack.Tick() | taken > 0;
    }

    // The guest driver reads a frame from its memory and hands it to the stack.
    private void OnFrame(ReadOnlySpan<byte> memory)
    {
        var frame = memory;
        if (_reverse)
        {
            var plain = _in.AsSpan(0, memory.Length);
            BitReversal.Apply(memory, plain);
            frame = plain;
        }
        Stack.Receive(frame);
    }

    public override string ToString() => Name;

    // The guest driver's transmit side, as the stack's output.
    private sealed class GuestOutput(VirtualMachine vm) : IStackOutput
    {
        private TaskCompletionSource? _writable;

        public SendStatus Send(ReadOnlySpan<byte> frame)
        {
            Processor.Running?.ChargeTransmit(); // the guest stack's send, on the VM's vCPU
            return vm.Send(frame, sealedByStack: true);
        }

        public Task WhenWritable()
        {
            Task task;
            lock (this) task = (_writable ??= ApplicationContext.NewWait()).Task;
            vm.WakeVcpu(); // it signals the task when credit comes back: it looks again, with that time as its deadline
            return task;
        }

        public bool Waiting => Volatile.Read(ref _writable) is not null;

        public void Signal()
        {
            if (Volatile.Read(ref _writable) is null) return;
            TaskCompletionSource? writable;
            lock (this)
            {
                writable = _writable;
                _writable = null;
            }
            if (writable is not null) ApplicationContext.SetResult(writable);
        }
    }
}
