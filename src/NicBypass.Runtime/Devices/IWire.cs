namespace NicBypass.Runtime.Devices;

/// <summary>The far side of a NIC's port: where transmitted frames go (a test, a capture, another NIC).</summary>
public interface IWire
{
    void Transmit(ReadOnlySpan<byte> frame);

    /// <summary>
    /// Transmits a frame that lies in buffer slot <paramref name="slot"/> of <paramref name="from"/>'s
    /// pool; <paramref name="kept"/> is true once the wire keeps the slot (it then returns it) —
    /// set before anything that may throw after it (a tap), so the NIC returns the slot exactly
    /// when the wire did not keep it.
    /// </summary>
    internal void TransmitFromSlot(SimulatedNic from, int slot, ReadOnlySpan<byte> frame, out bool kept)
    {
        kept = false;
        Transmit(frame);
    }

    /// <summary>The NIC has sent what its transmit rings held for now: a wire that gathers frames (a TAP joining TCP segments) sends them.</summary>
    void Flush()
    {
    }
}
