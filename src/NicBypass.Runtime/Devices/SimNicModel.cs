using NicBypass.Runtime.Classification;

namespace NicBypass.Runtime.Devices;

/// <summary>
/// A simulated NIC part: what its hardware has. The same numbers as the language's model
/// catalogue (a test keeps the two in step); the runtime keeps its own copy so it does not
/// depend on the language.
/// </summary>
public sealed record SimNicModel(
    string Name,
    string Driver,
    long LinkSpeedBitsPerSecond,
    int MaxRxRings,
    int MaxTxRings,
    ClassifierMatch ClassifierFields,
    int ClassifierEntries,
    int MsiVectors,
    int MaxMtu);
