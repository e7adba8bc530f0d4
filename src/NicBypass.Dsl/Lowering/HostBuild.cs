namespace NicBypass.Dsl.Lowering;

/// <summary>
/// A host lowered to the steps that build it on the runtime — the one description of "how to
/// build this host" that both ways of running it share. The interpreter executes the steps
/// through the runtime's <c>HostBuilder</c>; the source generator prints one line per step
/// calling the same builder method with the same arguments. Value-equatable, so the generator's
/// output stays cached while the steps are unchanged.
/// </summary>
/// <param name="Name">The host's name in the .nicdsl file.</param>
/// <param name="ClassName">The generated class's name (PascalCase of <paramref name="Name"/>).</param>
/// <param name="Steps">In execution order: NICs, VNICs, hardware checks, ring bindings, classifier programs, polling, start.</param>
/// <param name="Placement">Which ring serves which VNIC, in plan order.</param>
public sealed record HostBuild(
    string Name,
    string ClassName,
    int Cpus,
    EquatableArray<HostBuildStep> Steps,
    EquatableArray<PlacementRow> Placement)
{
    /// <summary>The steps of one kind, in order.</summary>
    public IEnumerable<T> StepsOf<T>() where T : HostBuildStep => Steps.OfType<T>();
}
