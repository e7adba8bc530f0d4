namespace NicBypass.Runtime.Packets;

/// <summary>The TCP header's control bits (RFC 9293 3.1): what the stacks read and send, and what <see cref="Frames.Tcp(string, string, string, string, TcpSegmentFlags, uint, uint, byte[], int, ushort, byte[])"/> builds.</summary>
[Flags]
public enum TcpSegmentFlags : byte
{
    None = 0,
    Fin = 0x01,
    Syn = 0x02,
    Rst = 0x04,
    Psh = 0x08,
    Ack = 0x10,
    Urg = 0x20,
}
