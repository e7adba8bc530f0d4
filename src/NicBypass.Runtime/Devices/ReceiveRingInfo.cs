namespace NicBypass.Runtime.Devices;

/// <summary>
/// What a driver advertises for one hardware receive ring: its capacity and MSI vector (readable
/// by anyone) and its entry points — poll, interrupt enable/disable, MSI assignment — which only
/// the host calls.
/// </summary>
public sealed class ReceiveRingInfo
{
    internal ReceiveRingInfo(int index, int capacity, int msiVector, int msiLevels, RingPoll poll, RingInterruptControl interrupts, RingMsiControl assignMsi)
    {
        Index = index;
        Capacity = capacity;
        MsiVector = msiVector;
        MsiLevels = msiLevels;
        Poll = poll;
        Interrupts = interrupts;
        AssignMsi = assignMsi;
    }

    public int Index { get; }

    /// <summary>Most packets the ring holds.</summary>
    public int Capacity { get; }

    /// <summary>The MSI vector the ring raises now.</summary>
    public int MsiVector { get; }

    /// <summary>MSI vectors available to the ring.</summary>
    public int MsiLevels { get; }

    /// <summary>The poll entry point: moves up to the span's length of waiting packets out of the ring.</summary>
    internal RingPoll Poll { get; }

    /// <summary>Enables or disables the ring's interrupt.</summary>
    internal RingInterruptControl Interrupts { get; }

    /// <summary>Points the ring at another MSI vector.</summary>
    internal RingMsiControl AssignMsi { get; }
}
