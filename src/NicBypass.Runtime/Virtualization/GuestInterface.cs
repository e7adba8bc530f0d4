using NicBypass.Runtime.Stacks;
using NicBypass.Runtime.Packets;

namespace NicBypass.Runtime.Virtualization;

/// <summary>
/// The interface between a VNIC and its VM (a Xen-style backend): applies its transform and
/// places each frame in the guest receive ring in the VM's memory, raising a virtual interrupt
/// when the ring was empty; the guest takes the frames on its own processor (its vCPU). A full
/// guest ring drops the frame (<c>guest-ring-full</c>). Outbound, it enforces the VM's
/// <c>outbound-bandwidth</c> — a frame over the allocation is refused
/// (<see cref="SendStatus.Blocked"/>) and the guest driver is told when it may send again — undoes
/// the transform (reverse-bits is its own inverse) and hands the frame to the VNIC.
/// </summary>
public sealed class GuestInterface
{
    private readonly byte[] _outbound;
    private readonly bool _reverse;

    internal GuestInterface(Vnic vnic, VirtualMachine vm, PacketTransform transform)
    {
        Vnic = vnic;
        VirtualMachine = vm;
        Transform = transform;
        _reverse = transform == PacketTransform.ReverseBits;
        _outbound = new byte[vnic.Nic.Device.MaxFrameLength];
    }

    public Vnic Vnic { get; }

    public VirtualMachine VirtualMachine { get; }

    public PacketTransform Transform { get; }

    /// <summary>The VM's <c>outbound-bandwidth</c>, if any.</summary>
    internal BandwidthLimiter? OutboundLimiter { get; set; }

    /// <summary>Sends refused because they were over the outbound allocation (the guest waits; nothing is lost).</summary>
    public long Blocked { get; private set; }

    /// <summary>The length of the last frame refused for bandwidth (what the guest waits to send).</summary>
    internal int BlockedBytes { get; private set; }

    /// <summary>Free slots in the guest's receive ring: how many more frames it takes now.</summary>
    internal int Room => Math.Max(0, VirtualMachine.Memory.Capacity - VirtualMachine.Memory.Count);

    /// <summary>Inbound: transform into the guest receive ring and notify the guest; false (counted by the VNIC) when the ring is full.</summary>
    internal bool Deliver(ReadOnlySpan<byte> frame)
    {
        var vm = VirtualMachine;
        if (!vm.Memory.TryReserve(frame.Length, out var memory)) return false;
        if (_reverse) BitReversal.Apply(frame.Slice(0, memory.Length), memory);
        else frame.Slice(0, memory.Length).CopyTo(memory);
        if (vm.Memory.Publish()) vm.Notify();
        return true;
    }

    /// <summary>Outbound: a frame in the VM's representation, on its way to the VNIC — if the allocation allows it now.</summary>
    internal SendStatus Send(ReadOnlySpan<byte> frame, bool sealedByStack = false)
    {
        var limiter = OutboundLimiter;
        if (limiter is not null && !limiter.CanConsume(frame.Length))
        {
            Blocked++;
            BlockedBytes = frame.Length;
            return SendStatus.Blocked;
        }
        SendStatus status;
        if (Transform == PacketTransform.None || frame.Length > _outbound.Length)
        {
            status = Vnic.Transmit(frame, sealedByStack && Transform == PacketTransform.None); // (too long to transform: not the bytes sealed)
        }
        else
        {
            var plain = _outbound.AsSpan(0, frame.Length);
            BitReversal.Apply(frame, plain);
            status = Vnic.Transmit(plain, sealedByStack); // the transform undone: the bytes the stack sealed
        }
        if (status == SendStatus.Sent) limiter?.Consume(frame.Length);
        return status;
    }

    /// <summary>Whether a frame the guest was refused may go now (the allocation has the credit).</summary>
    internal bool MaySendAgain => OutboundLimiter is not { } limiter || limiter.CanConsume(BlockedBytes);

    /// <summary>When the allocation will have credit for the frame the guest was refused; <see cref="long.MaxValue"/> without an allocation.</summary>
    internal long SendableAt => OutboundLimiter is { } limiter ? limiter.ReadyAt(BlockedBytes) : long.MaxValue;
}
