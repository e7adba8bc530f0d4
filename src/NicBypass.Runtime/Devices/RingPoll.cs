using NicBypass.Runtime.Packets;

namespace NicBypass.Runtime.Devices;

/// <summary>A ring's poll entry point: takes up to <c>into.Length</c> frames, returns how many.</summary>
internal delegate int RingPoll(Span<PacketDescriptor> into);

/// <summary>A ring's interrupt control: enables (true) or disables (false) interrupt mode.</summary>
internal delegate void RingInterruptControl(bool enable);

/// <summary>A ring's MSI control: assigns the ring to a vector.</summary>
internal delegate void RingMsiControl(int vector);
