namespace NicBypass.Runtime.Packets;

/// <summary>
/// What rings carry: where a frame lives in the NIC's buffer pool and how long it is. Eight
/// bytes, copied by value; the frame itself is never moved between stages (docs/runtime.md).
/// </summary>
public readonly record struct PacketDescriptor(int Slot, int Length);
