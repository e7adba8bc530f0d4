using NicBypass.Runtime.Classification;

namespace NicBypass.Runtime.Devices;

/// <summary>The simulated NIC parts and the driver each needs.</summary>
public static class SimNicModels
{
    private const ClassifierMatch MacOnly = ClassifierMatch.DestinationMac;
    private const ClassifierMatch MacIp = MacOnly | ClassifierMatch.DestinationIp;
    private const ClassifierMatch Full = MacIp | ClassifierMatch.Vlan | ClassifierMatch.Port;

    public static readonly SimNicModel SimNic1G = new("simnic-1g", SimNicBasicDriver.DriverName, 1_000_000_000L, 2, 2, MacOnly, 16, 2, 1500);
    public static readonly SimNicModel SimNic10G = new("simnic-10g", SimNicFlowDriver.DriverName, 10_000_000_000L, 8, 8, MacIp, 128, 8, 9000);
    public static readonly SimNicModel SimNic100G = new("simnic-100g", SimNicFlowDriver.DriverName, 100_000_000_000L, 64, 64, Full, 4096, 64, 9000);

    public static IReadOnlyList<SimNicModel> All { get; } = new[] { SimNic1G, SimNic10G, SimNic100G };

    public static SimNicModel Get(string name) =>
        All.FirstOrDefault(m => m.Name == name)
        ?? throw new ArgumentException($"unknown NIC model '{name}'; known models: {string.Join(", ", All.Select(m => m.Name))}", nameof(name));

    /// <summary>A driver instance for a device of this model.</summary>
    public static INicDriver CreateDriver(SimulatedNic device) => device.Model.Driver switch
    {
        SimNicBasicDriver.DriverName => new SimNicBasicDriver(device),
        SimNicFlowDriver.DriverName => new SimNicFlowDriver(device),
        _ => throw new ArgumentException($"no driver '{device.Model.Driver}' for {device.Model.Name}"),
    };
}
