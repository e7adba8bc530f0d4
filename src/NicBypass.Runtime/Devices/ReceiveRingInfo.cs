namespace NicBypass.Runtime.Devices;

/// <summary>What a driver advertises for one hardware receive ring.</summary>
/// <param name="Capacity">Most packets the ring holds.</param>
/// <param name="MsiVector">The MSI vector the ring raises now.</param>
/// <param name="MsiLevels">MSI vectors available to the ring.</param>
public sealed record ReceiveRingInfo(int Index, int Capacity, int MsiVector, int MsiLevels, RingPoll Poll, RingInterruptControl Interrupts, RingMsiControl AssignMsi);
