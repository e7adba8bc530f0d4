namespace NicBypass.Runtime.Devices;

/// <summary>
/// How a simulated NIC is configured: rings to enable, their size, MTU, MSI vectors, link speed,
/// and interrupt moderation (how long a hardware ring's first frame waits for its interrupt, in
/// microseconds: <see cref="SimulatedNic.InterruptModeration"/>; 0: off; <see cref="AdaptiveModeration"/>: adaptive).
/// </summary>
public sealed record SimNicSettings(int RxRings, int TxRings = 1, int RingSize = 1024, int Mtu = 1500, int? MsiVectors = null, long? LinkSpeedBitsPerSecond = null,
    int InterruptModerationMicroseconds = 0)
{
    /// <summary><see cref="InterruptModerationMicroseconds"/> for adaptive moderation (<see cref="SimulatedNic.AdaptiveInterruptModeration"/>).</summary>
    public const int AdaptiveModeration = -1;
}
