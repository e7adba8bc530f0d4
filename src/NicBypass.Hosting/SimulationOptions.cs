namespace NicBypass.Hosting;

/// <summary>
/// Synthetic traffic for <see cref="TrafficSimulation"/>: every VNIC is offered
/// <see cref="RateBitsPerSecond"/> (default: twice its inbound allocation, else an even share of
/// what the link carries — its speed less the 24 bytes each frame takes beside its own, and the
/// 1% of noise with <see cref="Mix"/>) of <see cref="FrameSize"/>-byte frames for
/// <see cref="Seconds"/> of virtual time. <see cref="Mix"/> adds unknown unicast, broadcast and
/// malformed frames (1% of the NIC's offered frames). <see cref="Offers"/> sets the rate offered
/// to named VNICs, overriding the rest. Frames are offered to each NIC's link, which carries them
/// at its rate and drops the excess. <see cref="InterruptsOnly"/> turns dynamic polling off;
/// <see cref="InterruptModeration"/> delays every hardware ring's interrupt (ethtool's rx-usecs), in
/// place of each NIC's own <c>interrupt-moderation</c>; null keeps what the host was built with.
/// <see cref="AdaptiveInterruptModeration"/> instead lets every NIC pick the delay from its load
/// (<c>interrupt-moderation adaptive</c>, <see cref="Runtime.Devices.SimulatedNic.AdaptiveInterruptModeration"/>).
/// </summary>
public sealed record SimulationOptions(double Seconds = 1, long? RateBitsPerSecond = null, int FrameSize = 1000, bool Mix = true, int Seed = 1,
    IReadOnlyDictionary<string, long>? Offers = null, bool InterruptsOnly = false, TimeSpan? InterruptModeration = null, bool AdaptiveInterruptModeration = false);
