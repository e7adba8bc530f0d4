namespace NicBypass.Dsl.Lowering;

/// <summary>
/// Load a lookup specialised to the rules just programmed into a classifier (the NIC's hardware
/// classifier when <paramref name="SoftwareRing"/> is null): rule i for <paramref name="Macs"/>[i].
/// Generated code bakes it at build time; the interpreter keeps the classifier's generic table,
/// which gives the same answers.
/// </summary>
/// <param name="Name">The generated lookup class's name.</param>
public sealed record LoadLookupStep(string Nic, string? SoftwareRing, string Name, EquatableArray<ulong> Macs) : HostBuildStep
{
    public override string Describe() =>
        $"{(SoftwareRing is null ? "hardware classifier" : "software ring " + SoftwareRing + " classifier")}: lookup specialised to its {Macs.Count} MACs";
}
