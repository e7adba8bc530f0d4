namespace NicBypass.Runtime.Virtualization;

/// <summary>What a VNIC did with a frame sent through it.</summary>
public enum TransmitStatus
{
    /// <summary>On a transmit ring.</summary>
    Queued,

    /// <summary>The transmit ring (or the buffer pool) is full: back-pressure, nothing counted; the sender keeps the frame and retries.</summary>
    RingFull,

    /// <summary>Dropped and counted (<c>spoofed</c>): its source MAC or IP is not the sender's own.</summary>
    Spoofed,

    /// <summary>Dropped and counted: shorter than an Ethernet header (<c>malformed</c>) or longer than the MTU allows (<c>oversize</c>).</summary>
    Invalid,
}
