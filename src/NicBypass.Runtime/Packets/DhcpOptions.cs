namespace NicBypass.Runtime.Packets;

/// <summary>
/// Finds a DHCP option in a BOOTP message the way RFC 2131's clients must read them: in the
/// options field, then — where option 52 (overload, RFC 2132 9.3) says so — in the file field and
/// the sname field, in that order, every occurrence of the option's value appended to the ones
/// before (RFC 3396: a server may split an option into pieces). The DHCP client and the VNIC's
/// link protection both read a message through it, so they never disagree on what it says.
/// Allocation-free: the value is copied into the caller's buffer.
/// </summary>
internal static class DhcpOptions
{
    public const byte Pad = 0;
    public const byte End = 255;
    public const byte Overload = 52;

    // The fields of a BOOTP message that may hold options, from the message's first byte.
    private const int SnameOffset = 44, SnameLength = 64;
    private const int FileOffset = 108, FileLength = 128;
    private const int OptionsOffset = 240;

    /// <summary>
    /// Finds option <paramref name="code"/> in <paramref name="bootp"/> (the BOOTP message, at
    /// least 240 bytes, the magic cookie already checked): false when it is absent. Its whole
    /// value is <paramref name="length"/> bytes long; the first of them that fit are copied into
    /// <paramref name="value"/>. A field whose option is cut short ends there: what came before stands.
    /// </summary>
    public static bool TryFind(ReadOnlySpan<byte> bootp, byte code, Span<byte> value, out int length)
    {
        length = 0;
        var found = Collect(bootp.Slice(OptionsOffset), code, value, ref length);
        // The overload option is read from the options field alone (it says where the others are).
        Span<byte> overload = stackalloc byte[1];
        var overloadLength = 0;
        if (!Collect(bootp.Slice(OptionsOffset), Overload, overload, ref overloadLength) || overloadLength != 1) return found;
        if ((overload[0] & 1) != 0) found |= Collect(bootp.Slice(FileOffset, FileLength), code, value, ref length);
        if ((overload[0] & 2) != 0) found |= Collect(bootp.Slice(SnameOffset, SnameLength), code, value, ref length);
        return found;
    }

    /// <summary>A one-byte option's value (the message type), if present with exactly one byte.</summary>
    public static byte? Byte(ReadOnlySpan<byte> bootp, byte code)
    {
        Span<byte> value = stackalloc byte[1];
        return TryFind(bootp, code, value, out var length) && length == 1 ? value[0] : null;
    }

    /// <summary>A four-byte option's value (an address or a time), if present with exactly four bytes.</summary>
    public static uint? UInt32(ReadOnlySpan<byte> bootp, byte code)
    {
        Span<byte> value = stackalloc byte[4];
        return TryFind(bootp, code, value, out var length) && length == 4 ? System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(value) : null;
    }

    // Appends every occurrence of `code` in one field to `value` (from `length` on).
    private static bool Collect(ReadOnlySpan<byte> field, byte code, Span<byte> value, ref int length)
    {
        var found = false;
        for (var i = 0; i < field.Length;)
        {
            var current = field[i];
            if (current == End) break;
            if (current == Pad)
            {
                i++;
                continue;
            }
            if (i + 1 >= field.Length || i + 2 + field[i + 1] > field.Length) break;
            var piece = field.Slice(i + 2, field[i + 1]);
            if (current == code)
            {
                found = true;
                if (length < value.Length) piece.Slice(0, Math.Min(piece.Length, value.Length - length)).CopyTo(value.Slice(length));
                length += piece.Length;
            }
            i += 2 + piece.Length;
        }
        return found;
    }
}
