using System.Buffers;
using System.Buffers.Binary;
using NicBypass.Runtime.Packets;

namespace NicBypass.Runtime.Stacks;

/// <summary>
/// A stack's IP reassembly (RFC 791 3.2 and RFC 815 for IPv4, RFC 8200 4.5 for IPv6): the
/// fragments of each datagram wait here until its bytes are all in, and the whole datagram then
/// goes on through IP as if it had come in one frame.
///
/// Bounded (Linux bounds its memory, ipfrag_high_thresh; here the count): at most
/// <see cref="MaxDatagrams"/> datagrams at once — a newer one pushes out the one begun first,
/// whose fragments count as <c>reassembly-full</c>, so a datagram lasts through 63 newer ones —
/// and <see cref="MaxFragments"/> fragments to a datagram (one more discards it, all counted as
/// <c>reassembly-full</c>); one not
/// complete within <see cref="Ipv4Timeout"/> (IPv4, Linux's 30 s) or <see cref="Ipv6Timeout"/>
/// (IPv6, RFC 8200's 60 s) is discarded (<c>reassembly-timeout</c>) and, if its first fragment
/// came — to a unicast address of the stack's, in a unicast frame, and not itself an ICMP error —
/// answered with an ICMP Time Exceeded (code 1). Overlapping fragments discard the whole
/// datagram (RFC 5722, and Linux for IPv4 since FragmentSmack); an exact duplicate is dropped on
/// its own. Each of these drops counts every fragment it drops (<c>fragment</c>), so a stack's
/// received frames stay accounted for.
///
/// A datagram's bytes are kept in a buffer rented from <see cref="ArrayPool{T}.Shared"/> (none
/// allocated per fragment once warm), as large as its fragments so far reach (a larger one
/// rented as they reach further), with room before the data for the first fragment's Ethernet
/// and IP headers, so the whole frame is built in place. The caller checks each fragment's
/// lengths first (<see cref="IpFragment"/>). Thread-safe: a lock, since a
/// UDP-only stack receives on several threads at once — fragments are rare.
/// </summary>
internal sealed class ReassemblyQueue
{
    /// <summary>Datagrams reassembled at once; a newer one pushes out the oldest.</summary>
    public const int MaxDatagrams = 64;

    /// <summary>Fragments held for one datagram; one more discards it.</summary>
    public const int MaxFragments = 64;

    public static readonly TimeSpan Ipv4Timeout = TimeSpan.FromSeconds(30);

    public static readonly TimeSpan Ipv6Timeout = TimeSpan.FromSeconds(60);

    // The data starts here in a datagram's buffer: room for an Ethernet header and the longest
    // IPv4 header (60 bytes) before it.
    private const int DataStart = EthernetHeader.Length + 60;

    private readonly NetworkStack _stack;
    private readonly Lock _lock = new();
    private readonly Datagram[] _slots = new Datagram[MaxDatagrams];
    private long _nextDue = long.MaxValue;

    internal ReassemblyQueue(NetworkStack stack)
    {
        _stack = stack;
        for (var i = 0; i < _slots.Length; i++) _slots[i] = new Datagram();
    }

    /// <summary>Datagrams whose fragments are waiting now.</summary>
    public int Pending
    {
        get
        {
            lock (_lock) return _slots.Count(d => d.InUse);
        }
    }

    /// <summary>When the oldest datagram's time runs out, in the stack clock's timestamps; <see cref="long.MaxValue"/> for none.</summary>
    public long NextDue => Volatile.Read(ref _nextDue);

    /// <summary>
    /// Takes in one fragment: true with the whole datagram when it was the last one missing —
    /// the caller processes <see cref="Whole.Frame"/> and then <see cref="Whole.Dispose"/>s it;
    /// false when it waits (or was dropped, and counted).
    /// </summary>
    public bool Add(in IpFragment fragment, out Whole whole)
    {
        whole = default;
        var end = fragment.Offset + fragment.Data.Length;
        var now = _stack.Time.GetTimestamp();
        var armed = false;
        var done = false;
        lock (_lock)
        {
            var datagram = Find(fragment);
            if (datagram is null)
            {
                datagram = Free() ?? Evict();
                var timeout = fragment.IsV6 ? Ipv6Timeout : Ipv4Timeout;
                datagram.Start(fragment, now, now + (long)(timeout.TotalSeconds * _stack.Time.TimestampFrequency));
                if (datagram.Deadline < _nextDue)
                {
                    Volatile.Write(ref _nextDue, datagram.Deadline);
                    armed = true;
                }
            }
            switch (datagram.Place(fragment.Offset, end, fragment.More))
            {
                case Placement.Duplicate:
                    _stack.Counters.DropShared(StackDropReason.Fragment);
                    break;
                case Placement.Conflict:
                    Discard(datagram, StackDropReason.Fragment, extra: 1);
                    break;
                case Placement.TooMany:
                    Discard(datagram, StackDropReason.ReassemblyFull, extra: 1);
                    break;
                default:
                    datagram.Take(fragment, end);
                    Interlocked.Increment(ref _stack.Counters._fragmentsHeld);
                    if (!datagram.Complete) break;
                    if (datagram.TooLong)
                    {
                        Discard(datagram, StackDropReason.Malformed, extra: 0); // IPv4 options and data past 65,535 bytes
                        break;
                    }
                    // The fragments held before this one are joined into it; this one's frame carries the datagram on.
                    Interlocked.Add(ref _stack.Counters._fragmentsHeld, -datagram.Count);
                    Interlocked.Add(ref _stack.Counters._fragmentsJoined, datagram.Count - 1);
                    Interlocked.Increment(ref _stack.Counters._reassembled);
                    whole = new Whole(datagram.Finish(out var start, out var length), start, length);
                    Release(datagram);
                    done = true;
                    break;
            }
        }
        // A new datagram's time may be the stack's earliest deadline: whoever runs its timers learns of it.
        if (armed) _stack.TimerArmed?.Invoke();
        return done;
    }

    /// <summary>Discards the datagrams whose time ran out by <paramref name="now"/>, answering each whose first fragment came with a Time Exceeded; true if any was.</summary>
    public bool Expire(long now)
    {
        if (now < Volatile.Read(ref _nextDue)) return false;
        var any = false;
        // Copied under the lock, sent after it: each caller its own (two workers may expire at once).
        Span<byte> quote = stackalloc byte[1280];
        while (true)
        {
            int quoted;
            NetworkAddress source, destination;
            lock (_lock)
            {
                Datagram? expired = null;
                foreach (var datagram in _slots)
                {
                    if (datagram.InUse && datagram.Deadline <= now) expired = datagram;
                }
                if (expired is null) break;
                quoted = expired.Quote(quote);
                (source, destination) = (expired.Source, expired.Destination);
                Discard(expired, StackDropReason.ReassemblyTimeout, extra: 0);
            }
            any = true;
            // RFC 792 / RFC 8200 4.5: Time Exceeded, code 1 ("fragment reassembly time exceeded"),
            // only when the first fragment came (the source learns which datagram it was).
            if (quoted > 0) _stack.SendTimeExceeded(quote.Slice(0, quoted), source, destination);
        }
        return any;
    }

    private Datagram? Find(in IpFragment fragment)
    {
        foreach (var datagram in _slots)
        {
            if (datagram.InUse && datagram.Matches(fragment)) return datagram;
        }
        return null;
    }

    private Datagram? Free()
    {
        foreach (var datagram in _slots)
        {
            if (!datagram.InUse) return datagram;
        }
        return null;
    }

    // All slots busy: the datagram begun first makes room (its fragments counted as reassembly-full).
    private Datagram Evict()
    {
        var oldest = _slots[0];
        foreach (var datagram in _slots)
        {
            if (datagram.Started < oldest.Started) oldest = datagram;
        }
        Discard(oldest, StackDropReason.ReassemblyFull, extra: 0);
        return oldest;
    }

    // Drops a datagram's held fragments (and `extra` more: the one that broke it) for `reason`.
    private void Discard(Datagram datagram, StackDropReason reason, int extra)
    {
        for (var i = 0; i < datagram.Count + extra; i++) _stack.Counters.DropShared(reason);
        Interlocked.Add(ref _stack.Counters._fragmentsHeld, -datagram.Count);
        datagram.ReturnBuffer();
        Release(datagram);
    }

    private void Release(Datagram datagram)
    {
        datagram.Clear();
        var next = long.MaxValue;
        foreach (var d in _slots)
        {
            if (d.InUse && d.Deadline < next) next = d.Deadline;
        }
        Volatile.Write(ref _nextDue, next);
    }

    /// <summary>A reassembled datagram's frame, in a rented buffer given back on <see cref="Dispose"/>.</summary>
    public readonly struct Whole(byte[] buffer, int start, int length) : IDisposable
    {
        public ReadOnlySpan<byte> Frame => buffer.AsSpan(start, length);

        public void Dispose() => ArrayPool<byte>.Shared.Return(buffer);
    }

    private enum Placement { Taken, Duplicate, Conflict, TooMany }

    // One datagram being reassembled; the slot object is reused, its buffer rented per datagram.
    private sealed class Datagram
    {
        private readonly (int Start, int End)[] _ranges = new (int, int)[MaxFragments];
        private int _received, _total = -1, _headerLength;
        private bool _answerable;

        public bool InUse;
        public bool IsV6;
        public NetworkAddress Source, Destination;
        public uint Id;
        public byte Protocol;
        public long Deadline;
        public long Started;
        public byte[] Buffer = [];
        public int Count;

        public bool Complete => _total >= 0 && _received == _total && _headerLength > 0;

        // An IPv4 datagram's header and data may not pass 65,535 bytes together (the data alone was checked).
        public bool TooLong => _headerLength + _total > (IsV6 ? 65535 + 40 : 65535);

        // RFC 791: source, destination, protocol and identification; RFC 8200 4.5: source,
        // destination and identification (only the first fragment's next header counts).
        public bool Matches(in IpFragment f) =>
            IsV6 == f.IsV6 && Id == f.Id && (IsV6 || Protocol == f.Protocol) && Source == f.Source && Destination == f.Destination;

        public void Start(in IpFragment f, long now, long deadline)
        {
            Started = now;
            InUse = true;
            IsV6 = f.IsV6;
            Source = f.Source;
            Destination = f.Destination;
            Id = f.Id;
            Protocol = f.Protocol;
            Deadline = deadline;
        }

        // A fragment's data into the buffer (one reaching further than the buffer: a larger one,
        // with what was there), and its headers if it is the first.
        public void Take(in IpFragment f, int end)
        {
            if (DataStart + end > Buffer.Length)
            {
                var larger = ArrayPool<byte>.Shared.Rent(Math.Max(DataStart + end, Math.Min(DataStart + 65535, 2 * Buffer.Length)));
                Buffer.AsSpan().CopyTo(larger);
                ReturnBuffer();
                Buffer = larger;
            }
            f.Data.CopyTo(Buffer.AsSpan(DataStart + f.Offset));
            if (f.Offset != 0) return;
            _headerLength = f.Header.Length;
            f.Header.CopyTo(Buffer.AsSpan(DataStart - f.Header.Length));
            f.Frame.Slice(0, EthernetHeader.Length).CopyTo(Buffer.AsSpan(DataStart - f.Header.Length - EthernetHeader.Length));
            if (IsV6) Protocol = f.Protocol; // the datagram's next header: the first fragment's
            // A Time Exceeded may answer it: not a group's, not a link-layer group frame's, not an
            // ICMP error's (RFC 1122 3.2.2, RFC 4443 2.4(e)).
            var icmpError = f.Protocol == IpProtocol.Icmp && NetworkStack.IsIcmpV4Error(f.Data)
                || f.Protocol == IpProtocol.IcmpV6 && f.Data.Length > 0 && f.Data[0] < 128;
            _answerable = f.Answerable && !icmpError;
        }

        public void ReturnBuffer()
        {
            if (Buffer.Length > 0) ArrayPool<byte>.Shared.Return(Buffer);
            Buffer = [];
        }

        public Placement Place(int start, int end, bool more)
        {
            for (var i = 0; i < Count; i++)
            {
                var (s, e) = _ranges[i];
                if (s == start && e == end && (more || _total == end)) return Placement.Duplicate;
                if (start < e && s < end) return Placement.Conflict; // RFC 5722
            }
            // The last fragment fixes the length: nothing may reach past it, and no other may claim a different end.
            if (!more && (_total >= 0 && _total != end || Count > 0 && MaxEnd() > end)) return Placement.Conflict;
            if (more && _total >= 0 && end >= _total) return Placement.Conflict;
            if (Count == MaxFragments) return Placement.TooMany;
            if (!more) _total = end;
            _ranges[Count++] = (start, end);
            _received += end - start;
            return Placement.Taken;
        }

        private int MaxEnd()
        {
            var max = 0;
            for (var i = 0; i < Count; i++) max = Math.Max(max, _ranges[i].End);
            return max;
        }

        // The whole frame: the first fragment's headers made the datagram's (length, no fragment fields).
        public byte[] Finish(out int start, out int length)
        {
            var ip = Buffer.AsSpan(DataStart - _headerLength, _headerLength);
            if (IsV6)
            {
                BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(4), (ushort)_total);
                ip[6] = Protocol;
            }
            else
            {
                BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(2), (ushort)(_headerLength + _total));
                BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(6), 0);
                BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(10), 0);
                BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(10), InternetChecksum.Compute(ip));
            }
            start = DataStart - _headerLength - EthernetHeader.Length;
            length = EthernetHeader.Length + _headerLength + _total;
            var buffer = Buffer;
            Buffer = []; // handed to the caller with the whole frame
            return buffer;
        }

        // What a Time Exceeded quotes: the first fragment — its IP header (IPv6: and fragment
        // header) and the data after it, as much as the minimum IPv6 MTU leaves room for (IPv4's
        // quote is cut to 8 bytes of data by the sender). 0 if the first fragment never came.
        public int Quote(Span<byte> into)
        {
            if (_headerLength == 0 || !_answerable) return 0;
            var contiguous = 0;
            for (var i = 0; i < Count; i++)
            {
                if (_ranges[i].Start == 0) contiguous = _ranges[i].End;
            }
            var room = into.Length - 48; // an ICMPv6 error's own IPv6 and ICMPv6 headers
            Buffer.AsSpan(DataStart - _headerLength, _headerLength).CopyTo(into);
            var at = _headerLength;
            if (IsV6)
            {
                into[6] = 44;
                BinaryPrimitives.WriteUInt16BigEndian(into.Slice(4), (ushort)(8 + contiguous));
                into[40] = Protocol;
                into[41] = 0;
                BinaryPrimitives.WriteUInt16BigEndian(into.Slice(42), 1); // offset 0, more fragments
                BinaryPrimitives.WriteUInt32BigEndian(into.Slice(44), Id);
                at += 8;
            }
            var data = Math.Min(contiguous, room - at);
            Buffer.AsSpan(DataStart, data).CopyTo(into.Slice(at));
            return at + data;
        }

        public void Clear()
        {
            InUse = false;
            Count = 0;
            _received = 0;
            _total = -1;
            _headerLength = 0;
            _answerable = false;
            Deadline = long.MaxValue;
            Buffer = []; // returned to the pool, or handed on with the whole datagram
        }
    }
}
