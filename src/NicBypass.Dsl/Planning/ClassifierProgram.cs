using NicBypass.Dsl.Hardware;

namespace NicBypass.Dsl.Planning;

/// <summary>
/// The rules loaded into one classifier — the NIC's hardware classifier (through the driver's
/// API) or a software ring's classifier, which has the same functionality and criteria.
/// </summary>
public sealed record ClassifierProgram(ClassifierFields Fields, EquatableArray<ClassifierEntry> Entries);
