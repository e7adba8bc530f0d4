namespace NicBypass.Runtime.Devices;

/// <summary>
/// Where a driver advertises its hardware. The standard fixes the order: every receive ring,
/// then every transmit ring, then the classifier, once.
/// </summary>
internal interface IHardwareAdvertisement
{
    void Link(long speedBitsPerSecond, int maxFrameLength);

    void ReceiveRing(ReceiveRingInfo ring);

    void TransmitRing(TransmitRingInfo ring);

    void Classifier(ClassifierInfo classifier);
}
