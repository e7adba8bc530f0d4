namespace NicBypass.Dsl.Planning;

/// <summary>The placement of every NIC of one host.</summary>
public sealed record HostPlan(string Name, EquatableArray<NicPlan> Nics);
