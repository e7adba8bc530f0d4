namespace NicBypass.Linux.Tests;

/// <summary>The Linux tests run one at a time: real time on a 2-core machine, and each has its own namespace and TAP.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LinuxCollection
{
    public const string Name = "Linux peers";
}
