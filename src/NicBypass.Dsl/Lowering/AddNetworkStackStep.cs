namespace NicBypass.Dsl.Lowering;

/// <summary>Add a container or service: its VNIC and the virtual network stack behind it, binding only <paramref name="Ports"/>.</summary>
/// <param name="Role">The runtime's <c>VnicRole</c> member name (<c>Container</c> or <c>Service</c>).</param>
/// <param name="Protocols">The runtime's <c>StackProtocols</c> member names; TCP makes the VSQs mutually exclusive.</param>
/// <param name="Polling">True for <c>mode polling</c>: a later <see cref="PollStep"/> enforces the allocation.</param>
public sealed record AddNetworkStackStep(VnicBuild Vnic, string Role, EquatableArray<string> Protocols, EquatableArray<int> Ports, bool Polling) : HostBuildStep
{
    public override string Describe() =>
        $"{Vnic.Kind} '{Vnic.Name}': VNIC → virtual network stack ({(Protocols.Count == 0 ? "no transport" : string.Join(" + ", Protocols.Select(p => p.ToUpperInvariant())))}" +
        $"{(Protocols.Count == 1 && Protocols[0] == "Udp" ? ", concurrent VSQs" : Protocols.Count > 0 ? ", mutually exclusive VSQs" : "")})";
}
