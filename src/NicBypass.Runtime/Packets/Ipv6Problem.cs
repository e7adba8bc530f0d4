namespace NicBypass.Runtime.Packets;

/// <summary>What RFC 8200 tells a host to do with a packet whose extension headers it cannot process.</summary>
internal enum Ipv6ProblemKind : byte
{
    None,

    /// <summary>Discard silently.</summary>
    Discard,

    /// <summary>Discard and send an ICMPv6 Parameter Problem to the source.</summary>
    ParameterProblem,

    /// <summary>Discard and send a Parameter Problem only if the destination was not a multicast address.</summary>
    ParameterProblemUnlessMulticast,
}

/// <summary>A packet to discard: how, the Parameter Problem code, and the pointer (an offset in the IPv6 packet) to put in it.</summary>
internal readonly record struct Ipv6Problem(Ipv6ProblemKind Kind, byte Code, int Pointer);
