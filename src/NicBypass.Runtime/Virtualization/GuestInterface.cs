using NicBypass.Runtime.Stacks;
using NicBypass.Runtime.Packets;

namespace NicBypass.Runtime.Virtualization;

/// <summary>
/// The interface between a VNIC and its VM (a Xen-style backend): applies its transform and
/// places each frame in the VM's memory, then lets the guest run. Outbound, it undoes the
/// transform (reverse-bits is its own inverse) and hands the frame to the VNIC.
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

    /// <summary>Inbound: transform into the VM's memory, then the guest processes it.</summary>
    public void Deliver(ReadOnlySpan<byte> frame)
    {
        var memory = VirtualMachine.Memory.Place(frame.Length);
        if (_reverse) BitReversal.Apply(frame, memory);
        else frame.CopyTo(memory);
        VirtualMachine.OnFrame(memory);
    }

    /// <summary>Outbound: a frame in the VM's representation, on its way to the VNIC.</summary>
    internal SendStatus Send(ReadOnlySpan<byte> frame)
    {
        if (Transform == PacketTransform.None) return Vnic.Transmit(frame);
        if (frame.Length > _outbound.Length) return Vnic.Transmit(frame);
        var plain = _outbound.AsSpan(0, frame.Length);
        BitReversal.Apply(frame, plain);
        return Vnic.Transmit(plain);
    }
}
