namespace NicBypass.Dsl.Lowering;

/// <summary>
/// Program one classifier rule from the plan: NIC <paramref name="Nic"/>'s hardware classifier
/// (through the driver's API) when <paramref name="SoftwareRing"/> is null, else that software
/// ring's classifier (same functionality, same criteria). Frames to <paramref name="Mac"/> in
/// <paramref name="Vlan"/>, to <paramref name="Ips"/> and to <paramref name="Ports"/> of
/// <paramref name="Protocols"/> go to ring <paramref name="Ring"/> on their way to
/// <paramref name="Vnic"/>: the classifier matches the fields its model advertises, the VNIC
/// checks the rest in software.
/// </summary>
/// <param name="Ips">Canonical address text; empty: any (<c>ip dhcp</c>).</param>
/// <param name="Ports">Empty: any.</param>
/// <param name="Protocols">The runtime's <c>StackProtocols</c> names the ports are for.</param>
/// <param name="AsDeclared">True when the addresses, ports and protocols are exactly the ones
/// <paramref name="Vnic"/> declares (the usual case): generated code then names them by the
/// VNIC instead of spelling them out again for every classifier the VNIC is programmed into.</param>
public sealed record ProgramClassifierStep(
    string Nic,
    string? SoftwareRing,
    ulong Mac,
    string MacText,
    int Vlan,
    EquatableArray<string> Ips,
    EquatableArray<int> Ports,
    int Ring,
    string Vnic,
    EquatableArray<string> Protocols = default,
    bool AsDeclared = false) : HostBuildStep
{
    public override string Describe() =>
        $"{MacText}{(Vlan != 0 ? " vlan " + Vlan : "")} → {(SoftwareRing is null ? "hrr" : SoftwareRing + "/srr")}{Ring}";
}
