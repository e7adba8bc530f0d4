using NicBypass.Runtime.Classification;

namespace NicBypass.Runtime.Devices;

/// <summary>
/// Driver for the flow parts (simnic-10g, simnic-100g): reads the capability table in one go
/// and sorts it into the standard order. Their flow classifier matches MAC and IP (and VLAN and
/// port on the 100G part).
/// </summary>
internal sealed class SimNicFlowDriver : INicDriver
{
    public const string DriverName = NicBypass.Hardware.NicModelTable.FlowDriver;

    public SimNicFlowDriver(SimulatedNic device)
    {
        if (device.Model.Driver != DriverName) throw new ArgumentException($"{DriverName} does not drive {device.Model.Name}");
        Device = device;
    }

    public string Name => DriverName;

    public SimulatedNic Device { get; }

    public void Advertise(IHardwareAdvertisement advertisement)
    {
        var table = Device.ReadCapabilities();
        long Value(string kind) => table.First(c => c.Kind == kind).Value;

        advertisement.Link(Value("link"), (int)Value("mtu") + 18);
        var msi = (int)Value("msi");
        foreach (var row in table.Where(c => c.Kind == "rx-ring").OrderBy(c => c.Index))
        {
            var ring = Device.ReceiveRings[row.Index];
            advertisement.ReceiveRing(new ReceiveRingInfo(row.Index, (int)row.Value, (int)row.Extra, msi,
                ring.Poll,
                ring.SetInterrupts,
                vector => ring.MsiVector = vector >= 0 && vector < msi ? vector : throw new ArgumentOutOfRangeException(nameof(vector))));
        }
        foreach (var row in table.Where(c => c.Kind == "tx-ring").OrderBy(c => c.Index))
        {
            advertisement.TransmitRing(new TransmitRingInfo(row.Index, (int)row.Value));
        }
        var flow = table.First(c => c.Kind == "flow-table");
        advertisement.Classifier(new ClassifierInfo((ClassifierMatch)flow.Extra, (int)flow.Value, Device.Classifier));
    }
}
