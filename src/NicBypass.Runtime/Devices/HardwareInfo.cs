namespace NicBypass.Runtime.Devices;

/// <summary>
/// The standardized hardware information a driver advertises (the seed's "same format for two
/// distinct NICs"): receive rings, then transmit rings, then the classifier, each with its
/// control entry points. The host keeps one copy per registered NIC and plans against it.
/// </summary>
public sealed record HardwareInfo(
    string Driver,
    string Model,
    long LinkSpeedBitsPerSecond,
    int MaxFrameLength,
    IReadOnlyList<ReceiveRingInfo> ReceiveRings,
    IReadOnlyList<TransmitRingInfo> TransmitRings,
    ClassifierInfo Classifier)
{
    /// <summary>Asks <paramref name="driver"/> to advertise its hardware, enforcing the standard order.</summary>
    internal static HardwareInfo Query(INicDriver driver)
    {
        var collector = new HardwareInfoCollector();
        driver.Advertise(collector);
        return collector.Build(driver);
    }
}
