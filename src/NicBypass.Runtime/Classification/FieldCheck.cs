using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
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
    private readonly ulong _portLanesStored; // each lane as a frame's port bytes read little-endian
    private readonly uint _ipv4Stored; // as a frame's address bytes read little-endian
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
        _ipv4Stored = BinaryPrimitives.ReverseEndianness(ipv4);
        _portLanesStored = SwapLanes(portLanes);
    }

    public FieldCheckOptions Options => _options;

    public int Vlan => _vlan;

    public uint Ipv4 => BinaryPrimitives.ReverseEndianness(_ipv4Stored);

    public ulong PortLanes => SwapLanes(_portLanesStored);

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
    public FieldVerdict Check(ReadOnlySpan<byte> frame, in EthernetHeader header) => Check(frame, header, _options);

    /// <summary>
    /// <see cref="Check(ReadOnlySpan{byte}, in EthernetHeader)"/> with the check's
    /// <see cref="Options"/> passed in: a generated lookup whose rules all check the same fields
    /// passes them as a constant, and the JIT folds every test of them away.
    /// <paramref name="options"/> must be this check's <see cref="Options"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public FieldVerdict Check(ReadOnlySpan<byte> frame, in EthernetHeader header, FieldCheckOptions options)
    {
        Debug.Assert(options == _options, "the options passed in are the check's own");
        var offset = header.PayloadOffset;
        // Option-less IPv4 whose first 24 bytes are in the frame, for a rule whose fields fit the
        // check, in one straight run with few instructions (on a wide core the check is bound by
        // how many it executes). The fields are compared as read little-endian, byte swaps done
        // once in the constructor. An IPv4 EtherType cannot be a tag, so the VLAN is one compare.
        if ((options & FieldCheckOptions.Overflow) == 0 && header.EtherType == EtherType.Ipv4 && frame.Length >= offset + Ipv4Header.MinLength + 4)
        {
            ref var ip = ref Unsafe.Add(ref MemoryMarshal.GetReference(frame), offset);
            var head = ReadLittleEndian(ref ip); // version and header length .. flags and fragment offset
            // Version 4, a 20-byte header, and not a later fragment: one masked compare.
            if ((head & VersionAndFragmentOffsetStored) == 0x45)
            {
                var tail = ReadLittleEndian(ref Unsafe.Add(ref ip, 16)); // destination address and ports
                if ((options & FieldCheckOptions.Vlan) != 0 && header.Vlan != _vlan) return FieldVerdict.NoMatch;
                if ((options & FieldCheckOptions.Ipv4) != 0 && (uint)tail != _ipv4Stored) return FieldVerdict.NoMatch;
                if ((options & FieldCheckOptions.Ports) == 0) return FieldVerdict.Match;
                var protocol = Unsafe.Add(ref ip, 9);
                if (protocol != IpProtocol.Tcp && protocol != IpProtocol.Udp) return FieldVerdict.Match; // ICMP and the rest carry no ports
                // Tcp is option bit 3 and Udp bit 4: protocol 6 >> 4 = 0, 17 >> 4 = 1.
                var declared = (options & (FieldCheckOptions.Tcp | FieldCheckOptions.Udp)) == (FieldCheckOptions.Tcp | FieldCheckOptions.Udp)
                               || (((int)options >> (3 + (protocol >> 4))) & 1) != 0;
                if (!declared) return FieldVerdict.NoMatch;
                // A datagram too short to hold the ports (they would be the frame's padding) is
                // matched on its protocol; a total length of 32 or more (a bit in the mask set)
                // needs no byte swap.
                if ((head & TotalLengthAbove31Stored) == 0 && BinaryPrimitives.ReverseEndianness((ushort)(head >> 16)) < Ipv4Header.MinLength + 4) return FieldVerdict.Match;
                return PortListedStored((ushort)(tail >> 48)) ? FieldVerdict.Match : FieldVerdict.NoMatch;
            }
        }
        return CheckOthers(frame, header);
    }

    // An IPv4 header's first 8 bytes read little-endian: version and header length (byte 0) and
    // the fragment offset (bytes 6 and 7 without the flags); the total length's bits from 32 up.
    private const ulong VersionAndFragmentOffsetStored = 0xFF1F_0000_0000_00FFUL;
    private const ulong TotalLengthAbove31Stored = 0x0000_0000_E0FF_0000UL;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong ReadLittleEndian(ref byte at)
    {
        var value = Unsafe.ReadUnaligned<ulong>(ref at);
        return BitConverter.IsLittleEndian ? value : BinaryPrimitives.ReverseEndianness(value);
    }

    // Every other frame: the VLAN here (a tag inside the tag is nobody's); a later IPv4 fragment
    // (no ports in it) on its address; the rest — not IPv4, IPv4 with options, too short, a rule
    // whose fields overflow the check — left to the classifier's full filter, if the rule checks
    // anything beyond the VLAN.
    private FieldVerdict CheckOthers(ReadOnlySpan<byte> frame, in EthernetHeader header)
    {
        var options = _options;
        if ((options & FieldCheckOptions.Vlan) != 0 && (header.Vlan != _vlan || EthernetHeader.IsTagType(header.EtherType))) return FieldVerdict.NoMatch;
        if ((options & (FieldCheckOptions.Ipv4 | FieldCheckOptions.Ports | FieldCheckOptions.Overflow)) == 0) return FieldVerdict.Match;
        // Neither IPv4 nor IPv6 (ARP, a VM's own EtherType): no address or port to check, so it
        // passes here rather than in the rule's filter — one object fewer to read per frame,
        // which on a host of a thousand VNICs is a cache miss.
        if (header.EtherType is not (EtherType.Ipv4 or EtherType.Ipv6)) return FieldVerdict.Match;
        var offset = header.PayloadOffset;
        if ((options & FieldCheckOptions.Overflow) != 0 || header.EtherType != EtherType.Ipv4 || frame.Length < offset + Ipv4Header.MinLength + 4 || frame[offset] != 0x45)
        {
            return FieldVerdict.CheckFields;
        }
        var later = (BinaryPrimitives.ReadUInt16BigEndian(frame.Slice(offset + 6)) & 0x1FFF) != 0;
        Debug.Assert(later, "only a later fragment of option-less IPv4 misses the straight run");
        return (options & FieldCheckOptions.Ipv4) == 0 || BinaryPrimitives.ReadUInt32BigEndian(frame.Slice(offset + 16)) == Ipv4 ? FieldVerdict.Match : FieldVerdict.NoMatch;
    }

    // Is the port (as the frame stores it, network order) one of the packed ports, or ephemeral?
    // One vector compare of the port against the four lanes (which port a frame uses is
    // unpredictable: no branch per port), then the ephemeral ports (a flow is one or the other):
    // those whose first byte is 0xC0 or above (FirstEphemeralPort is 0xC000).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool PortListedStored(ushort stored) =>
        Vector128.EqualsAny(Vector128.Create(_portLanesStored).AsUInt16(), Vector128.Create(stored))
        || (byte)stored >= NetworkStack.FirstEphemeralPort >> 8;

    // Swaps the bytes of each 16-bit lane: a port as a number to the port read little-endian from a frame, and back.
    private static ulong SwapLanes(ulong lanes) => ((lanes & 0x00FF_00FF_00FF_00FFUL) << 8) | ((lanes >> 8) & 0x00FF_00FF_00FF_00FFUL);

    public bool Equals(FieldCheck other) =>
        _options == other._options && _vlan == other._vlan && _ipv4Stored == other._ipv4Stored && _portLanesStored == other._portLanesStored;

    public override bool Equals(object? obj) => obj is FieldCheck other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(_options, _vlan, _ipv4Stored, _portLanesStored);

    public static bool operator ==(FieldCheck left, FieldCheck right) => left.Equals(right);

    public static bool operator !=(FieldCheck left, FieldCheck right) => !left.Equals(right);

    public override string ToString() =>
        $"{_options} vlan {_vlan} ipv4 0x{Ipv4:X8} ports 0x{PortLanes:X16}";
}
