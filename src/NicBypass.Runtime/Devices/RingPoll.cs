using NicBypass.Runtime.Packets;

namespace NicBypass.Runtime.Devices;

/// <summary>
/// A ring's poll entry point: takes up to <c>into.Length</c> frames and at most
/// <paramref name="byteBudget"/> bytes (<see cref="long.MaxValue"/>: no limit), returns how many;
/// <paramref name="waitingBytes"/> is the length of the frame left at the head (0: empty).
/// </summary>
internal delegate int RingPoll(Span<PacketDescriptor> into, long byteBudget, out int waitingBytes);

/// <summary>A ring's interrupt control: enables (true) or disables (false) interrupt mode.</summary>
internal delegate void RingInterruptControl(bool enable);

/// <summary>A ring's MSI control: assigns the ring to a vector.</summary>
internal delegate void RingMsiControl(int vector);
