namespace NicBypass.Runtime.Devices;

/// <summary>Collects an advertisement into a <see cref="HardwareInfo"/>, rejecting one out of the standard order.</summary>
internal sealed class HardwareInfoCollector : IHardwareAdvertisement
{
    private readonly List<ReceiveRingInfo> _rx = new();
    private readonly List<TransmitRingInfo> _tx = new();
    private ClassifierInfo? _classifier;
    private long _speed;
    private int _maxFrame;
    private int _stage; // 0 link, 1 rx, 2 tx, 3 classifier

    public void Link(long speedBitsPerSecond, int maxFrameLength)
    {
        Expect(0, "the link");
        _speed = speedBitsPerSecond;
        _maxFrame = maxFrameLength;
        _stage = 1;
    }

    public void ReceiveRing(ReceiveRingInfo ring)
    {
        Expect(1, "a receive ring");
        if (ring.Index != _rx.Count) throw Order($"receive ring {ring.Index} advertised where ring {_rx.Count} was due");
        _rx.Add(ring);
    }

    public void TransmitRing(TransmitRingInfo ring)
    {
        if (_stage == 1 && _rx.Count > 0) _stage = 2;
        Expect(2, "a transmit ring");
        if (ring.Index != _tx.Count) throw Order($"transmit ring {ring.Index} advertised where ring {_tx.Count} was due");
        _tx.Add(ring);
    }

    public void Classifier(ClassifierInfo classifier)
    {
        if (_stage == 2 && _tx.Count > 0) _stage = 3;
        Expect(3, "the classifier");
        _classifier = classifier;
        _stage = 4;
    }

    public HardwareInfo Build(INicDriver driver)
    {
        if (_stage != 4 || _classifier is null) throw Order("the advertisement ended before the classifier");
        return new HardwareInfo(driver.Name, driver.Device.Model.Name, _speed, _maxFrame, _rx.ToArray(), _tx.ToArray(), _classifier);
    }

    private void Expect(int stage, string what)
    {
        if (_stage != stage) throw Order($"{what} was advertised out of order (standard order: link, receive rings, transmit rings, classifier)");
    }

    private static InvalidOperationException Order(string message) => new("hardware information: " + message);
}
