using NicBypass.Dsl.Values;

namespace NicBypass.Dsl.Hardware;

/// <summary>
/// The NIC models the language knows (DESIGN.md §3). Two drivers implement them in the runtime:
/// <c>simnic-basic</c> (the 1G part: MAC-only classifier) and <c>simnic-flow</c> (the 10G and
/// 100G parts: flow classifier on MAC, IP, VLAN and port).
/// </summary>
public static class NicModelCatalogue
{
    private const ClassifierFields MacOnly = ClassifierFields.DestinationMac;
    private const ClassifierFields MacIp = ClassifierFields.DestinationMac | ClassifierFields.DestinationIp;
    private const ClassifierFields Full = MacIp | ClassifierFields.Vlan | ClassifierFields.Port;

    public static IReadOnlyList<NicModel> Models { get; } = new[]
    {
        new NicModel("simnic-1g", "simnic-basic", new BitRate(1_000_000_000UL), 2, 2, MacOnly, 16, 2, 1500),
        new NicModel("simnic-10g", "simnic-flow", new BitRate(10_000_000_000UL), 8, 8, MacIp, 128, 8, 9000),
        new NicModel("simnic-100g", "simnic-flow", new BitRate(100_000_000_000UL), 64, 64, Full, 4096, 64, 9000),
    };

    /// <summary>The model called <paramref name="name"/> (exact, case-sensitive), or null.</summary>
    public static NicModel? Find(string name)
    {
        foreach (var model in Models)
        {
            if (model.Name == name) return model;
        }
        return null;
    }
}
