namespace NicBypass.Runtime.Devices;

/// <summary>The far side of a NIC's port: where transmitted frames go (a test, a capture, another NIC).</summary>
public interface IWire
{
    void Transmit(ReadOnlySpan<byte> frame);
}
