// The NIC model catalogue's one source: compiled into both the language (NicModelCatalogue) and
// the runtime (SimNicModels, linked from here), which may not reference each other — the
// runtime ships without the language, and the language runs inside the compiler.
namespace NicBypass.Hardware;

/// <summary>Every simulated NIC part (docs/dsl.md): the data behind both catalogues.</summary>
internal static class NicModelTable
{
    // Classifier field bits, the same in both assemblies' flag enums.
    internal const int DestinationMac = 1, DestinationIp = 2, Vlan = 4, Port = 8;

    internal const string BasicDriver = "simnic-basic";
    internal const string FlowDriver = "simnic-flow";

    internal static readonly NicModelRow[] Rows =
    {
        new("simnic-1g", BasicDriver, 1_000_000_000L, 2, 2, DestinationMac, 16, 2, 1500),
        new("simnic-10g", FlowDriver, 10_000_000_000L, 8, 8, DestinationMac | DestinationIp, 128, 8, 9000),
        new("simnic-100g", FlowDriver, 100_000_000_000L, 64, 64, DestinationMac | DestinationIp | Vlan | Port, 4096, 64, 9000),
    };
}

/// <summary>One row of <see cref="NicModelTable"/>: link speed in bits per second, classifier fields as the flag bits above.</summary>
internal sealed record NicModelRow(string Name, string Driver, long LinkSpeed, int MaxRxRings, int MaxTxRings, int ClassifierFields,
    int ClassifierEntries, int MsiVectors, int MaxMtu);
