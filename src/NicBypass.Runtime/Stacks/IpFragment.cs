namespace NicBypass.Runtime.Stacks;

/// <summary>
/// One IP fragment as the reassembly reads it: its frame, IP header, data, and where the data
/// goes. Its lengths are checked by the stack before: data of at least one byte, a multiple of 8
/// unless it is the last, ending within 65,515 bytes (IPv4: 65,535 with its shortest header) or
/// 65,535 (IPv6).
/// </summary>
internal readonly ref struct IpFragment
{
    public IpFragment(ReadOnlySpan<byte> frame, ReadOnlySpan<byte> header, ReadOnlySpan<byte> data, NetworkAddress source, NetworkAddress destination, uint id, byte protocol, int offset, bool more, bool v6, bool answerable)
    {
        Answerable = answerable;
        Frame = frame;
        Header = header;
        Data = data;
        Source = source;
        Destination = destination;
        Id = id;
        Protocol = protocol;
        Offset = offset;
        More = more;
        IsV6 = v6;
    }

    public ReadOnlySpan<byte> Frame { get; }

    /// <summary>The IP header the reassembled datagram keeps (IPv4's with its options; IPv6's fixed header).</summary>
    public ReadOnlySpan<byte> Header { get; }

    public ReadOnlySpan<byte> Data { get; }

    public NetworkAddress Source { get; }

    public NetworkAddress Destination { get; }

    public uint Id { get; }

    /// <summary>The protocol of the datagram (IPv6: the fragment header's next header).</summary>
    public byte Protocol { get; }

    /// <summary>Where the data goes in the datagram, in bytes.</summary>
    public int Offset { get; }

    public bool More { get; }

    public bool IsV6 { get; }

    /// <summary>Sent to a unicast address of the stack's in a unicast frame: an ICMP error may answer it.</summary>
    public bool Answerable { get; }
}
