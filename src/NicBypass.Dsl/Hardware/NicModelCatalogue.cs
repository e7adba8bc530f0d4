using NicBypass.Dsl.Values;

namespace NicBypass.Dsl.Hardware;

/// <summary>
/// The NIC models the language knows (docs/dsl.md). Two drivers implement them in the runtime:
/// <c>simnic-basic</c> (the 1G part: MAC-only classifier) and <c>simnic-flow</c> (the 10G and
/// 100G parts: flow classifier on MAC, IP, VLAN and port).
/// </summary>
public static class NicModelCatalogue
{
    public static IReadOnlyList<NicModel> Models { get; } = NicBypass.Hardware.NicModelTable.Rows
        .Select(r => new NicModel(r.Name, r.Driver, new BitRate((ulong)r.LinkSpeed), r.MaxRxRings, r.MaxTxRings,
            (ClassifierFields)r.ClassifierFields, r.ClassifierEntries, r.MsiVectors, r.MaxMtu))
        .ToArray();

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
