namespace NicBypass.Runtime.Devices;

/// <summary>What a driver advertises for one transmit ring.</summary>
public sealed record TransmitRingInfo(int Index, int Capacity);
