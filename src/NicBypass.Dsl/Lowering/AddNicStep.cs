namespace NicBypass.Dsl.Lowering;

/// <summary>Discover NIC <paramref name="Nic"/> (a simulated part of <paramref name="Model"/>), register it and take a copy of its driver's hardware information.</summary>
/// <param name="Member">The generated class's property for it.</param>
/// <param name="Speed">Link speed in bits per second.</param>
/// <param name="Msi">MSI vectors in use.</param>
/// <param name="InterruptModerationMicroseconds">How long a hardware ring's first frame waits for its interrupt; 0: off.</param>
public sealed record AddNicStep(
    string Nic,
    string Member,
    string Model,
    string Driver,
    int RxRings,
    int TxRings,
    int RingSize,
    int Mtu,
    int Msi,
    ulong Speed,
    int InterruptModerationMicroseconds = 0) : HostBuildStep
{
    public override string Describe() =>
        $"NIC '{Nic}': {Model} (driver {Driver}), {RxRings} receive and {TxRings} transmit rings of {RingSize}";
}
