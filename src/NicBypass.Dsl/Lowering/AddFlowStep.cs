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
    public override string Describe()
    {
        var parts = new List<string>();
        if (Transport != "None") parts.Add(Transport.ToLowerInvariant());
        if (LocalPort is { } local) parts.Add("local-port " + local);
        if (RemoteIp is { } remote) parts.Add($"remote-ip {remote}/{RemotePrefixLength}");
        if (RemotePort is { } port) parts.Add("remote-port " + port);
        var selector = parts.Count == 0 ? "all its traffic" : string.Join(" ", parts);
        var limit = Bandwidth switch { 0 => ", blocked", { } b => $", {new Values.BitRate(b)}", null => "" };
        return $"flow {Name} on {Vnic}: {selector}{limit}, priority {Priority}";
    }
}
