using NicBypass.Dsl.Hardware;
using NicBypass.Dsl.Text;
using NicBypass.Dsl.Values;

namespace NicBypass.Dsl.Model;

/// <summary>A checked <c>nic</c> declaration with every default filled in.</summary>
/// <param name="Speed">Link speed: the <c>speed</c> property, else the model's.</param>
/// <param name="Msi">MSI vectors in use: the <c>msi</c> property, else as many as rings (up to the model's).</param>
public sealed record NicDefinition(
    string Name,
    NicModel Model,
    int RxRings,
    int TxRings,
    int RingSize,
    BitRate Speed,
    int Msi,
    int SoftRingWidth,
    int Mtu,
    SourceLocation Location)
{
    public const int DefaultTxRings = 1;

    /// <summary>The longest interrupt moderation a NIC may be given (1 s).</summary>
    public const int MaxInterruptModerationMicroseconds = 1_000_000;

    /// <summary><see cref="InterruptModerationMicroseconds"/> of <c>interrupt-moderation adaptive</c> (the NIC picks the delay from its load).</summary>
    public const int AdaptiveInterruptModeration = -1;

    /// <summary>How long a hardware ring's first frame waits for its interrupt (ethtool's rx-usecs); 0: off; <see cref="AdaptiveInterruptModeration"/>: adaptive.</summary>
    public int InterruptModerationMicroseconds { get; init; }
    public const int DefaultRingSize = 1024;
    public const int DefaultSoftRingWidth = 64;
    public const int DefaultMtu = 1500;
}
