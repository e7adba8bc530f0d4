using System.Buffers.Binary;
using System.Security.Cryptography;
using NicBypass.Runtime.Packets;

namespace NicBypass.Runtime.Stacks;

// SYN cookies (RFC 4987 3.6; SynCookie has the arithmetic): a SYN-ACK sent without keeping
// anything, and the connection made when the handshake's ACK brings the cookie back.
public sealed partial class NetworkStack
{
    // Linux's TCP_SYNCOOKIE_VALID: ACKs are read as cookies for two minutes after a listener last sent one.
    private static readonly TimeSpan CookieWindow = TimeSpan.FromMinutes(2);

    private SynCookieKey CookieKey { get; }

    /// <summary>
    /// A stack's cookie secret: random on the system clock; on virtual time made from the stack's
    /// MAC, so a deterministic run sends the same sequence numbers every time — and anyone who
    /// knows the MAC and this code can make cookies, as anyone can predict its initial sequence
    /// numbers there: a simulation's attackers are the test's own.
    /// </summary>
    private static SynCookieKey MakeCookieKey(TimeProvider time, ulong mac)
    {
        if (time != TimeProvider.System) return new SynCookieKey(0x5EED_C00C_1E5E_C7E7UL ^ mac, 0x9E37_79B9_7F4A_7C15UL * (mac | 1));
        Span<byte> random = stackalloc byte[16];
        RandomNumberGenerator.Fill(random);
        return new SynCookieKey(BinaryPrimitives.ReadUInt64LittleEndian(random), BinaryPrimitives.ReadUInt64LittleEndian(random.Slice(8)));
    }

    // The SYN-ACK to `syn` a listener sends instead of making a half-open connection: its
    // sequence number is the cookie; MSS, and with timestamps window scaling and SACK, as the SYN
    // offered them.
    private void SendCookieSynAck(TcpListener listener, in TcpSegment syn, NetworkAddress remote, NetworkAddress local)
    {
        var v6 = remote.IsV6;
        var ownMss = Mtu - (v6 ? 60 : 40);
        var index = SynCookie.SizeIndex(v6, syn.MaximumSegmentSize ?? (v6 ? 1220 : 536));
        var now = Time.GetTimestamp();
        var cookie = SynCookie.Make(CookieKey, remote, syn.SourcePort, local, syn.DestinationPort, syn.Sequence, SynCookie.Minutes(now, Time.TimestampFrequency), index);
        // Without timestamps there is nowhere to keep window scaling and SACK: the connection goes without.
        var stamped = syn.TryGetTimestamps(out var peerStamp, out _);
        var scale = stamped ? syn.WindowScale : null;
        var sack = stamped && syn.SackPermitted && Settings.SelectiveAcknowledgment;
        var headerLength = 24 + (stamped ? 12 : 0) + (scale is not null ? 4 : 0) + (sack ? 4 : 0);
        var frame = BuildIp(local, remote, IpProtocol.Tcp, headerLength, out var tcp);
        tcp.Slice(0, headerLength).Clear();
        BinaryPrimitives.WriteUInt16BigEndian(tcp, syn.DestinationPort);
        BinaryPrimitives.WriteUInt16BigEndian(tcp.Slice(2), syn.SourcePort);
        BinaryPrimitives.WriteUInt32BigEndian(tcp.Slice(4), cookie);
        BinaryPrimitives.WriteUInt32BigEndian(tcp.Slice(8), syn.Sequence + 1);
        tcp[12] = (byte)(headerLength / 4 << 4);
        tcp[13] = (byte)(TcpSegmentFlags.Syn | TcpSegmentFlags.Ack);
        BinaryPrimitives.WriteUInt16BigEndian(tcp.Slice(14), (ushort)Math.Min(Settings.TcpBuffer, 65535)); // a SYN's window is never scaled
        tcp[20] = 2;
        tcp[21] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(tcp.Slice(22), (ushort)ownMss);
        var next = 24;
        if (stamped)
        {
            tcp[next] = 1;
            tcp[next + 1] = 1;
            tcp[next + 2] = 8;
            tcp[next + 3] = 10;
            BinaryPrimitives.WriteUInt32BigEndian(tcp.Slice(next + 4), SynCookie.Timestamp(TcpConnection.ClockOf(Time), scale, sack));
            BinaryPrimitives.WriteUInt32BigEndian(tcp.Slice(next + 8), peerStamp);
            next += 12;
        }
        if (scale is not null)
        {
            tcp[next] = 1;
            tcp[next + 1] = 3;
            tcp[next + 2] = 3;
            tcp[next + 3] = (byte)TcpConnection.WindowScaleFor(Settings.TcpBufferCeiling);
            next += 4;
        }
        if (sack)
        {
            tcp[next] = 1;
            tcp[next + 1] = 1;
            tcp[next + 2] = 4;
            tcp[next + 3] = 2;
        }
        SealTransport(frame, 16);
        listener.CookieSent(now);
        Counters.Add(ref Counters._answered);
        if (Send(frame, remote, reply: true) is SendStatus.Sent or SendStatus.Queued) StackCounters.AddShared(ref Counters._synCookiesSent);
    }

    // An ACK to a listening port with no connection: when it brings back a cookie this stack sent
    // in the last two minutes, the connection it names is made, ready to accept, and the ACK
    // delivered to it (data and all). False when it is no cookie (the caller resets it).
    private bool TryAcceptCookie(TcpListener listener, TcpKey key, in TcpSegment ack, NetworkAddress remote, NetworkAddress local)
    {
        var now = Time.GetTimestamp();
        if (!listener.CookiesRecent(now, (long)(CookieWindow.TotalSeconds * Time.TimestampFrequency))) return false;
        var v6 = remote.IsV6;
        var index = SynCookie.Check(CookieKey, remote, ack.SourcePort, local, ack.DestinationPort, ack.Sequence - 1, ack.Acknowledgment - 1,
            SynCookie.Minutes(now, Time.TimestampFrequency));
        int? scale = null;
        var sack = false;
        if (index < 0 || ack.TryGetTimestamps(out _, out var echo) && !SynCookie.TryReadTimestamp(echo, Settings.SelectiveAcknowledgment, out scale, out sack))
        {
            Interlocked.Increment(ref Counters._synCookiesRejected);
            return false;
        }
        if (!listener.HasRoom)
        {
            Counters.Drop(StackDropReason.SocketFull); // the peer's ACK sent again brings the cookie again (a later segment of its flight is reset, as Linux's)
            return true;
        }
        TcpConnection? made;
        TcpConnection connection;
        lock (_bind)
        {
            if (_connections.TryGetValue(key, out made))
            {
                connection = made;
            }
            else
            {
                connection = new TcpConnection(this, local, ack.DestinationPort, new NetworkEndpoint(remote, ack.SourcePort), ack.Acknowledgment - 1, listener);
                connection.AcceptCookie(ack, SynCookie.Size(v6, index), scale, sack);
                Register(connection);
            }
        }
        if (made is null) Interlocked.Increment(ref Counters._synCookiesAccepted);
        Deliver(connection, ack);
        return true;
    }
}
