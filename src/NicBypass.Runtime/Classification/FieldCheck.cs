using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NicBypass.Runtime.Packets;
using NicBypass.Runtime.Stacks;

namespace NicBypass.Runtime.Classification;

/// <summary>
/// The per-frame part of a classifier rule beyond its destination MAC, in 16 bytes: the VLAN, and
/// for an option-less IPv4 header the destination address and the TCP/UDP port (docs/architecture.md § Classification as advertised).
/// It decides the common frame outright and leaves the rest (<see cref="FieldVerdict.CheckFields"/>)
/// to the classifier's full filter. The runtime derives one per rule from what the rule declares
/// and the fields its classifier matches; a generated lookup bakes the same values into its
/// source (<see cref="IFieldLookup"/>), and the classifier refuses a lookup whose values differ.
/// Allocation-free.
/// </summary>
[StructLayout(LayoutKind.Auto)]
public readonly struct FieldCheck : IEquatable<FieldCheck>
{
    private readonly ulong _portLanes;
    private readonly uint _ipv4;
    private readonly ushort _vlan;
    private readonly FieldCheckOptions _options;

    /// <param name="options">The fields compared.</param>
    /// <param name="vlan">The VLAN id (with <see cref="FieldCheckOptions.Vlan"/>; 0 = untagged).</param>
    /// <param name="ipv4">The destination IPv4 address as a big-endian number (with <see cref="FieldCheckOptions.Ipv4"/>).</param>
    /// <param name="portLanes">Up to four declared ports in 16-bit lanes, unused lanes repeating one (see <see cref="PackPorts"/>).</param>
    public FieldCheck(FieldCheckOptions options, int vlan, uint ipv4, ulong portLanes)
    {
        _options = options;
        _vlan = (ushort)vlan;
        _ipv4 = ipv4;
        _portLanes = portLanes;
    }

    public FieldCheckOptions Options => _options;

    public int Vlan => _vlan;

    public uint Ipv4 => _ipv4;

    public ulong PortLanes => _portLanes;

    /// <summary>The ports a check holds at most; a rule that declares more is <see cref="FieldCheckOptions.Overflow"/>.</summary>
    public const int MaxPorts = 4;

    /// <summary>
    /// The lanes for <paramref name="ports"/> (declared, below the ephemeral range, distinct,
    /// ascending, at most <see cref="MaxPorts"/>): lane i holds port i, unused lanes repeat the
    /// last; no ports at all gives 65535 in every lane (which only the ephemeral test passes).
    /// </summary>
    public static ulong PackPorts(ReadOnlySpan<ushort> ports)
    {
        if (ports.Length > MaxPorts) throw new ArgumentException($"a check holds at most {MaxPorts} ports", nameof(ports));
        if (ports.IsEmpty) return ulong.MaxValue;
        var lanes = 0UL;
        for (var lane = 0; lane < MaxPorts; lane++) lanes |= (ulong)ports[Math.Min(lane, ports.Length - 1)] << (16 * lane);
        return lanes;
    }

    /// <summary>The check of <paramref name="frame"/>, whose layer-2 header the NIC read as <paramref name="header"/> (a unicast frame the rule's MAC owns).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public FieldVerdict Check(ReadOnlySpan<byte> frame, in EthernetHeader header)
    {
        var options = _options;
        if ((options & FieldCheckOptions.Vlan) != 0 && (header.Vlan != _vlan || EthernetHeader.IsTagType(header.EtherType))) return FieldVerdict.NoMatch;
        if ((options & (FieldCheckOptions.Ipv4 | FieldCheckOptions.Ports | FieldCheckOptions.Overflow)) == 0) return FieldVerdict.Match;
        return CheckIp(frame, header.EtherType, header.PayloadOffset);
    }

    // Option-less IPv4 in one straight run: one length check, then unchecked reads of the fields.
    private FieldVerdict CheckIp(ReadOnlySpan<byte> frame, ushort etherType, int offset)
    {
        var options = _options;
        if ((options & FieldCheckOptions.Overflow) != 0 || etherType != EtherType.Ipv4
            || frame.Length < offset + Ipv4Header.MinLength + 4 || frame[offset] != 0x45)
        {
            return FieldVerdict.CheckFields;
        }
        ref var ip = ref Unsafe.Add(ref MemoryMarshal.GetReference(frame), offset);
        if ((options & FieldCheckOptions.Ipv4) != 0 && BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref ip, 16))) != _ipv4) return FieldVerdict.NoMatch;
        // No ports checked, or a later fragment (no ports in it).
        if ((options & FieldCheckOptions.Ports) == 0 || (BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref ip, 6))) & 0x1FFF) != 0) return FieldVerdict.Match;
        // The ports must be inside the datagram (its total length), not in the frame's padding.
        if (BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref ip, 2))) < Ipv4Header.MinLength + 4) return FieldVerdict.Match;
        var protocol = Unsafe.Add(ref ip, 9);
        var declared = protocol switch
        {
            IpProtocol.Tcp => FieldCheckOptions.Tcp,
            IpProtocol.Udp => FieldCheckOptions.Udp,
            _ => FieldCheckOptions.None,
        };
        if (declared == FieldCheckOptions.None) return FieldVerdict.Match; // ICMP and the rest carry no ports
        var port = BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref ip, 22)));
        return (options & declared) != 0 && PortListed(port) ? FieldVerdict.Match : FieldVerdict.NoMatch;
    }

    // Is `port` one of the packed ports, or ephemeral? A zero 16-bit lane in lanes XOR port,
    // found without a branch per port (which port a frame uses is unpredictable).
    private bool PortListed(ushort port)
    {
        var x = _portLanes ^ (port * 0x0001_0001_0001_0001UL);
        return ((x - 0x0001_0001_0001_0001UL) & ~x & 0x8000_8000_8000_8000UL) != 0 | port >= NetworkStack.FirstEphemeralPort;
    }

    public bool Equals(FieldCheck other) =>
        _options == other._options && _vlan == other._vlan && _ipv4 == other._ipv4 && _portLanes == other._portLanes;

    public override bool Equals(object? obj) => obj is FieldCheck other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(_options, _vlan, _ipv4, _portLanes);

    public static bool operator ==(FieldCheck left, FieldCheck right) => left.Equals(right);

    public static bool operator !=(FieldCheck left, FieldCheck right) => !left.Equals(right);

    public override string ToString() =>
        $"{_options} vlan {_vlan} ipv4 0x{_ipv4:X8} ports 0x{_portLanes:X16}";
}
