namespace NicBypass.Dsl.Lowering;

/// <summary>
/// One step of building a host. Each kind corresponds to exactly one method of the runtime's
/// <c>HostBuilder</c> and carries that method's arguments, already mapped to the runtime's
/// vocabulary (enum member names, address text, bits per second), so neither the interpreter nor
/// the emitter maps anything itself.
/// </summary>
public abstract record HostBuildStep
{
    /// <summary>What the step does in the seed's words: the comment generated code puts beside the call.</summary>
    public abstract string Describe();
}
