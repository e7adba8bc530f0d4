using NicBypass.Dsl.Lowering;

namespace NicBypass.Generators.Models;

/// <summary>
/// Everything the emitter needs for one host, and nothing else: value-equatable, without source
/// locations, so an edit that only moves lines or changes comments compares equal and the
/// source output stays cached.
/// </summary>
/// <param name="FilePath">The file as the compiler knows it, for a diagnostic if emitting fails.</param>
/// <param name="SourcePath">The file relative to the project, for the generated header.</param>
/// <param name="Build">The host lowered to build steps (the same steps the interpreter executes).</param>
internal sealed record HostEmitModel(string Namespace, string HintName, string FilePath, string SourcePath, HostBuild Build);
