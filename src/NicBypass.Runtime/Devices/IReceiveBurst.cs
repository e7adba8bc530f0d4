namespace NicBypass.Runtime.Devices;

/// <summary>
/// The host behind a real wire, told where a burst of frames read from the device begins and
/// ends. Interrupts the burst raises wake no processor thread while it lasts; at its end the
/// reader's own thread services each interrupted processor that is free, as an interrupt
/// handler runs the receive path in its own context (the seed: the interrupt thread carries a
/// packet up when no worker is busy), and wakes the thread of any that is running.
/// </summary>
internal interface IReceiveBurst
{
    /// <summary>Frames of a burst are about to be given to the NIC on this thread.</summary>
    void Begin();

    /// <summary>The burst is over (nothing more waiting on the device, or the burst's limit reached): the processors it interrupted run.</summary>
    void End();
}
