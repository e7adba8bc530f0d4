namespace NicBypass.Dsl.Lowering;

/// <summary>
/// Add flow <paramref name="Name"/> to VNIC <paramref name="Vnic"/> (flowadm's add-flow), in the
/// runtime's terms: <paramref name="Transport"/> a <c>StackProtocols</c> name (<c>None</c>: any),
/// the remote prefix as canonical text and length, the allocation in bits per second (0 blocks),
/// the priority as its keyword.
/// </summary>
public sealed record AddFlowStep(
    string Vnic,
    string Name,
    string Transport,
    int? LocalPort,
    string? RemoteIp,
    int RemotePrefixLength,
    int? RemotePort,
    ulong? Bandwidth,
    string Priority) : HostBuildStep
{
    /// <summary>What it selects, as the language says it (for the generated comment).</summary>
    public string Selector { get; init; } = "all its traffic";

    public override string Describe()
    {
        var limit = Bandwidth switch { 0 => ", blocked", { } b => $", {new Values.BitRate(b)}", null => "" };
        return $"flow {Name} on {Vnic}: {Selector}{limit}, priority {Priority}";
    }
}
