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
/// The guest's driver knows its interface's transform: it undoes it when reading a frame from
/// memory and applies it when writing one, so the stack itself always sees plain frames.
/// </summary>
public sealed class VirtualMachine : IPollingConsumer
{
    private readonly byte[] _in;
    private readonly byte[] _wire;
    private readonly bool _reverse;
    private readonly GuestOutput _output;

    internal VirtualMachine(Vnic vnic, PacketTransform transform, TimeProvider time)
    {
        Vnic = vnic;
        Mac = vnic.Macs[0];
        var size = vnic.Nic.Device.MaxFrameLength;
        _in = new byte[size];
        _wire = new byte[size];
        Memory = new GuestMemory(64, (size + 63) & ~63);
        Interface = new GuestInterface(vnic, this, transform);
        _reverse = transform == PacketTransform.ReverseBits;
        _output = new GuestOutput(this);
        Stack = new NetworkStack(Mac, vnic.Ips, size - 18, time, _output, new StackSettings(EchoUdp: true), concurrentReceive: false);
    }

    public string Name => Vnic.Name;

    public Vnic Vnic { get; }

    public GuestInterface Interface { get; }

    internal GuestMemory Memory { get; }

    /// <summary>The guest OS's network stack: open sockets and connections here.</summary>
    public NetworkStack Stack { get; }

    /// <summary>The VM's own MAC (its VNIC's first).</summary>
    public ulong Mac { get; }

    /// <summary>What the guest stack did with the frames it got and sent.</summary>
    public StackCounters Counters => Stack.Counters;

    public IReadOnlyList<IPAddress> Addresses => Stack.Addresses.Select(a => a.ToIPAddress()).ToList();

    /// <summary>Gives the guest an address (static, or learned at run time for <c>ip dhcp</c>).</summary>
    public void AssignAddress(IPAddress address) => Stack.AddAddress(NetworkAddress.From(address));

    /// <summary>Sends a plain frame from the guest as it is (through its driver, interface and VNIC) — any frame, even a forged one.</summary>
    public SendStatus Send(ReadOnlySpan<byte> frame)
    {
        if (!_reverse) return Interface.Send(frame);
        var memory = _wire.AsSpan(0, Math.Min(frame.Length, _wire.Length));
        BitReversal.Apply(frame.Slice(0, memory.Length), memory);
        return Interface.Send(memory);
    }

    /// <summary>Runs the guest stack's timers (TCP retransmission) and wakes blocked senders.</summary>
    bool IPollingConsumer.Poll() => Poll();

    long IPollingConsumer.NextDue() => Stack.NextDue();

    internal bool Poll()
    {
        _output.Signal();
        return Stack.Tick();
    }


    // A frame has been placed in memory by the interface: the guest reads and handles it.
    internal void OnFrame(ReadOnlySpan<byte> memory)
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

        public SendStatus Send(ReadOnlySpan<byte> frame) => vm.Send(frame);

        public Task WhenWritable()
        {
            lock (this) return (_writable ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
        }

        public void Signal()
        {
            if (Volatile.Read(ref _writable) is null) return;
            TaskCompletionSource? writable;
            lock (this)
            {
                writable = _writable;
                _writable = null;
            }
            writable?.TrySetResult();
        }
    }
}
