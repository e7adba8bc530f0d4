namespace NicBypass.Runtime.Packets;

/// <summary>Processing an interface applies to frames between a VNIC and a VM.</summary>
public enum PacketTransform
{
    None,

    /// <summary>Each byte's bit order is flipped (most significant bit becomes least). Its own inverse.</summary>
    ReverseBits,
}
