using NicBypass.Dsl.Hardware;

namespace NicBypass.Dsl.Planning;

/// <summary>The placement of one NIC: which hardware receive ring serves what, and the hardware classifier's program.</summary>
/// <param name="PlacementOrder">The NIC's VNICs in placement order (DESIGN.md §6 rule 3).</param>
/// <param name="MsiVectors">MSI vectors in use; HRR i raises vector i mod MsiVectors.</param>
public sealed record NicPlan(
    string Name,
    NicModel Model,
    int TransmitRings,
    int MsiVectors,
    EquatableArray<string> PlacementOrder,
    EquatableArray<RingBinding> HardwareRings,
    ClassifierProgram HardwareClassifier)
{
    /// <summary>The MSI vector hardware receive ring <paramref name="ring"/> raises.</summary>
    public int MsiVectorOf(int ring) => ring % MsiVectors;

    /// <summary>Hardware receive rings that serve something.</summary>
    public int HardwareRingsInUse => HardwareRings.Count(r => !r.IsIdle);
}
