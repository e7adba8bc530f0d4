namespace NicBypass.Dsl.Planning;

/// <summary>
/// What one receive ring (hardware or software) serves: a VNIC, a software ring stacked on it,
/// or nothing (idle). Exactly one of <see cref="Vnic"/> and <see cref="SoftwareRing"/> is set
/// unless the ring is idle.
/// </summary>
public sealed record RingBinding(int Index, string? Vnic, SoftwareRingPlan? SoftwareRing)
{
    public bool IsIdle => Vnic is null && SoftwareRing is null;
}
