using NicBypass.Dsl.Diagnostics;

namespace NicBypass.Dsl.Planning;

/// <summary>A host's placement and the placement diagnostics (NB0017, NB0022, NB0027).</summary>
public sealed record PlanResult(HostPlan Plan, EquatableArray<Diagnostic> Diagnostics);
