using NicBypass.Runtime.Classification;

namespace NicBypass.Runtime.Devices;

/// <summary>The simulated NIC parts (from the one model table the language shares) and the driver each needs.</summary>
public static class SimNicModels
{
    public static IReadOnlyList<SimNicModel> All { get; } = NicBypass.Hardware.NicModelTable.Rows
        .Select(r => new SimNicModel(r.Name, r.Driver, r.LinkSpeed, r.MaxRxRings, r.MaxTxRings,
            (ClassifierMatch)r.ClassifierFields, r.ClassifierEntries, r.MsiVectors, r.MaxMtu))
        .ToArray();

    public static SimNicModel SimNic1G { get; } = Get("simnic-1g");

    public static SimNicModel SimNic10G { get; } = Get("simnic-10g");

    public static SimNicModel SimNic100G { get; } = Get("simnic-100g");

    public static SimNicModel Get(string name) =>
        All.FirstOrDefault(m => m.Name == name)
        ?? throw new ArgumentException($"unknown NIC model '{name}'; known models: {string.Join(", ", All.Select(m => m.Name))}", nameof(name));

    /// <summary>A driver instance for a device of this model.</summary>
    internal static INicDriver CreateDriver(SimulatedNic device) => device.Model.Driver switch
    {
        SimNicBasicDriver.DriverName => new SimNicBasicDriver(device),
        SimNicFlowDriver.DriverName => new SimNicFlowDriver(device),
        _ => throw new ArgumentException($"no driver '{device.Model.Driver}' for {device.Model.Name}"),
    };
}
