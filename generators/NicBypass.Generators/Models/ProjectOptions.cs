namespace NicBypass.Generators.Models;

/// <summary>The MSBuild properties the generator reads: the root namespace and the project folder.</summary>
internal sealed record ProjectOptions(string RootNamespace, string ProjectDirectory);
