using NicBypass.Dsl.Hardware;

namespace NicBypass.Dsl.Planning;

/// <summary>The placement of one NIC: which hardware receive ring serves what, and the hardware classifier's program.</summary>
/// <param name="PlacementOrder">The NIC's VNICs in placement order (docs/dsl.md § Placement, rule 3).</param>
/// <param name="MsiVectors">MSI vectors in use; HRR i raises vector i mod MsiVectors.</param>
/// <param name="DefaultRing">The hardware ring that takes what the hardware classifier does not match (its software ring
/// classifies it), when the classifier has too few entries for every VNIC (docs/architecture.md § Classification as advertised); null otherwise.</param>
/// <param name="SoftwareClassified">The VNICs the hardware classifier holds no entry for: classified in software on <paramref name="DefaultRing"/>.</param>
public sealed record NicPlan(
    string Name,
    NicModel Model,
    int TransmitRings,
    int MsiVectors,
    EquatableArray<string> PlacementOrder,
    EquatableArray<RingBinding> HardwareRings,
    ClassifierProgram HardwareClassifier,
    int? DefaultRing = null,
    EquatableArray<string> SoftwareClassified = default)
{
    /// <summary>The MSI vector hardware receive ring <paramref name="ring"/> raises.</summary>
    public int MsiVectorOf(int ring) => ring % MsiVectors;

    /// <summary>Hardware receive rings that serve something.</summary>
    public int HardwareRingsInUse => HardwareRings.Count(r => !r.IsIdle);
}
