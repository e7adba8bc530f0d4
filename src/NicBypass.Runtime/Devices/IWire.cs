namespace NicBypass.Runtime.Devices;

/// <summary>The far side of a NIC's port: where transmitted frames go (a test, a capture, another NIC).</summary>
public interface IWire
{
    void Transmit(ReadOnlySpan<byte> frame);

    /// <summary>
    /// Transmits a frame that lies in buffer slot <paramref name="slot"/> of <paramref name="from"/>'s
    /// pool; true when the wire keeps the slot (it then returns it), false when the NIC returns it.
    /// </summary>
    internal bool TransmitFromSlot(SimulatedNic from, int slot, ReadOnlySpan<byte> frame)
    {
        Transmit(frame);
        return false;
    }

    /// <summary>The NIC has sent what its transmit rings held for now: a wire that gathers frames (a TAP joining TCP segments) sends them.</summary>
    void Flush()
    {
    }
}
