using NicBypass.Dsl;

namespace NicBypass.Generators.Models;

/// <summary>
/// A host with errors of its own is not generated; its stand-in keeps the project's C# that uses
/// it compiling (its NICs and VNICs as members, a constructor that throws), so the build shows the
/// host's NB errors alone, not a CS0234 or CS0246 at every use. Value-equatable, no locations.
/// </summary>
/// <param name="Members">Each NIC's and VNIC's property: its name, its runtime type (under <c>NicBypass.Runtime</c>), its summary.</param>
internal sealed record StandInModel(string Namespace, string HintName, string SourcePath, string HostName, string ClassName,
    EquatableArray<StandInMember> Members);

/// <summary>One property of a stand-in: its name, its runtime type (under <c>NicBypass.Runtime</c>), its summary.</summary>
internal sealed record StandInMember(string Name, string Type, string Summary);
