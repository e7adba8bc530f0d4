namespace NicBypass.Dsl.Planning;

/// <summary>
/// A software ring: a software classifier feeding software receive rings (SRRs), one per VNIC,
/// the last of which may carry a nested software ring when the VNICs exceed soft-ring-width.
/// </summary>
/// <param name="Id">Per-NIC id in nesting order: sr0 is on the HRR, sr1 on sr0's last SRR, …</param>
public sealed record SoftwareRingPlan(string Id, EquatableArray<RingBinding> Rings, ClassifierProgram Classifier);
