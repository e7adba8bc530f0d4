using NicBypass.Dsl.Diagnostics;
using NicBypass.Dsl.Model;

namespace NicBypass.Dsl.Binding;

/// <summary>The checked hosts (best effort: what could be understood) and every diagnostic found.</summary>
public sealed record BindResult(EquatableArray<HostDefinition> Hosts, EquatableArray<Diagnostic> Diagnostics);
