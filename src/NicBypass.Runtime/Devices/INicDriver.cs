namespace NicBypass.Runtime.Devices;

/// <summary>
/// A device driver: discovers its NIC's hardware resources and advertises them to the host in
/// the standardized format (<see cref="HardwareInfo"/>), whatever the part underneath.
/// </summary>
internal interface INicDriver
{
    string Name { get; }

    SimulatedNic Device { get; }

    /// <summary>Advertises link, receive rings, transmit rings and classifier, in that order.</summary>
    void Advertise(IHardwareAdvertisement advertisement);
}
