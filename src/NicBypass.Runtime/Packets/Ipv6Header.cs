using System.Buffers.Binary;

namespace NicBypass.Runtime.Packets;

/// <summary>
/// An IPv6 header (RFC 8200), read in place. <see cref="TryRead"/> checks version 6 and that the
/// payload length fits the bytes at hand, cuts <see cref="Packet"/> to it, and walks the
/// extension headers a host processes in passing — hop-by-hop options, destination options, and a
/// routing header with no segments left — so <see cref="NextHeader"/> and <see cref="Payload"/>
/// are the upper layer's. Options are processed as RFC 8200 4.2 says: Pad1 and PadN (and any
/// option whose type says "skip") are passed over; an unrecognised option whose type says
/// "discard" stops the packet (<see cref="Problem"/>), with a Parameter Problem to send when its
/// type asks for one. An atomic fragment (offset 0, no more fragments: RFC 6946) is walked past
/// like any extension header; a real fragment stays the next header (the stack does not
/// reassemble). A routing header with segments left stops the packet with a Parameter Problem
/// pointing at its routing type (a host does not forward). At most
/// <see cref="MaxExtensionHeaders"/> are walked; a truncated one fails the read.
/// </summary>
internal readonly ref struct Ipv6Header
{
    public const int Length = 40;

    /// <summary>The most extension headers walked before the upper layer.</summary>
    public const int MaxExtensionHeaders = 8;

    private const byte HopByHop = 0, Routing = 43, Fragment = 44, DestinationOptions = 60;

    private readonly ReadOnlySpan<byte> _packet;
    private readonly int _payloadOffset;
    private readonly byte _next;

    private Ipv6Header(ReadOnlySpan<byte> packet, int payloadOffset, byte next, Ipv6Problem problem, bool atomicFragment = false)
    {
        _packet = packet;
        _payloadOffset = payloadOffset;
        _next = next;
        Problem = problem;
        AtomicFragment = atomicFragment;
    }

    /// <summary>An atomic fragment's header was walked past (RFC 6946): the packet came as a fragment, whole.</summary>
    public bool AtomicFragment { get; }

    /// <summary>Why the packet must be discarded while its headers were walked (<see cref="Ipv6ProblemKind.None"/>: it need not be).</summary>
    public Ipv6Problem Problem { get; }

    /// <summary>Header and payload, cut to the payload length.</summary>
    public ReadOnlySpan<byte> Packet => _packet;

    /// <summary>The upper layer's bytes, after any extension headers walked.</summary>
    public ReadOnlySpan<byte> Payload => _packet.Slice(_payloadOffset);

    /// <summary>The upper layer's protocol (or the first extension header not walked).</summary>
    public byte NextHeader => _next;

    public byte HopLimit => _packet[7];

    public ReadOnlySpan<byte> Source => _packet.Slice(8, 16);

    public ReadOnlySpan<byte> Destination => _packet.Slice(24, 16);

    public UInt128 SourceValue => BinaryPrimitives.ReadUInt128BigEndian(_packet.Slice(8));

    /// <summary>Reads the IPv6 header at the start of <paramref name="payload"/> (the Ethernet payload).</summary>
    public static bool TryRead(ReadOnlySpan<byte> payload, out Ipv6Header header)
    {
        header = default;
        if (payload.Length < Length || payload[0] >> 4 != 6) return false;
        var payloadLength = BinaryPrimitives.ReadUInt16BigEndian(payload.Slice(4));
        if (Length + payloadLength > payload.Length) return false;
        var packet = payload.Slice(0, Length + payloadLength);
        var next = packet[6];
        var offset = Length;
        var atomic = false;
        for (var walked = 0; next is HopByHop or DestinationOptions or Routing or Fragment; walked++)
        {
            if (next == HopByHop && walked > 0) return false; // hop-by-hop only first (RFC 8200 4.3)
            if (walked == MaxExtensionHeaders || packet.Length - offset < 8) return false;
            var length = next == Fragment ? 8 : (packet[offset + 1] + 1) * 8;
            if (packet.Length - offset < length) return false;
            if (next == Fragment && (BinaryPrimitives.ReadUInt16BigEndian(packet.Slice(offset + 2)) & 0xFFF9) != 0) break; // a real fragment
            if (next == Routing && packet[offset + 3] != 0)
            {
                // Segments left: a host does not forward (RFC 8200 4.4): code 0, at the routing type.
                header = new Ipv6Header(packet, offset, next, new Ipv6Problem(Ipv6ProblemKind.ParameterProblem, 0, offset + 2));
                return true;
            }
            if (next is HopByHop or DestinationOptions && Options(packet.Slice(offset, length), offset) is { Kind: not Ipv6ProblemKind.None } problem)
            {
                header = new Ipv6Header(packet, offset, next, problem);
                return true;
            }
            atomic |= next == Fragment;
            next = packet[offset];
            offset += length;
        }
        header = new Ipv6Header(packet, offset, next, default, atomic);
        return true;
    }

    // The options of a hop-by-hop or destination options header (RFC 8200 4.2): Pad1, PadN and
    // Router Alert are known; an unknown one acts as its type's two high bits say.
    private static Ipv6Problem Options(ReadOnlySpan<byte> header, int at)
    {
        for (var i = 2; i < header.Length;)
        {
            var type = header[i];
            if (type == 0) { i++; continue; } // Pad1
            if (i + 1 >= header.Length) return new Ipv6Problem(Ipv6ProblemKind.Discard, 0, 0);
            var length = 2 + header[i + 1];
            if (i + length > header.Length) return new Ipv6Problem(Ipv6ProblemKind.Discard, 0, 0);
            if (type is not (1 or 5)) // PadN, Router Alert
            {
                switch (type >> 6)
                {
                    case 1: return new Ipv6Problem(Ipv6ProblemKind.Discard, 0, 0);
                    case 2: return new Ipv6Problem(Ipv6ProblemKind.ParameterProblem, 2, at + i);
                    case 3: return new Ipv6Problem(Ipv6ProblemKind.ParameterProblemUnlessMulticast, 2, at + i);
                }
            }
            i += length;
        }
        return default;
    }
}
