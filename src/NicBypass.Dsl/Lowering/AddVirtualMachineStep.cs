namespace NicBypass.Dsl.Lowering;

/// <summary>Add a VM: its VNIC, the interface applying <paramref name="Transform"/> and the VM's guest stack.</summary>
/// <param name="Transform">The runtime's <c>PacketTransform</c> member name.</param>
public sealed record AddVirtualMachineStep(VnicBuild Vnic, string Transform) : HostBuildStep
{
    public override string Describe() =>
        $"VM '{Vnic.Name}': VNIC → interface{(Transform == "None" ? "" : " (" + Transform + ")")} → guest stack";
}
