using System.Buffers.Binary;
using System.Numerics;

namespace NicBypass.Runtime.Stacks;

/// <summary>
/// SYN cookies (RFC 4987 3.6, as Linux's <c>syncookies.c</c> makes them): when a listener's SYN
/// queue is full, its SYN-ACK's initial sequence number carries what the handshake must remember —
/// a keyed hash of the connection's addresses and ports, the peer's initial sequence number, a
/// minute counter and an index into a table of segment sizes — and the stack keeps nothing. The
/// ACK that completes the handshake brings the cookie back (its acknowledgment number minus one)
/// and the connection is made from it. Window scaling and SACK, which the sequence number has no
/// room for, ride in the low six bits of the SYN-ACK's timestamp, which the ACK echoes; a peer
/// without timestamps gets neither. A cookie is good for two minutes. Pure: the caller gives the
/// key and the clock.
/// </summary>
internal static class SynCookie
{
    private const int CookieBits = 24;
    private const uint CookieMask = (1u << CookieBits) - 1;

    /// <summary>A cookie is accepted while the minute counter has moved at most this much less one (Linux's MAX_SYNCOOKIE_AGE).</summary>
    private const uint MaxAge = 2;

    // Segment sizes a cookie can name (Linux's msstab): the largest at most the peer's MSS is used.
    private static ReadOnlySpan<ushort> V4Sizes => [536, 1300, 1440, 1460];
    private static ReadOnlySpan<ushort> V6Sizes => [1280 - 60, 1480 - 60, 1500 - 60, 9000 - 60];

    /// <summary>The timestamp's low bits that carry options (Linux's TSBITS).</summary>
    public const uint TimestampOptionMask = 0x3F;
    private const uint NoWindowScale = 0xF;
    private const uint SackBit = 0x10;
    private const uint EcnBit = 0x20; // never set here: ECN is left off

    /// <summary>The minute counter a cookie is made with (Linux's tcp_cookie_time): whole minutes of the clock.</summary>
    public static uint Minutes(long timestamp, long frequency) => (uint)(timestamp / frequency / 60);

    /// <summary>The index of the largest segment size a cookie can name that is at most <paramref name="peerMss"/> (the smallest when none is).</summary>
    public static int SizeIndex(bool v6, int peerMss)
    {
        var sizes = v6 ? V6Sizes : V4Sizes;
        for (var i = sizes.Length - 1; i > 0; i--)
        {
            if (peerMss >= sizes[i]) return i;
        }
        return 0;
    }

    /// <summary>The segment size index <paramref name="index"/> names.</summary>
    public static int Size(bool v6, int index) => (v6 ? V6Sizes : V4Sizes)[index];

    /// <summary>The SYN-ACK's initial sequence number for a SYN from <paramref name="remote"/>:<paramref name="remotePort"/> to <paramref name="local"/>:<paramref name="localPort"/> whose own was <paramref name="peerIsn"/>.</summary>
    /// <remarks>
    /// The peer's ISN is hashed, not added as Linux adds it: added, any segment whose sequence and
    /// acknowledgment numbers had both moved on by the same amount passed for the cookie — an echo's
    /// ACK of a FIN, arriving after its connection had closed, made a phantom connection (found by
    /// a helper's burst of 1,000 connections: more cookies accepted than sent).
    /// </remarks>
    public static uint Make(in SynCookieKey key, NetworkAddress remote, ushort remotePort, NetworkAddress local, ushort localPort, uint peerIsn, uint minutes, int sizeIndex) =>
        Hash(key, remote, remotePort, local, localPort, peerIsn, 0) + (minutes << CookieBits)
        + ((Hash(key, remote, remotePort, local, localPort, minutes, 1) + (uint)sizeIndex) & CookieMask);

    /// <summary>
    /// RFC 6528's F: a keyed function of the connection's addresses and ports, added to the clock
    /// in every initial sequence number the stack picks, so no one who does not hold the key can
    /// tell one connection's from another's.
    /// </summary>
    public static uint SequenceOffset(in SynCookieKey key, NetworkAddress remote, ushort remotePort, NetworkAddress local, ushort localPort) =>
        Hash(key, remote, remotePort, local, localPort, 0, 4);

    /// <summary>
    /// The segment size index <paramref name="cookie"/> carries, when it is one this key made for
    /// these addresses and ports and this peer ISN at most <see cref="MaxAge"/> − 1 minutes ago; −1 otherwise.
    /// </summary>
    public static int Check(in SynCookieKey key, NetworkAddress remote, ushort remotePort, NetworkAddress local, ushort localPort, uint peerIsn, uint cookie, uint minutes, int sizes = 4)
    {
        cookie -= Hash(key, remote, remotePort, local, localPort, peerIsn, 0);
        var age = (minutes - (cookie >> CookieBits)) & (uint.MaxValue >> CookieBits);
        if (age >= MaxAge) return -1;
        var index = (cookie - Hash(key, remote, remotePort, local, localPort, minutes - age, 1)) & CookieMask;
        return index < (uint)sizes ? (int)index : -1;
    }

    /// <summary>
    /// The SYN-ACK's timestamp: the clock <paramref name="now"/> with its low six bits replaced by the
    /// peer's window scale (<see cref="NoWindowScale"/> when it offered none) and whether SACK is on,
    /// never later than <paramref name="now"/> (Linux's cookie_init_timestamp).
    /// </summary>
    public static uint Timestamp(uint now, int? peerWindowScale, bool sack)
    {
        var options = (peerWindowScale is { } scale ? (uint)scale : NoWindowScale) | (sack ? SackBit : 0);
        var stamp = (now & ~TimestampOptionMask) | options;
        if ((int)(stamp - now) > 0) stamp -= TimestampOptionMask + 1;
        return stamp;
    }

    /// <summary>
    /// The window scale (null: none) and SACK a cookie's echoed timestamp carries; false when it
    /// carries what this stack never offers — SACK while <paramref name="sackAllowed"/> is off, or
    /// ECN — as Linux's cookie_timestamp_decode refuses them.
    /// </summary>
    public static bool TryReadTimestamp(uint echo, bool sackAllowed, out int? peerWindowScale, out bool sack)
    {
        var scale = echo & NoWindowScale; // 15 is "none"; 0..14 are every shift there is
        sack = (echo & SackBit) != 0;
        peerWindowScale = scale == NoWindowScale ? null : (int)scale;
        return (echo & EcnBit) == 0 && (sackAllowed || !sack);
    }

    // `value`: the peer's ISN (which 0) or the minute counter (which 1).
    private static uint Hash(in SynCookieKey key, NetworkAddress remote, ushort remotePort, NetworkAddress local, ushort localPort, uint value, uint which)
    {
        Span<byte> message = stackalloc byte[44];
        BinaryPrimitives.WriteUInt128LittleEndian(message, remote.Value);
        BinaryPrimitives.WriteUInt128LittleEndian(message.Slice(16), local.Value);
        BinaryPrimitives.WriteUInt16LittleEndian(message.Slice(32), remotePort);
        BinaryPrimitives.WriteUInt16LittleEndian(message.Slice(34), localPort);
        BinaryPrimitives.WriteUInt32LittleEndian(message.Slice(36), value);
        BinaryPrimitives.WriteUInt32LittleEndian(message.Slice(40), which | (remote.IsV6 ? 2u : 0u));
        return (uint)SipHash(key.K0, key.K1, message);
    }

    /// <summary>SipHash-2-4 (Aumasson and Bernstein, 2012) of <paramref name="data"/> under the key (<paramref name="k0"/>, <paramref name="k1"/>), as Linux keys its cookies.</summary>
    public static ulong SipHash(ulong k0, ulong k1, ReadOnlySpan<byte> data)
    {
        ulong v0 = 0x736f6d6570736575UL ^ k0, v1 = 0x646f72616e646f6dUL ^ k1, v2 = 0x6c7967656e657261UL ^ k0, v3 = 0x7465646279746573UL ^ k1;
        var whole = data.Length & ~7;
        for (var i = 0; i < whole; i += 8)
        {
            var m = BinaryPrimitives.ReadUInt64LittleEndian(data.Slice(i));
            v3 ^= m;
            Round(ref v0, ref v1, ref v2, ref v3);
            Round(ref v0, ref v1, ref v2, ref v3);
            v0 ^= m;
        }
        var last = (ulong)data.Length << 56;
        for (var i = whole; i < data.Length; i++) last |= (ulong)data[i] << (8 * (i - whole));
        v3 ^= last;
        Round(ref v0, ref v1, ref v2, ref v3);
        Round(ref v0, ref v1, ref v2, ref v3);
        v0 ^= last;
        v2 ^= 0xFF;
        for (var i = 0; i < 4; i++) Round(ref v0, ref v1, ref v2, ref v3);
        return v0 ^ v1 ^ v2 ^ v3;
    }

    private static void Round(ref ulong v0, ref ulong v1, ref ulong v2, ref ulong v3)
    {
        v0 += v1; v1 = BitOperations.RotateLeft(v1, 13); v1 ^= v0; v0 = BitOperations.RotateLeft(v0, 32);
        v2 += v3; v3 = BitOperations.RotateLeft(v3, 16); v3 ^= v2;
        v0 += v3; v3 = BitOperations.RotateLeft(v3, 21); v3 ^= v0;
        v2 += v1; v1 = BitOperations.RotateLeft(v1, 17); v1 ^= v2; v2 = BitOperations.RotateLeft(v2, 32);
    }
}
