using NicBypass.Dsl.Values;

namespace NicBypass.Dsl.Hardware;

/// <summary>
/// What one NIC model offers: the capability record a driver advertises for it (ring counts,
/// classifier fields and entries, MSI vectors, MTU). Data in <see cref="NicModelCatalogue"/>,
/// never a switch spread over files.
/// </summary>
/// <param name="Name">The name used after <c>model</c> in .nicdsl.</param>
/// <param name="Driver">The driver that implements it in the runtime.</param>
public sealed record NicModel(
    string Name,
    string Driver,
    BitRate LinkSpeed,
    int MaxRxRings,
    int MaxTxRings,
    ClassifierFields ClassifierFields,
    int ClassifierEntries,
    int MsiVectors,
    int MaxMtu);
