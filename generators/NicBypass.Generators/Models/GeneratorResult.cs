using NicBypass.Dsl;
using NicBypass.Dsl.Diagnostics;

namespace NicBypass.Generators.Models;

/// <summary>What the language made of all the project's .nicdsl files: hosts to emit and diagnostics to report.</summary>
internal sealed record GeneratorResult(EquatableArray<HostEmitModel> Hosts, EquatableArray<Diagnostic> Diagnostics);
