using NicBypass.Runtime.Packets;

namespace NicBypass.Runtime.Virtualization;

/// <summary>
/// The simplest consumer behind a container's or service's VNIC: counts what it is given and
/// passes each frame to an optional handler. The virtual network stack replaces it where a
/// destination needs IP, transport and bandwidth processing.
/// </summary>
internal sealed class PacketDestination : IVnicConsumer
{
    public long Frames { get; private set; }

    public long Bytes { get; private set; }

    /// <summary>Called for every delivered frame (VLAN tag removed); the span is only valid during the call.</summary>
    public FrameHandler? Handler { get; set; }

    public void Deliver(Vnic vnic, ReadOnlySpan<byte> frame, bool sealedByStack = false)
    {
        Frames++;
        Bytes += frame.Length;
        Handler?.Invoke(vnic, frame);
    }
}

/// <summary>Receives one frame; the span is only valid during the call.</summary>
public delegate void FrameHandler(Vnic vnic, ReadOnlySpan<byte> frame);
