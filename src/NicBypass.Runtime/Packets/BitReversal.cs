namespace NicBypass.Runtime.Packets;

/// <summary>The <c>reverse-bits</c> transform: flips the bit order of every byte through a 256-entry table.</summary>
internal static class BitReversal
{
    private static readonly byte[] Table = Build();

    public static byte Reverse(byte value) => Table[value];

    public static void Apply(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        var table = Table;
        for (var i = 0; i < source.Length; i++) destination[i] = table[source[i]];
    }

    public static void ApplyInPlace(Span<byte> bytes)
    {
        var table = Table;
        for (var i = 0; i < bytes.Length; i++) bytes[i] = table[bytes[i]];
    }

    private static byte[] Build()
    {
        var table = new byte[256];
        for (var v = 0; v < 256; v++)
        {
            var r = 0;
            for (var bit = 0; bit < 8; bit++) if ((v & (1 << bit)) != 0) r |= 0x80 >> bit;
            table[v] = (byte)r;
        }
        return table;
    }
}
