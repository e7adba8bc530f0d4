namespace NicBypass.Runtime.Devices;

/// <summary>The far side of a NIC's port: where transmitted frames go (a test, a capture, another NIC).</summary>
public interface IWire
{
    void Transmit(ReadOnlySpan<byte> frame);

    /// <summary>The NIC has sent what its transmit rings held for now: a wire that gathers frames (a TAP joining TCP segments) sends them.</summary>
    void Flush()
    {
    }
}
