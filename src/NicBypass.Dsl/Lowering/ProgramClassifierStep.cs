namespace NicBypass.Dsl.Lowering;

/// <summary>
/// Program one classifier rule from the plan: NIC <paramref name="Nic"/>'s hardware classifier
/// (through the driver's API) when <paramref name="SoftwareRing"/> is null, else that software
/// ring's classifier (same functionality, same criteria). Frames to <paramref name="Mac"/> in
/// <paramref name="Vlan"/> — and to <paramref name="Ips"/> and <paramref name="Ports"/> where the
/// classifier matches them — go to ring <paramref name="Ring"/> on their way to <paramref name="Vnic"/>.
/// </summary>
/// <param name="Ips">Canonical address text; empty where the classifier does not match IPs.</param>
/// <param name="Ports">Empty where the classifier does not match ports.</param>
public sealed record ProgramClassifierStep(
    string Nic,
    string? SoftwareRing,
    ulong Mac,
    string MacText,
    int Vlan,
    EquatableArray<string> Ips,
    EquatableArray<int> Ports,
    int Ring,
    string Vnic) : HostBuildStep
{
    public override string Describe() =>
        $"{MacText}{(Vlan != 0 ? " vlan " + Vlan : "")} → {(SoftwareRing is null ? "hrr" : SoftwareRing + "/srr")}{Ring}";
}
