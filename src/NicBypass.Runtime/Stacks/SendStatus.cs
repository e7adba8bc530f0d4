namespace NicBypass.Runtime.Stacks;

/// <summary>
/// What became of a frame sent towards the wire — the one result every transmit step returns
/// (a stack's output, a VNIC, a VM's guest driver), so a drop carries its real reason to the
/// counters of whoever sent it.
/// </summary>
public enum SendStatus
{
    /// <summary>On a transmit ring, on its way to the wire.</summary>
    Sent,

    /// <summary>Accepted and waiting (in the outbound VSQ for bandwidth or a full transmit ring, or for the neighbour's MAC); it will go out.</summary>
    Queued,

    /// <summary>Not accepted, nothing counted: the outbound VSQ or the transmit ring is full. The sender keeps the frame and waits for <see cref="IStackOutput.WhenWritable"/>.</summary>
    Blocked,

    /// <summary>Dropped and counted (<c>spoofed</c>): its source MAC or IP is not one of the sending VNIC's.</summary>
    Spoofed,

    /// <summary>Dropped and counted (<c>malformed</c>): shorter than an Ethernet header.</summary>
    Malformed,

    /// <summary>Dropped and counted (<c>oversize</c>): longer than the NIC's MTU allows.</summary>
    Oversize,
}
