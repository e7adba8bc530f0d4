namespace NicBypass.Dsl.Lowering;

/// <summary>
/// Load a lookup specialised to the rules just programmed into a classifier (the NIC's hardware
/// classifier when <paramref name="SoftwareRing"/> is null): rule i for <paramref name="Macs"/>[i], its VLAN, IP and port checked as <paramref name="Checks"/>[i].
/// Generated code bakes it at build time; the interpreter loads the same MACs and checks into a
/// table. Either way the classifier compares them with its rules and refuses a lookup that differs.
/// </summary>
/// <param name="Name">The generated lookup class's name.</param>
/// <param name="Checks">Rule i's fields beyond the MAC, as its classifier matches them (<see cref="LookupCheck"/>).</param>
public sealed record LoadLookupStep(string Nic, string? SoftwareRing, string Name, EquatableArray<ulong> Macs, EquatableArray<LookupCheck> Checks = default) : HostBuildStep
{
    public override string Describe() =>
        $"{(SoftwareRing is null ? "hardware classifier" : "software ring " + SoftwareRing + " classifier")}: lookup specialised to its {Macs.Count} MACs";
}
