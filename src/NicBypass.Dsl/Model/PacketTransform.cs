namespace NicBypass.Dsl.Model;

/// <summary>Processing the interface applies before a frame reaches a VM's memory.</summary>
public enum PacketTransform
{
    None,

    /// <summary>Flip the bit order of every byte (the seed: most significant bit becomes least).</summary>
    ReverseBits,
}
