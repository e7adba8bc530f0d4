using NicBypass.Runtime.Classification;

namespace NicBypass.Runtime.Devices;

/// <summary>
/// Driver for the basic part (simnic-1g): reads the register file ring by ring. Its classifier
/// matches destination MACs only.
/// </summary>
internal sealed class SimNicBasicDriver : INicDriver
{
    public const string DriverName = NicBypass.Hardware.NicModelTable.BasicDriver;

    public SimNicBasicDriver(SimulatedNic device)
    {
        if (device.Model.Driver != DriverName) throw new ArgumentException($"{DriverName} does not drive {device.Model.Name}");
        Device = device;
    }

    public string Name => DriverName;

    public SimulatedNic Device { get; }

    public void Advertise(IHardwareAdvertisement advertisement)
    {
        var nic = Device;
        advertisement.Link(nic.ReadRegister(SimNicRegister.LinkSpeedMbps) * 1_000_000, (int)nic.ReadRegister(SimNicRegister.MaxFrameLength));
        var msi = (int)nic.ReadRegister(SimNicRegister.MsiVectorCount);
        var rx = (int)nic.ReadRegister(SimNicRegister.RxRingCount);
        for (var i = 0; i < rx; i++)
        {
            var ring = nic.ReceiveRings[i];
            advertisement.ReceiveRing(new ReceiveRingInfo(i, (int)nic.ReadRegister(SimNicRegister.RxRingSize, i),
                (int)nic.ReadRegister(SimNicRegister.RxRingMsiVector, i), msi,
                ring.Poll,
                ring.SetInterrupts,
                vector => ring.MsiVector = vector >= 0 && vector < msi ? vector : throw new ArgumentOutOfRangeException(nameof(vector))));
        }
        var tx = (int)nic.ReadRegister(SimNicRegister.TxRingCount);
        for (var i = 0; i < tx; i++) advertisement.TransmitRing(new TransmitRingInfo(i, (int)nic.ReadRegister(SimNicRegister.TxRingSize, i)));
        advertisement.Classifier(new ClassifierInfo((ClassifierMatch)nic.ReadRegister(SimNicRegister.ClassifierFields),
            (int)nic.ReadRegister(SimNicRegister.ClassifierEntries), nic.Classifier));
    }
}
