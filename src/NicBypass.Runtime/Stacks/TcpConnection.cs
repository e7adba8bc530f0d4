using NicBypass.Runtime.Packets;
using NicBypass.Runtime.Virtualization;
using System.Buffers.Binary;

namespace NicBypass.Runtime.Stacks;

/// <summary>
/// One TCP connection and its state machine: active or passive open with the three-way
/// handshake, in-order delivery into a receive buffer whose free space is the advertised window,
/// cumulative ACKs (one per batch of in-order segments, see <see cref="AcknowledgmentBatch"/>; at once otherwise), retransmission from the oldest unacknowledged byte on a
/// timeout (doubling, on the stack's clock) or after three duplicate ACKs, a congestion window
/// that CUBIC (or Reno) grows and a loss cuts (<see cref="StackSettings.CongestionControl"/>), zero-window probes, FIN in both directions through FIN-WAIT, CLOSING,
/// LAST-ACK and TIME-WAIT, and RST. A segment ahead of a gap is held in an out-of-order queue
/// (inside the receive window, up to <see cref="MaxOutOfOrderRanges"/> separate ranges) and
/// answered with a duplicate ACK; when the sender's retransmission fills the gap, everything
/// held behind it is delivered and acknowledged at once. As a sender with SACK, three duplicate
/// ACKs resend only the holes the peer's SACK blocks show (RFC 6675, paced by RFC 6937's proportional rate reduction); without SACK, or
/// after a timeout, it goes back to SND.UNA. SACK (RFC 2018) and window scaling
/// (RFC 7323) are negotiated when the peer's SYN offers them: duplicate ACKs then report the held
/// ranges, and windows beyond 64 KB (a <see cref="StackSettings.TcpBuffer"/> above 65,535) work.
///
/// Application calls (<see cref="Send"/>, <see cref="Read"/>, <see cref="Close"/>) and the
/// stack's calls (segments, timers) are serialised by one lock per connection; a TCP stack's VSQ
/// already lets one thread at a time through.
/// </summary>
public sealed class TcpConnection
{
    private const int MaxRetries = 15; // as Linux's tcp_retries2
    private const int MaxSynRetries = 6; // a SYN nobody answers: Linux's tcp_syn_retries
    private const int MaxSynAckRetries = 5; // a SYN-ACK: Linux's tcp_synack_retries (a half-open connection holds a place in the SYN queue)
    // The back-off's ceiling: RFC 6298 2.5 allows one of at least 60 s; Linux's TCP_RTO_MAX. With
    // 15 retries a dead peer is given up after about 15 minutes, as Linux does (it was 10 s: 113 s).
    private static readonly TimeSpan MaxRetransmissionTimeout = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan MinRetransmissionTimeout = TimeSpan.FromMilliseconds(200); // as Linux
    private const int TimestampsLength = 12; // NOP, NOP, kind 8, length 10, value, echo

    /// <summary>
    /// Separate ranges of data the out-of-order queue holds ahead of a gap (and the sender's SACK
    /// scoreboard keeps); a segment that would make one more is dropped. 1,024: slow start
    /// overshooting a short queue drops every other segment of a burst, a thousand ranges (16
    /// threw away most of what arrived after the first sixteen holes, and the sender, whose board
    /// had the same bound, sent it all again); Linux's queue is bounded by memory alone.
    /// </summary>
    public const int MaxOutOfOrderRanges = 1024;

    // In-order segments acknowledged without a hold after a duplicate ACK or an old duplicate (Linux's TCP_MAX_QUICKACKS).
    private const int QuickAcks = 16;

    // The most segments one ACK grows the congestion window by: a processor's batch (32 frames).
    private const int MaxStretchSegments = 32;
    private const int MaxCongestionWindow = 1 << 22;
    private const int InitialWindowSegments = 10; // RFC 6928

    private readonly NetworkStack _stack;
    private readonly Lock _sync = new();
    private bool _ackOwed;   // in-order data taken during a batch, its ACK sent at the batch's end
    private int _owedBytes;  // bytes that ACK will acknowledge
    private int _owedSegments; // segments it will acknowledge
    private bool _owedHoldable; // the latest of them was full-sized and asked for nothing at once: its ACK may wait for a second
    private long _delayedAckAt; // a held ACK goes at this time if no second segment comes first (RFC 1122 4.2.3.2); 0: none held
    private readonly long _delayedAckTicks; // how long an ACK may be held, in the clock's timestamps; 0: never held
    private int _largestSegment; // the largest payload received: what "full-sized" means here (Linux's rcv_mss)
    private long _lastDataAt;   // when in-order data last came (holds once _largestSegment is set)
    private readonly long _pauseTicks; // a pause longer than this (the retransmission floor) before data: the peer may restart from one segment
    private int _quickAcks;     // in-order segments still acknowledged without a hold (after a loss or a duplicate: Linux's quick-ACK mode)
    private uint _windowEdge;   // RCV.NXT + the window in the last segment sent: how far the peer may send
    private uint _sndWl1, _sndWl2; // the sequence and acknowledgment numbers of the segment that last set the send window
    private long _progressConfirmedAt; // when an ACK for new data last confirmed the neighbour (at most once a second)
    private bool _progressConfirmed;
    private readonly TcpListener? _listener;
    private readonly ByteRing _send;
    private readonly ByteRing _receive;
    private readonly NetworkAddress _local;
    private readonly uint _iss;
    private readonly TaskCompletionSource _connected = ApplicationContext.NewWait(); // (a connect under NetworkHost.Run completes through its context)
    private LinkedList<PendingWait<int>>? _writers; // SendAsync calls waiting for send-buffer room, oldest first; under _sync
    private LinkedList<PendingWait<int>>? _readers; // ReadAsync calls waiting, oldest first; under _sync
    private uint _sndUna, _sndNxt, _sndMax, _bufferSeq, _finSeq, _rcvNxt;
    private int _sndWnd, _cwnd, _mss, _dupAcks, _retries;
    private bool _dupAckRepair; // the duplicate ACKs since the last cumulative one set off a fast retransmit
    private int _maxSndWnd; // the largest window the peer has offered (RFC 5961's MAX.SND.WND)
    // Congestion control (RFC 5681): below the slow-start threshold the window grows by what each
    // ACK acknowledges (RFC 3465's byte counting), above it by one segment per window's worth of
    // acknowledged bytes (congestion avoidance). A loss sets the threshold to half the flight.
    private int _ssthresh = int.MaxValue; // "arbitrarily high" until the first loss (RFC 5681 3.1)
    private int _avoidanceBytes;          // bytes acknowledged towards the next segment of growth in avoidance
    private readonly CubicWindow? _cubic; // CUBIC's window function (StackSettings.CongestionControl); null: Reno
    private readonly HybridSlowStart? _hystart; // HyStart for slow start (StackSettings.HybridSlowStart, CUBIC only); null: off
    private long _slowStartLeast = long.MaxValue; // the least round trip timed since the connection began or a timeout restarted slow start (HyStart's delay_min), ticks
    private double _cubicCredit;          // bytes of CUBIC's growth not yet whole
    private long _lastDataSentAt;         // when data last left (clock timestamp): the restart after idle
    private bool _fragmentable;           // an IPv4 path below 552 bytes: segments go without don't-fragment
    private bool _halvedFlight;           // a fast retransmit or a timeout reduced the window for the flight up to
    private uint _halvedUpTo;             // this sequence number (RFC 6582's "recover")
    private bool _reducedFlight;          // and the threshold was cut for it (a path MTU's go-back sets _halvedFlight alone)
    private bool _slowRepair;             // after a timeout, until that flight is acknowledged: one segment of growth an ACK
    private bool _sentData;               // _lastDataSentAt holds a time
    private bool _probeOut;  // a zero-window probe's byte is outstanding
    private int _probesUnanswered;
    private bool _finQueued, _finSent, _finReceived;
    private bool _outputBlocked; // the outbound VSQ was full: try again on the next tick
    private readonly RoundTripEstimator _rtt;
    private bool _timestamps;   // both sides send the timestamps option (RFC 7323)
    private uint _tsRecent;     // the peer's latest timestamp, echoed back
    private long _retransmitAt, _timeWaitUntil;
    private long _pacedUntil;   // pacing: the next new segment leaves no earlier (clock timestamps)
    private bool _pacingWait;   // a segment is held for the pacing timer
    // The out-of-order queue: data ahead of _rcvNxt, inside the window, at sequence & mask of a
    // buffer the size of the receive window (allocated at the first gap), and the ranges held
    // (absolute sequence numbers, sorted, disjoint); a FIN seen ahead of the gap.
    private byte[]? _reassembly;
    private List<(uint Start, uint End)>? _held;
    private uint? _heldFin;
    private uint _lastHeld;   // a sequence number inside the range held most recently (reported first in SACK blocks)
    private bool _sack;       // both SYNs carried SACK-permitted (RFC 2018): duplicate ACKs report the held ranges
    // SACK-based loss recovery as the sender (RFC 6675): what the peer reported holding above
    // SND.UNA, and, once three duplicate ACKs start a recovery, the holes below the highest SACKed
    // byte are sent again — then new data — as proportional rate reduction lets (RecoverySend),
    // not everything after SND.UNA. A timeout forgets the scoreboard (RFC 2018: the peer may
    // renege) and goes back.
    private List<(uint Start, uint End)>? _scoreboard;
    private bool _inRecovery;
    private uint _recoveryPoint, _rexmitNext;
    // A recovery without SACK (NewReno, RFC 6582, as Linux's Reno emulation): the duplicate ACKs
    // since it began, in bytes, count as segments the peer holds (Linux's sacked_out), out of the
    // pipe; the hole is the segment at SND.UNA, marked lost again after each partial ACK.
    private bool RenoRecovery => _inRecovery && !_sack;
    private int _renoHeld;
    // Proportional rate reduction in a SACK recovery (RFC 6937, its slow-start reduction bound):
    // what the peer took since it began (cumulatively and by SACK), what this side sent in it,
    // the pipe when it began; and, while a recovery's ACK sends, what new data may still go.
    private long _prrDelivered, _prrOut;
    private int _recoverFs;
    private int _recoveryBudget;
    // The holes sent again in this recovery, each with SND.MAX when it went (what was sent
    // after it), the timestamp it carried (0 without timestamps) and when it went (clock ticks).
    private List<(uint Start, uint End, uint SentBelow, uint Stamp, long SentAt)>? _resent;
    // The least round trip measured (clock ticks; long.MaxValue: none yet), from one segment of
    // new data timed at a time (Karn: never one sent again) — RACK's min_RTT, which tells a
    // retransmission's ACK from a late original's.
    private long _minRoundTrip = long.MaxValue;
    private bool _timing;   // a segment is timed:
    private long _timedAt;  // when it went,
    private uint _timedEnd; // the sequence number an ACK must reach to time it
    // RACK by order (RFC 8985): what was first sent below this went before a retransmission the
    // peer took, and counts as lost where the peer has not SACKed it (while in a recovery).
    private uint _lostBelow;
    // And by time: a hole's copy sent before one the peer took (clock ticks) was lost too.
    private long _lostSentBefore;
    private bool _scaling;    // both SYNs offered window scaling (RFC 7323)
    private int _sndScale;    // then: the peer's shift,
    private int _rcvScale;    // and ours (the smallest that fits our receive buffer, at its limit, in 16 bits)
    // Receive-buffer autotuning (Linux's tcp_rcv_space_adjust, "dynamic right-sizing"): once a
    // round trip, the buffer grows to twice what the application read in it (and room for 16
    // segments), up to the limit, so the window keeps ahead of a sender on a long path. The round
    // trip as the receiver knows it: the handshake's, timed on the stack's clock (the timestamps
    // tick in milliseconds, too coarse for a simulated host's microseconds), or the smoothed one
    // of the data it sends, whichever is shorter — until the timestamps the peer echoes on its
    // data measure a round trip of 2 ms or more (MeasureReceiveRoundTrip), which then stands alone.
    private readonly int _bufferLimit;
    private int _rcvSpace;        // what the application read in the last round trip it grew for (at least ten segments)
    private int _copied;          // read since _copiedSince
    private long _copiedSince;
    private bool _copying;        // a measure runs: since _copiedSince, over _measureRtt
    private long _growth;         // bytes both buffers grew by, taken from the stack's budget
    private long _measureRtt;
    private long _rcvRtt;         // clock ticks; 0 while unknown (no tuning)
    private bool _rcvRttFromStamps; // measured on the data since (MeasureReceiveRoundTrip), not only by the handshake
    private int _rcvMss;            // the largest segment received: a full-sized one is measured
    private uint _lastEchoSampled;  // the last echo measured (each once)
    private long _handshakeRtt;     // the handshake's round trip, clock ticks (0: it timed none)
    private long _firstSynAt;       // when our first SYN (or SYN-ACK) left
    private long _synSentAt;      // when our SYN (or SYN-ACK) last left,
    private int _synSends;        // and how often it did (one: the handshake times the round trip, Karn's rule)

    /// <param name="local">The address it speaks from: the one the SYN was sent to (passive open), or the stack's first of the family (active).</param>
    internal TcpConnection(NetworkStack stack, NetworkAddress local, ushort localPort, NetworkEndpoint remote, uint iss, TcpListener? listener = null)
    {
        _stack = stack;
        LocalPort = localPort;
        Remote = remote;
        _listener = listener;
        _local = local;
        _iss = iss;
        _sndUna = _sndNxt = _sndMax = iss;
        _bufferSeq = iss + 1;
        _send = new ByteRing(stack.Settings.TcpBuffer);
        _receive = new ByteRing(stack.Settings.TcpBuffer);
        _bufferLimit = stack.Settings.TcpBufferCeiling;
        _mss = stack.PathMtu(remote.Address) - (remote.Address.IsV6 ? 60 : 40); // what a router said of the path, if one did
        _fragmentable = stack.PathBelowFloor(remote.Address);
        _cwnd = InitialWindowSegments * _mss;
        _rcvSpace = Math.Min(stack.Settings.TcpBuffer, InitialWindowSegments * _mss);
        _sndWnd = _mss;
        if (stack.Settings.CongestionControl == CongestionControl.Cubic) _cubic = new CubicWindow();
        if (stack.Settings.HybridSlowStart && _cubic is not null) _hystart = new HybridSlowStart(); // CUBIC's, as Linux's: Reno slow-starts to the loss
        var initialTimeout = stack.Settings.RetransmissionTimeout ?? StackSettings.DefaultRetransmissionTimeout;
        _rtt = new RoundTripEstimator(initialTimeout, MinRetransmissionTimeout, MaxRetransmissionTimeout);
        // Held at most half the smallest retransmission timeout, so a peer set up like this stack
        // never times out waiting for a held ACK (tests shorten the timers).
        var floor = initialTimeout < MinRetransmissionTimeout ? initialTimeout : MinRetransmissionTimeout;
        var hold = stack.Settings.DelayedAcknowledgment ?? StackSettings.DefaultDelayedAcknowledgment;
        if (hold > floor / 2) hold = floor / 2;
        _delayedAckTicks = hold <= TimeSpan.Zero ? 0 : (long)(hold.TotalSeconds * stack.Time.TimestampFrequency);
        _pauseTicks = (long)(floor.TotalSeconds * stack.Time.TimestampFrequency);
        Key = new TcpKey(remote.Address, remote.Port, localPort);
    }

    public ushort LocalPort { get; }

    /// <summary>The local address the connection speaks from.</summary>
    public NetworkAddress LocalAddress => _local;

    public NetworkEndpoint Remote { get; }

    public TcpState State
    {
        get => _state;
        private set
        {
            // Leaving SYN-RECEIVED frees its place in the listener's SYN queue (set under _sync).
            if (_state == TcpState.SynReceived && value != TcpState.SynReceived && _halfOpenPlace is { } place)
            {
                _halfOpenPlace = null;
                _listener!.HalfOpenEnded(place);
            }
            _state = value;
        }
    }

    private TcpState _state;
    private LinkedListNode<TcpConnection>? _halfOpenPlace; // its place in its listener's SYN queue, while it holds one
    private uint _cookieStamp;     // the timestamp of the SYN cookie it was made from: carries options, so no round trip is timed from it

    /// <summary>Whether it was made from a SYN cookie's ACK (<see cref="AcceptCookie"/>).</summary>
    internal bool FromCookie { get; private set; }


    /// <summary>Why the connection ended abnormally (refused, reset, timed out, aborted); null otherwise.</summary>
    public TcpError? Error { get; private set; }

    /// <summary>Completes when the handshake does; faults with <see cref="TcpException"/> if the connection fails first.</summary>
    public Task Connected => _connected.Task;

    /// <summary>Bytes received in order and not yet read.</summary>
    public int Available
    {
        get { lock (_sync) return _receive.Count; }
    }

    /// <summary>Bytes the application has written that the peer has not acknowledged yet.</summary>
    public int Unacknowledged
    {
        get { lock (_sync) return _send.Count; }
    }

    /// <summary>The peer has closed its side and everything it sent has been read.</summary>
    public bool EndOfStream
    {
        get { lock (_sync) return (_finReceived || State == TcpState.Closed) && _receive.Count == 0; }
    }

    /// <summary>The smoothed round-trip time (RFC 6298), measured from echoed timestamps.</summary>
    public TimeSpan? SmoothedRoundTripTime
    {
        get { lock (_sync) return _rtt.Smoothed; }
    }

    /// <summary>The current retransmission timeout: from the measured round trip, doubled on each timeout.</summary>
    public TimeSpan RetransmissionTimeout
    {
        get { lock (_sync) return _rtt.Timeout; }
    }

    /// <summary>Segments sent again (timeouts and fast retransmits).</summary>
    public long Retransmissions { get; private set; }

    internal TcpKey Key { get; }

    /// <summary>Taken out of its stack's table (closed): a segment for its endpoints is looked up afresh.</summary>
    internal bool Forgotten
    {
        get => Volatile.Read(ref _forgotten);
        set => Volatile.Write(ref _forgotten, value);
    }

    private bool _forgotten;

    public override string ToString() => $"{_local}:{LocalPort} ↔ {Remote} {State}";

    // ---- application side ----------------------------------------------------------------------

    /// <summary>Queues as much of <paramref name="data"/> as the send buffer takes and sends what the windows allow; returns how much it took.</summary>
    public int Send(ReadOnlySpan<byte> data)
    {
        // A full send buffer on an open connection takes nothing: answered without the VSQ's gate
        // or the connection's lock (what it holds goes out as ACKs open the window, not on a call).
        if (_send.CountNow == _send.Capacity && State is TcpState.Established or TcpState.CloseWait && !Volatile.Read(ref _finQueued)) return 0;
        using (_stack.EnterTransport()) return SendLocked(data);
    }

    private int SendLocked(ReadOnlySpan<byte> data)
    {
        lock (_sync)
        {
            if (_finQueued || State is TcpState.Closed or TcpState.FinWait1 or TcpState.FinWait2 or TcpState.Closing or TcpState.LastAck or TcpState.TimeWait)
            {
                throw ClosedForSending();
            }
            var taken = _send.Write(data);
            Output();
            return taken;
        }
    }

    /// <summary>Sends all of <paramref name="data"/>, waiting for the peer's acknowledgments to free buffer space.</summary>
    /// <remarks>
    /// What the send buffer cannot take now waits, in order behind any earlier call, and is
    /// taken by the datapath as the peer's acknowledgments free room — within the pump that brings
    /// them, so a <c>RunUntil</c> on the task sees it finish. Cancelling leaves what was taken
    /// already in the buffer (it is sent), as Linux's send keeps what it queued. Fails with a
    /// <see cref="TcpException"/> when the connection closes for sending before all was taken.
    /// The caller keeps <paramref name="data"/> unchanged until the task completes.
    /// </remarks>
    public Task SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellation = default)
    {
        if (cancellation.IsCancellationRequested) return Task.FromCanceled(cancellation);
        using (_stack.EnterTransport())
        lock (_sync)
        {
            // Behind a call already waiting nothing is taken now (its bytes go first); the state
            // is checked all the same (a closed connection throws here, as Send does).
            int taken;
            try
            {
                taken = SendLocked(_writers is { Count: > 0 } ? default : data.Span);
            }
            catch (TcpException e)
            {
                return Task.FromException(e); // in the task, as an async method reports it
            }
            if (taken == data.Length) return Task.CompletedTask;
            var writer = new PendingWait<int>(_sync, System.Runtime.InteropServices.MemoryMarshal.AsMemory(data)) { Progress = taken };
            return writer.Enqueue(_writers ??= new(), cancellation);
        }
    }

    // The peer's acknowledgments freed send-buffer room (under _sync, on the datapath): the
    // SendAsync calls waiting take it, oldest first; the Output that follows the ACK sends it.
    private void WakeWriters()
    {
        while (_writers?.First is { } first)
        {
            var writer = first.Value;
            if (!writer.IsDone)
            {
                writer.Progress += _send.Write(writer.Buffer.Span.Slice(writer.Progress));
                if (writer.Progress < writer.Buffer.Length) return; // the buffer is full again
                writer.Dequeued();
                writer.Complete(writer.Progress);
            }
            _writers.RemoveFirst();
        }
    }

    // The connection can send no more (closed for sending, or closed): SendAsync calls still
    // waiting fail, as Send would throw now (under _sync).
    private void FailWriters()
    {
        while (_writers?.First is { } first)
        {
            _writers.RemoveFirst();
            first.Value.Dequeued();
            first.Value.Fail(ClosedForSending());
        }
    }

    private TcpException ClosedForSending() =>
        new(Error ?? TcpError.Closed, $"cannot send on {this}: {(Error is { } error ? "the connection " + Describe(error) : "it is closed for sending")}");

    /// <summary>Takes up to <c>into.Length</c> received bytes; 0 when none are waiting (see <see cref="EndOfStream"/>).</summary>
    public int Read(Span<byte> into)
    {
        // Nothing received: answered without the VSQ's gate or the connection's lock, for an
        // application that polls between the host's rounds (data landing meanwhile is read next time).
        if (_receive.CountNow == 0) return 0;
        using (_stack.EnterTransport()) return ReadLocked(into);
    }

    private int ReadLocked(Span<byte> into)
    {
        lock (_sync)
        {
            var closedWindow = _receive.Free < SillyWindowStep;
            var n = _receive.Read(into);
            if (n > 0) AdjustReceiveSpace(n);
            // Tell the peer the window opened again, or it would wait for its persist timer; and
            // when the read at least doubles the window it was last told (Linux's
            // tcp_cleanup_rbuf), since a peer held by it waits otherwise for a held ACK's timer.
            var told = (int)(_windowEdge - _rcvNxt);
            var window = OfferedWindowUnits() << _rcvScale; // what an ACK now would say
            // (A segment, or half a buffer smaller than one: a 1,024-byte buffer never told the
            // peer of a window it opened, and the peer waited for its persist timer.)
            var opened = closedWindow ? _receive.Free >= SillyWindowStep : window >= 2 * Math.Max(told, 1) && window >= SillyWindowStep;
            if (n > 0 && opened && State is TcpState.Established or TcpState.FinWait1 or TcpState.FinWait2) SendSegment(_sndNxt, TcpSegmentFlags.Ack, 0, 0);
            return n;
        }
    }

    /// <summary>
    /// Waits until received bytes are waiting (or the stream ended), then reads them: at once if
    /// some wait, else the task completes as they arrive, read into <paramref name="into"/> then —
    /// in the deterministic mode within the pump that brought them, so
    /// <c>RunUntil(() => read.IsCompleted, …)</c> sees it (it used to wait for a thread-pool hop
    /// that <c>RunUntil</c> did not, and ran on to its limit: found by a new user's drive).
    /// Continuations run asynchronously, never on the datapath.
    /// </summary>
    public Task<int> ReadAsync(Memory<byte> into, CancellationToken cancellation = default)
    {
        if (cancellation.IsCancellationRequested) return Task.FromCanceled<int>(cancellation);
        using (_stack.EnterTransport())
        lock (_sync)
        {
            var n = ReadLocked(into.Span);
            // A zero-length read waits until bytes are there to read (the "wait until readable"
            // idiom of sockets), then returns 0.
            if (n > 0 || _finReceived || State == TcpState.Closed || into.Length == 0 && _receive.Count > 0) return Task.FromResult(n);
            return new PendingWait<int>(_sync, into).Enqueue(_readers ??= new(), cancellation);
        }
    }

    // Bytes arrived, the stream ended or the connection closed (under _sync, on the datapath): the
    // reads waiting take what there is now, oldest first. The window the read opens goes out with
    // the ACK the arrival owes (no window update of its own in the middle of a segment).
    private void WakeReaders()
    {
        while (_readers?.First is { } first)
        {
            var reader = first.Value;
            if (reader.IsDone)
            {
                _readers.RemoveFirst(); // cancelled meanwhile
                continue;
            }
            var readable = reader.Buffer.Length == 0 && _receive.Count > 0; // a zero-length read: bytes are there
            var n = _receive.Read(reader.Buffer.Span);
            if (n > 0) AdjustReceiveSpace(n);
            if (n == 0 && !readable && !_finReceived && State != TcpState.Closed) return; // nothing for it yet
            _readers.RemoveFirst();
            reader.Dequeued();
            reader.Complete(n);
        }
    }

    /// <summary>Closes the sending side: a FIN follows the data already written.</summary>
    public void Close()
    {
        using var serialized = _stack.EnterTransport();
        lock (_sync)
        {
            if (State is TcpState.SynSent or TcpState.Closed)
            {
                Finish(State == TcpState.SynSent ? TcpError.Aborted : null);
                return;
            }
            _finQueued = true;
            FailWriters(); // what they still hold can no longer go before the FIN
            Output();
        }
    }

    /// <summary>Resets the connection at once (RST), dropping anything unsent.</summary>
    public void Abort()
    {
        using var serialized = _stack.EnterTransport();
        lock (_sync)
        {
            if (State == TcpState.Closed) return;
            if (State != TcpState.SynSent) SendSegment(_sndNxt, TcpSegmentFlags.Rst | TcpSegmentFlags.Ack, 0, 0);
            Finish(TcpError.Aborted);
        }
    }

    // ---- stack side ----------------------------------------------------------------------------

    // The host is disposed: closed as aborted, nothing sent (NetworkStack.Shutdown).
    internal void Vanish()
    {
        using (_stack.EnterTransport()) AddressLost();
    }

    internal void Open()
    {
        lock (_sync)
        {
            State = TcpState.SynSent;
            Output();
        }
    }

    /// <summary>Takes the SYN of a passive open: answers it and enters SYN-RECEIVED, in the listener's SYN queue; returns the half-open connection a full queue pushed out, if any (the caller abandons it).</summary>
    internal TcpConnection? Accept(in TcpSegment syn, int synBacklog)
    {
        lock (_sync)
        {
            _rcvNxt = syn.Sequence + 1;
            _mss = Math.Min(_mss, PeerMss(syn));
            _cwnd = Math.Min(_cwnd, InitialWindow);
            _sack = syn.SackPermitted && _stack.Settings.SelectiveAcknowledgment;
            if (syn.WindowScale is { } scale)
            {
                _scaling = true;
                _sndScale = scale;
                _rcvScale = OwnWindowScale;
            }
            if (syn.TryGetTimestamps(out var value, out _))
            {
                _timestamps = true;
                _tsRecent = value;
            }
            SetWindow(syn, syn.Window);
            State = TcpState.SynReceived;
            _halfOpenPlace = new LinkedListNode<TcpConnection>(this);
            var evicted = _listener!.AdmitHalfOpen(_halfOpenPlace, synBacklog);
            Output();
            return evicted;
        }
    }

    /// <summary>
    /// Makes a passive open from a valid SYN cookie's ACK (<paramref name="ack"/>, which the caller
    /// then delivers): as if the SYN it answered had been taken and its SYN-ACK sent, with the
    /// segment size, window scale, SACK and timestamps the cookie carried.
    /// </summary>
    internal void AcceptCookie(in TcpSegment ack, int mss, int? peerWindowScale, bool sack)
    {
        lock (_sync)
        {
            _rcvNxt = ack.Sequence;
            _mss = Math.Min(_mss, mss);
            _sack = sack && _stack.Settings.SelectiveAcknowledgment;
            if (peerWindowScale is { } scale)
            {
                _scaling = true;
                _sndScale = scale;
                _rcvScale = OwnWindowScale;
            }
            if (ack.TryGetTimestamps(out var value, out var echo))
            {
                _timestamps = true;
                _tsRecent = value;
                _cookieStamp = echo;
            }
            FromCookie = true;
            _sndNxt = _sndMax = _iss + 1; // the SYN-ACK went (statelessly),
            _windowEdge = _rcvNxt + (uint)Math.Min(_receive.Free, 65535); // offering the window a SYN-ACK offers
            State = TcpState.SynReceived;
        }
    }

    /// <summary>
    /// Processes a segment for this connection; null when it was taken, else why it was dropped
    /// (an ACK went back): out of order past what the queue holds, or stale (PAWS, RFC 5961 5).
    /// </summary>
    internal StackDropReason? OnSegment(in TcpSegment segment)
    {
        lock (_sync)
        {
            switch (State)
            {
                case TcpState.Closed:
                    return null;
                case TcpState.SynSent:
                    OnSegmentInSynSent(segment);
                    return null;
            }
            // PAWS (RFC 7323 5.3): a segment whose timestamp is older than the latest one taken
            // in order is an old duplicate (from a wrapped sequence space, or replayed): dropped
            // and acknowledged. Resets are judged by sequence number alone.
            if (_timestamps && !segment.Has(TcpSegmentFlags.Rst) && segment.TryGetTimestamps(out var stamp, out _) && (int)(stamp - _tsRecent) < 0
                && !DisorderedAck(segment, stamp))
            {
                SendSegment(_sndNxt, TcpSegmentFlags.Ack, 0, 0);
                return StackDropReason.Stale;
            }

            if (segment.Has(TcpSegmentFlags.Rst))
            {
                // RFC 5961 3: only a reset at exactly the next expected sequence number resets; one
                // elsewhere in the window gets a challenge ACK (a real peer answers it with an exact
                // reset, a blind attacker cannot); outside the window it is dropped.
                if (segment.Sequence == _rcvNxt) Finish(TcpError.Reset);
                else if (InReceiveWindow(segment.Sequence)) ChallengeAck();
                return null;
            }
            var simultaneous = false;
            if (segment.Has(TcpSegmentFlags.Syn))
            {
                // RFC 5961 4: a SYN in a synchronized state never resets; it gets a challenge ACK.
                if (State != TcpState.SynReceived || segment.Sequence + 1 != _rcvNxt)
                {
                    ChallengeAck();
                    return null;
                }
                if (!segment.Has(TcpSegmentFlags.Ack) || !After(segment.Acknowledgment, _sndUna) || After(segment.Acknowledgment, _sndMax))
                {
                    RetransmitFromUna(); // the peer's SYN again: our SYN-ACK was lost
                    return null;
                }
                // Simultaneous open (RFC 9293 3.5, figure 8): the peer's SYN-ACK acknowledges our
                // SYN. It is taken as the ACK that completes the handshake, and acknowledged in
                // turn; answering it with our SYN-ACK again, as a lost SYN-ACK is, made two of these
                // stacks trade SYN-ACKs once a round trip for ever (found by review).
                simultaneous = true;
            }
            if (!segment.Has(TcpSegmentFlags.Ack)) return null;
            // RFC 9293 3.10.7.4, the first check: a segment outside the window is acknowledged
            // and dropped, its ACK field unread — one a blind sender made up, with an ACK inside
            // the flight, discarded what the peer never got, and the connection stalled (review).
            if (!simultaneous && !Acceptable(segment))
            {
                SendSegment(_sndNxt, TcpSegmentFlags.Ack, 0, 0);
                // Far behind (no peer of ours resends from there: made up) or past the window: dropped.
                return After(segment.Sequence, _rcvNxt) ? StackDropReason.OutOfOrder : StackDropReason.Stale;
            }
            // RFC 5961 5: an ACK below SND.UNA − MAX.SND.WND acknowledges nothing a peer could
            // have seen: drop the segment, data and all, and challenge.
            if (State != TcpState.SynReceived && Before(segment.Acknowledgment, _sndUna - (uint)Math.Max(_maxSndWnd, 1)))
            {
                ChallengeAck();
                return StackDropReason.Stale;
            }

            if (State == TcpState.SynReceived)
            {
                if (!After(segment.Acknowledgment, _sndUna) || After(segment.Acknowledgment, _sndMax))
                {
                    _stack.SendReset(Remote.Address, _local, segment);
                    return null;
                }
                State = TcpState.Established;
                TimeHandshake();
                ApplicationContext.SetResult(_connected);
                if (_listener is { } listener && !listener.Enqueue(this))
                {
                    // Its listener stopped while the handshake completed: reset, as Linux does.
                    SendSegment(_sndNxt, TcpSegmentFlags.Rst | TcpSegmentFlags.Ack, 0, 0);
                    Finish(TcpError.Aborted);
                    return null;
                }
            }
            if (!OnAcknowledgment(segment))
            {
                // RFC 9293 3.10.7.4 and RFC 5961 5.2: an ACK of what was never sent — acknowledged
                // (by OnAcknowledgment), and the segment dropped, data, FIN and all: its data was
                // delivered, so a blind sender needed only a sequence number (found by review).
                return StackDropReason.Stale;
            }
            if (State == TcpState.Closed) return null;
            if (simultaneous) SendSegment(_sndNxt, TcpSegmentFlags.Ack, 0, 0);

            var accepted = true;
            if (segment.Payload.Length > 0 || segment.Has(TcpSegmentFlags.Fin)) accepted = OnData(segment);
            else if (_timestamps && segment.Sequence == _rcvNxt && _owedSegments == 0 && segment.TryGetTimestamps(out var acked, out _)
                     && (int)(acked - _tsRecent) >= 0)
            {
                // RFC 7323 4.3: a pure ACK at the last acknowledged point updates TS.Recent too (it
                // passed PAWS, so it is no older). A sender that only ever receives ACKs echoed the
                // handshake's stamp for the whole transfer: its peer's round trips measured from it
                // grew with the transfer. Never backwards: a duplicate ACK a later one overtook
                // passes PAWS (DisorderedAck) but leaves TS.Recent where the later one put it.
                _tsRecent = acked;
            }
            else if (!simultaneous && segment.Sequence == _rcvNxt - 1 && segment.Payload.Length == 0 && State is TcpState.Established or TcpState.CloseWait or TcpState.FinWait1 or TcpState.FinWait2)
            {
                // A keepalive probe (RFC 9293 3.8.4: an empty segment at the byte before the next
                // expected, not acceptable): answered with an ACK, or the prober gives up on us.
                SendSegment(_sndNxt, TcpSegmentFlags.Ack, 0, 0);
            }
            Output();
            return accepted ? null : StackDropReason.OutOfOrder;
        }
    }

    /// <summary>When its next timer falls due (retransmission, persist, pacing, a held ACK, TIME-WAIT), in the clock's timestamps; <see cref="long.MaxValue"/> for none.</summary>
    internal long NextDue()
    {
        lock (_sync)
        {
            if (State == TcpState.Closed) return long.MaxValue;
            if (State == TcpState.TimeWait) return _timeWaitUntil;
            var due = _retransmitAt == 0 ? long.MaxValue : _retransmitAt;
            if (_delayedAckAt != 0) due = Math.Min(due, _delayedAckAt);
            if (_reorderAt != 0) due = Math.Min(due, _reorderAt);
            if (_tlpAt != 0) due = Math.Min(due, _tlpAt);
            return _pacingWait ? Math.Min(due, _pacedUntil) : due;
        }
    }

    /// <summary>Runs the connection's timers; true if it sent anything.</summary>
    internal bool OnTimer(long now)
    {
        lock (_sync)
        {
            var sent = RunTimers(now); // a segment it sends carries the held ACK
            if (_delayedAckAt == 0 || now < _delayedAckAt) return sent;
            if (State is not (TcpState.Established or TcpState.FinWait1 or TcpState.FinWait2))
            {
                ClearOwed(); // nothing to acknowledge in this state: the timer must not stay due
                return sent;
            }
            SendSegment(_sndNxt, TcpSegmentFlags.Ack, 0, 0); // the held ACK: no second segment came in time
            return true;
        }
    }

    // The retransmission, persist, pacing and TIME-WAIT timers (under the lock); true if it sent anything.
    private bool RunTimers(long now)
    {
        if (State == TcpState.TimeWait)
        {
            if (now < _timeWaitUntil) return false;
            Finish(null);
            return false;
        }
        if (_pacingWait && now >= _pacedUntil && State != TcpState.Closed)
        {
            _pacingWait = false;
            var sent = _sndNxt;
            Output();
            if (_sndNxt != sent) return true;
        }
        if (_outputBlocked && State != TcpState.Closed)
        {
            // The outbound VSQ refused a segment; nothing may be in flight to time out, so
            // each tick tries again until it takes it.
            _outputBlocked = false;
            var sent = _sndNxt;
            Output();
            if (_sndNxt != sent) return true;
        }
        if (_reorderAt != 0 && now >= _reorderAt)
        {
            _reorderAt = 0;
            var retransmitted = Retransmissions;
            if (State != TcpState.Closed && _sndMax != _sndUna && (SackedBytes() > 0 || RenoRecovery))
            {
                if (_inRecovery)
                {
                    // The hole's retransmission was not acknowledged within a round trip and a
                    // reordering window (WatchRetransmission): lost too. It goes again — once: a
                    // second loss of it, or a round trip misjudged, is the retransmission timer's.
                    // The scan stays where it was: holes already sent again are not sent again.
                    var scan = _rexmitNext;
                    var spent = _watchSpentAt;
                    _watchSpentAt = _sndUna; // before the send: it must not arm the watch for itself again
                    _rexmitNext = _sndUna;
                    _prrOut += RetransmitNextHole();
                    if (Retransmissions == retransmitted) _watchSpentAt = spent; // refused: not spent
                    if (After(scan, _rexmitNext)) _rexmitNext = scan;
                }
                else if (!_dupAckRepair && _retries == 0)
                {
                    StartRepair(); // still unfilled, nothing repairing it yet: lost (ArmReorderTimer)
                }
            }
            if (Retransmissions != retransmitted) return true;
        }
        if (_tlpAt != 0 && now >= _tlpAt)
        {
            _tlpAt = 0;
            if (State is TcpState.Established or TcpState.CloseWait && MayProbe && !_finSent && _sndWnd > 0 && !_probeOut)
            {
                _tlpSpent = true;
                if (SendTailLossProbe()) return true;
            }
        }
        if (_retransmitAt == 0 || now < _retransmitAt || State == TcpState.Closed) return false;
        // The persist timer (RFC 9293 3.8.6.1): while the peer's window is zero, a probe (the
        // next byte, beyond the window) goes out on each timeout; probes are not
        // retransmissions — a peer that answers them, even with window zero forever, is alive.
        // Only probes that get no answer at all count towards giving up.
        var probing = _sndWnd == 0 && (_sndNxt == _sndUna || _probeOut && _sndNxt == _sndUna + 1);
        var limit = State switch { TcpState.SynSent => MaxSynRetries, TcpState.SynReceived => MaxSynAckRetries, _ => MaxRetries };
        if (probing ? ++_probesUnanswered > MaxRetries : ++_retries > limit)
        {
            // A handshake given up ends without a RST, as Linux's does: a connect has nothing the
            // peer holds to reset (a SYN-ACK to it is answered with one anyway), and a request's
            // peer may still be retrying its SYN (its next is a new request; a RST would fail its
            // connect as reset). A peer whose ACK of our SYN-ACK was lost thinks itself connected
            // until it sends: the stack answers that with a RST, as Linux's does.
            if (State is not (TcpState.SynSent or TcpState.SynReceived)) SendSegment(_sndNxt, TcpSegmentFlags.Rst | TcpSegmentFlags.Ack, 0, 0);
            StackCounters.AddShared(ref _stack.Counters._connectionsTimedOut);
            Finish(TcpError.TimedOut);
            return true;
        }
        _rtt.BackOff();
        _retransmitAt = 0;
        if (!probing)
        {
            StackCounters.AddShared(ref _stack.Counters._retransmissionTimeouts);
            // A timeout (RFC 5681 3.1): the threshold halves on the first one of a segment and
            // holds on those after (the flight is then only what went again), and the window
            // restarts from one segment. A zero window's probes are flow control, not loss; a
            // lost SYN or SYN-ACK says nothing of the path's capacity (Linux resets the threshold
            // after such a handshake too): the window restarts, the threshold stays unset.
            var handshake = State is TcpState.SynSent or TcpState.SynReceived;
            // A timeout inside a flight already reduced for (a recovery that ran out, or an
            // earlier timeout) keeps the threshold it set, as Linux's tcp_enter_loss does: the
            // flight then still counts what the reduction was for, and 0.7 of it put the threshold
            // back above what the path had just shown it holds.
            if (_retries == 1 && !handshake && !(_halvedFlight && _reducedFlight))
            {
                _ssthresh = ReducedThreshold();
                _reducedFlight = true;
            }
            // CUBIC's epoch ends with the timeout either way (Linux's bictcp_state on entering loss),
            // and HyStart watches the slow start that follows afresh.
            _cubic?.Restart();
            _hystart?.Restart();
            _slowStartLeast = long.MaxValue;
            _cubicCredit = 0;
            _cwnd = _mss;
            _avoidanceBytes = 0;
            // What was sent before the timeout is one flight (RFC 6582 4): duplicate ACKs of the
            // go-back's copies do not halve again, and until its end the window grows by at most
            // one segment an ACK (RFC 3465 2.3).
            _halvedFlight = true;
            _halvedUpTo = _sndMax;
            _slowRepair = true;
            _dupAcks = 0;
            _dupAckRepair = false;
        }
        if (probing)
        {
            if (_send.Count > 0 && SendSegment(_sndUna, TcpSegmentFlags.Ack, 0, 1) is SendStatus.Sent or SendStatus.Queued && !_probeOut)
            {
                DataSent(_stack.Time.GetTimestamp());
                _sndNxt = _sndUna + 1;
                _probeOut = true;
            }
            _sndMax = After(_sndNxt, _sndMax) ? _sndNxt : _sndMax;
            Arm();
            return true;
        }
        RetransmitFromUna();
        return true;
    }

    // What the peer's SYN says it takes: its MSS option (at least 64), or without one RFC 9293
    // 3.7.1's default — 536 bytes over IPv4, 1,220 over IPv6 (RFC 8200's 1,280 less the headers),
    // as Linux's TCP_MSS_DEFAULT (a bare SYN got segments as large as the MTU allows).
    // RFC 6928's initial window for the MSS agreed: min(10·MSS, max(2·MSS, 14,600 bytes)) — a bare
    // SYN's 536-byte MSS got the 14,600 bytes of ten full segments, 27 of its own (found by review).
    private int InitialWindow => Math.Min(InitialWindowSegments * _mss, Math.Max(2 * _mss, 14_600));

    private int PeerMss(in TcpSegment syn) => syn.MaximumSegmentSize is { } mss ? Math.Max(mss, 64) : Remote.Address.IsV6 ? 1220 : 536;

    private void OnSegmentInSynSent(in TcpSegment segment)
    {
        var ackAcceptable = segment.Has(TcpSegmentFlags.Ack) && segment.Acknowledgment == _iss + 1;
        if (segment.Has(TcpSegmentFlags.Ack) && !ackAcceptable)
        {
            if (!segment.Has(TcpSegmentFlags.Rst)) _stack.SendReset(Remote.Address, _local, segment);
            return;
        }
        if (segment.Has(TcpSegmentFlags.Rst))
        {
            if (ackAcceptable) Finish(TcpError.Refused);
            return;
        }
        if (!segment.Has(TcpSegmentFlags.Syn)) return;
        _rcvNxt = segment.Sequence + 1;
        _windowEdge = _rcvNxt; // the SYN's window was offered before the peer's sequence was known: nothing of it to keep
        _mss = Math.Min(_mss, PeerMss(segment));
        _cwnd = Math.Min(_cwnd, InitialWindow);
        _sack = segment.SackPermitted && _stack.Settings.SelectiveAcknowledgment;
        if (segment.WindowScale is { } scale)
        {
            _scaling = true;
            _sndScale = scale;
            _rcvScale = OwnWindowScale;
        }
        SetWindow(segment, segment.Window); // a SYN's window is never scaled
        if (segment.TryGetTimestamps(out var value, out var echo))
        {
            _timestamps = true;
            _tsRecent = value;
            if (ackAcceptable) SampleRoundTrip(echo);
        }
        if (ackAcceptable)
        {
            _sndUna = _iss + 1;
            if (Before(_sndNxt, _sndUna)) _sndNxt = _sndUna;
            State = TcpState.Established;
            TimeHandshake();
            _retries = 0;
            _retransmitAt = 0;
            ApplicationContext.SetResult(_connected);
            SendSegment(_sndNxt, TcpSegmentFlags.Ack, 0, 0);
            Output();
        }
        else
        {
            // Simultaneous open.
            State = TcpState.SynReceived;
            RetransmitFromUna();
        }
    }

    // False when the ACK acknowledges what was never sent: answered with an ACK, nothing of the
    // segment taken (the caller drops it).
    private bool OnAcknowledgment(in TcpSegment segment)
    {
        var ack = segment.Acknowledgment;
        if (After(ack, _sndMax))
        {
            SendSegment(_sndNxt, TcpSegmentFlags.Ack, 0, 0); // acknowledges something never sent
            return false;
        }
        _probesUnanswered = 0; // the peer is there
        var window = PeerWindow(segment);
        if (_sndWnd == 0 && window > 0 && _sndMax == _sndUna + (_probeOut ? 1u : 0u))
        {
            // The window opens: the persist timer's deadline (backed off, counting from the last
            // probe) is not a retransmission timeout for what goes now; Arm starts a fresh one.
            _retransmitAt = 0;
            _rtt.Reset();
        }
        if (_probeOut && (window > 0 || After(ack, _sndUna)))
        {
            // The window opened: a probe byte the peer did not take goes again, with what follows it.
            if (ack == _sndUna && _sndNxt == _sndUna + 1) _sndNxt = _sndUna;
            _probeOut = false;
        }
        var sackedBefore = _inRecovery ? SackedBytes() : 0;
        var sackedNew = _sack && Score(segment, ack);
        // RFC 6937's DeliveredData: what this ACK says the peer took, cumulatively or by SACK.
        var delivered = _inRecovery ? (int)Math.Max(0, (long)(int)(ack - _sndUna) + SackedBytes() - sackedBefore) : 0;
        if (After(ack, _sndUna))
        {
            // Was the congestion window what held the flight back (RFC 9438 5.8, Linux's
            // tcp_is_cwnd_limited)? Not when the peer's window or the application did: the flight
            // fills it, or data waits to go that the peer's window would take (pacing may hold it).
            var unsent = _send.Count - (int)(_sndMax - _bufferSeq) > 0;
            var cwndLimited = (int)(_sndMax - _sndUna) + 3 * _mss >= _cwnd || unsent && _sndWnd >= _cwnd;
            var dataAcked = (int)Math.Clamp((long)(int)(ack - _bufferSeq), 0, _send.Count);
            if (RenoRecovery)
            {
                // The duplicate ACKs counted as delivered what they said the peer held: a
                // cumulative ACK delivers the rest, and at least a segment (Linux's tcp_remove_reno_sacks).
                var acked = (int)(ack - _sndUna);
                delivered = Math.Max(acked - _renoHeld, SegmentPayload);
                _renoHeld = Math.Max(0, _renoHeld - Math.Max(0, acked - SegmentPayload));
            }
            // Before this ACK frees it: was the send buffer full, and all of it in flight?
            var bufferBound = _send.Count + 2 * _mss >= _send.Capacity && (int)(_sndMax - _sndUna) + 2 * _mss >= _send.Count;
            if (dataAcked > 0) ConfirmProgress();
            _send.Discard(dataAcked);
            _bufferSeq += (uint)dataAcked;
            _sndUna = ack;
            if (Before(_sndNxt, _sndUna)) _sndNxt = _sndUna; // acknowledged beyond a go-back point
            SetWindow(segment, window); // an ACK that moves SND.UNA is the newest (as Linux's tcp_may_update_window)
            // An ACK in or ending a repair (after duplicate ACKs or a timeout) may cover a whole
            // flight the peer held behind a hole: it counts as one segment's, or the growth would
            // undo the halving. Inside a SACK recovery the window stays at the threshold (RFC 6675).
            var repairing = _inRecovery || _dupAcks >= 3 || _retries > 0 || _slowRepair;
            if (_halvedFlight && After(ack, _halvedUpTo)) _halvedFlight = _reducedFlight = false; // that flight is behind us
            if (_slowRepair && !Before(ack, _halvedUpTo)) _slowRepair = false;
            _dupAcks = 0;
            _dupAckRepair = false;
            _reorderAt = 0;
            _tlpSpent = false; // _tlpAt stays: re-armed below from this ACK, later, with no second call to the stack
            _retries = 0;
            uint echo = 0;
            var stamped = _timestamps && segment.TryGetTimestamps(out _, out echo);
            if (stamped) SampleRoundTrip(echo);
            if (_timing && !Before(ack, _timedEnd))
            {
                var taken = _stack.Time.GetTimestamp() - _timedAt;
                _minRoundTrip = Math.Min(_minRoundTrip, taken);
                _slowStartLeast = Math.Min(_slowStartLeast, taken);
                _timing = false;
                // Without timestamps the timed segment is the only measure (RFC 6298 3; Karn's
                // rule: a retransmission stopped its timing). Until it comes a backed-off timeout
                // stays backed off (RFC 6298 5.7). Each ACK used to reset the timeout to the
                // initial 200 ms instead: a 300 ms path timed out every flight (found by review).
                if (!stamped) _rtt.Sample(taken / (double)_stack.Time.TimestampFrequency, floor: 1.0 / _stack.Time.TimestampFrequency);
            }
            if (_hystart is { Found: false } hystart && _cwnd < _ssthresh && !repairing && dataAcked > 0 && cwndLimited)
            {
                // In slow start HyStart watches each round's ACK train and round trips (Linux's
                // CUBIC) — only while the window holds the flight back: an application's own pace
                // makes a train that says nothing of the path (Linux watches those too).
                var frequency = _stack.Time.TimestampFrequency;
                // The least round trip a segment was timed at; before the first, the handshake's
                // (not after a timeout: learned again). Not the lesser of the two: a path that
                // grew after the handshake would leave slow start at once (a 10 ms path whose
                // handshake crossed in microseconds).
                var least = _slowStartLeast != long.MaxValue ? _slowStartLeast : _handshakeRtt > 0 && !hystart.Restarted ? _handshakeRtt : long.MaxValue;
                hystart.Acknowledged(ack, _sndNxt, _stack.Time.GetTimestamp(), frequency, _cwnd, _mss,
                    stamped && echo != 0 && echo != _cookieStamp ? (Clock() - echo) / 1000.0 : -1,
                    least == long.MaxValue ? 0 : least / (double)frequency,
                    paced: _stack.Time is VirtualClock && _rtt.SmoothedSeconds > 0);
                if (hystart.Found)
                {
                    _ssthresh = Math.Max(_cwnd, 2 * _mss); // the path is full: avoidance from here
                    if (hystart.ByDelay) StackCounters.AddShared(ref _stack.Counters._slowStartDelayExits);
                    else StackCounters.AddShared(ref _stack.Counters._slowStartTrainExits);
                }
            }
            if (!_inRecovery) Grow(Math.Min(dataAcked, repairing ? _mss : MaxStretchSegments * _mss), cwndLimited);
            if (bufferBound) GrowSendBuffer();
            _retransmitAt = 0;
            Arm();
            ArmTailLossProbe(_stack.Time.GetTimestamp()); // from this ACK, for what is still out
            if (_inRecovery)
            {
                // A partial ACK: what proportional rate reduction lets go, holes first; an ACK
                // past the recovery point ends it (the window was left at the threshold).
                if (Before(ack, _recoveryPoint))
                {
                    // Without SACK a partial ACK says the segment now at SND.UNA was lost too
                    // (RFC 6582 3.2 step 5; Linux's tcp_newreno_mark_lost): it goes first.
                    if (RenoRecovery) MarkHeadLost();
                    RecoverySend(delivered, unaAdvanced: true, echo);
                }
                else EndRecovery();
            }
            if (dataAcked > 0) WakeWriters();
            if (_finSent && ack == _finSeq + 1)
            {
                switch (State)
                {
                    case TcpState.FinWait1: State = TcpState.FinWait2; break;
                    case TcpState.Closing: EnterTimeWait(); break;
                    case TcpState.LastAck: Finish(null); return true;
                }
            }
            return true;
        }
        var windowChanged = window != _sndWnd;
        // The window of an ACK that moves nothing counts only if it is no older than the one that
        // set it (RFC 9293 3.10.7.4's SND.WL1 and SND.WL2): an ACK overtaken by a later one, or
        // one below SND.UNA, would reopen a window the peer has since closed (found by review).
        if (ack == _sndUna && (After(segment.Sequence, _sndWl1) || segment.Sequence == _sndWl1 && !Before(ack, _sndWl2)))
        {
            SetWindow(segment, window);
        }
        // A duplicate ACK (RFC 5681 2): no data, no FIN, the same window — or, with SACK, one
        // that reports new data held above the hole, whatever else it carries: the peer's data
        // riding on it, or a window its buffer tuning grew (as Linux counts SACKed segments and
        // FreeBSD such ACKs; Linux's ACKs of an echo do both, and would otherwise never reach
        // three, leaving every loss to the retransmission timer).
        // (Not while the window is shut: the answers to a zero-window probe are not duplicates.)
        if (ack == _sndUna && _sndMax != _sndUna && !segment.Has(TcpSegmentFlags.Fin) && _sndWnd > 0 && !_probeOut
            && (sackedNew || segment.Payload.Length == 0 && !windowChanged))
        {
            ++_dupAcks;
            // RFC 6675's IsLost(SND.UNA) as well: more than DupThresh − 1 segments' bytes SACKed
            // above the hole say it was lost however few ACKs said so (one ACK may SACK several,
            // and one that also moved SND.UNA started the count afresh).
            var threshold = DuplicateThreshold();
            if (RenoRecovery)
            {
                // NewReno: each duplicate ACK says a segment above the hole left the network (RFC
                // 6582 3.2 step 4's inflation, as proportional rate reduction counts it): it is
                // out of the pipe, and what the reduction lets goes — new data, the hole having gone.
                // Only while the flight holds segments it could be (Linux's tcp_limit_reno_sacked):
                // a duplicate past them (a duplicated frame, a keepalive) delivers nothing.
                var held = Math.Min(_renoHeld + SegmentPayload, Math.Max(0, (int)(_sndMax - _sndUna) - SegmentPayload));
                var news = held - _renoHeld;
                _renoHeld = held;
                if (news > 0) RecoverySend(news, unaAdvanced: false);
            }
            else if (_inRecovery && !_dupAckRepair)
            {
                // In a SACK recovery every ACK with news goes on with it (RFC 6675 5 (C)): holes
                // now below SACKed data go — after a partial ACK the board may have been empty —
                // from where the scan stands, never back over holes already sent again (a
                // retransmission lost again is WatchRetransmission's to find), as much as
                // proportional rate reduction lets.
                if (sackedNew) RecoverySend(delivered, unaAdvanced: false);
            }
            else if (!_dupAckRepair && (_dupAcks >= threshold || SackedBytes() > (threshold - 1) * _mss))
            {
                StartRepair();
            }
            else if (!_dupAckRepair && sackedNew && !_inRecovery && _retries == 0)
            {
                ArmReorderTimer();
            }
            else if (_dupAckRepair && _inRecovery)
            {
                RecoverySend(delivered, unaAdvanced: false);
            }
        }
        return true;
    }

    // Duplicate ACKs (or the reorder timer) say the segment at SND.UNA was lost.
    private void StartRepair()
    {
        _dupAckRepair = true;
        _reorderAt = 0;
        _tlpAt = 0;
        // Fast retransmit: three duplicate ACKs say a segment was lost. With the peer's
        // SACK blocks, only the holes go again; without, everything from SND.UNA. The
        // window halves to the new threshold (RFC 5681 3.2, RFC 6675 5) — once per
        // recovery: duplicates of what a recovery is already repairing do not halve it again.
        // One halving per window of data (RFC 6582's "recover"): duplicate ACKs before
        // the cumulative ACK passes the flight a halving (or a timeout) answered are
        // repaired, not halved again. Without SACK they are the go-back's own copies of
        // what the peer holds (RFC 6582 4.1): no second go-back either.
        var newFlight = !_halvedFlight;
        if (!newFlight && _scoreboard is not { Count: > 0 }) return;
        if (newFlight)
        {
            _ssthresh = ReducedThreshold();
            _cwnd = _ssthresh;
            _avoidanceBytes = 0;
            _halvedFlight = _reducedFlight = true;
            _halvedUpTo = _sndMax;
        }
        if (_scoreboard is { Count: > 0 } || newFlight && !_sack)
        {
            // With the peer's SACK blocks the holes below them go again (RFC 6675); without SACK,
            // only the segment at SND.UNA (NewReno, RFC 6582: everything from it went again before,
            // the peer's copies of what it held bringing duplicate ACKs of their own). (With SACK
            // on and duplicate ACKs that carry no blocks, the go-back below, as before.)
            _renoHeld = !_sack ? Math.Min(_dupAcks * SegmentPayload, Math.Max(0, (int)(_sndMax - _sndUna) - SegmentPayload)) : 0;
            _inRecovery = true;
            _recoveryPoint = _sndMax;
            _rexmitNext = _sndUna;
            _lostBelow = _sndUna;
            _lostSentBefore = long.MinValue;
            if (RenoRecovery) MarkHeadLost();
            _recoverFs = Math.Max(Pipe(), _mss);
            _resent?.Clear();
            _prrDelivered = 0;
            _prrOut = RetransmitNextHole(); // the fast retransmit goes whatever the reduction says
        }
        else
        {
            RetransmitFromUna();
        }
    }

    // NewReno's hole: the segment at SND.UNA counts as lost (RetransmitNextHole sends it, Pipe
    // takes it out until it goes).
    private void MarkHeadLost()
    {
        var segment = (uint)SegmentPayload;
        _lostBelow = Before(_sndUna + segment, _sndMax) ? _sndUna + segment : _sndMax;
        _rexmitNext = _sndUna;
    }

    // The data a full-sized segment carries: the MSS less the timestamps option when it is on.
    private int SegmentPayload => _mss - (_timestamps ? TimestampsLength : 0);

    // A recovery is over: its cumulative ACK passed the recovery point, or the go-back of a timeout began.
    private void EndRecovery()
    {
        _inRecovery = false;
        _renoHeld = 0;
    }

    // RACK's reordering window, simply (RFC 8985 6.2): the peer SACKed data sent after the hole
    // at SND.UNA, which was sent first; if the hole is not filled within a quarter of a round trip
    // (at least a millisecond), it was lost, not reordered — whatever the duplicate ACKs count. A
    // flight of a few segments, two of them lost, brings too few for the count or for IsLost, and
    // would otherwise wait for the retransmission timeout.
    private void ArmReorderTimer()
    {
        if (_reorderAt != 0) return;
        _reorderAt = _stack.Time.GetTimestamp() + Ticks(Math.Max(RoundTripSeconds / 4, 0.001));
        Schedule(_reorderAt);
    }

    // The smoothed round trip, seconds; before the first sample, the handshake's.
    private double RoundTripSeconds => _rtt.Measured ? _rtt.SmoothedSeconds : _handshakeRtt / (double)_stack.Time.TimestampFrequency;

    private long Ticks(double seconds) => Math.Max(1, (long)(seconds * _stack.Time.TimestampFrequency));

    // A timer of this connection falls due at `at`: the stack's walk looks then.
    private void Schedule(long at)
    {
        _stack.ConnectionTimerArmed(at);
        _stack.TimerArmed?.Invoke();
    }

    // A retransmission of the hole at SND.UNA in a SACK recovery: if no ACK covers it within a
    // round trip and a reordering window, it was lost as well (RACK's detection of a lost
    // retransmission, RFC 8985 6.2, by time: nothing is sent after it for a SACK to show that) —
    // the only other way out is the retransmission timeout, as a bottleneck that drops the
    // retransmission too showed (a helper's capture: 200 ms stalls).
    private void WatchRetransmission()
    {
        if (_watchSpentAt == _sndUna) return; // this hole went again once on the watch already
        var roundTrip = RoundTripSeconds;
        _reorderAt = _stack.Time.GetTimestamp() + Ticks(roundTrip + Math.Max(roundTrip / 4, 0.001));
        Schedule(_reorderAt);
    }

    private long _reorderAt; // when the hole at SND.UNA (or its retransmission) counts as lost unless filled (0: not armed)
    private long _watchSpentAt = -1; // the SND.UNA whose hole the watch sent again (once a hole)

    // The window's growth for an ACK of `acked` new bytes (bounded by the caller: one batch of
    // segments — AcknowledgmentBatch acknowledges a batch at once — or one segment while
    // repairing): slow start up to the threshold by what the ACK acknowledges (RFC 3465),
    // congestion avoidance past it (one segment per window's worth of acknowledged bytes,
    // RFC 3465 2.1, so stretch and delayed ACKs grow it as much as an ACK per segment would).
    private void Grow(int acked, bool cwndLimited = true)
    {
        if (acked <= 0) return;
        if (_cwnd < _ssthresh)
        {
            var growth = acked; // RFC 5681 (2) with RFC 3465's L: the caller bounds it
            var room = _ssthresh - _cwnd;
            if (growth < room)
            {
                _cwnd = Math.Min(_cwnd + growth, MaxCongestionWindow);
                return;
            }
            _cwnd = _ssthresh; // the rest of this ACK counts towards avoidance
            acked = Math.Max(0, acked - room);
        }
        if (!cwndLimited)
        {
            // The peer's window or the application held the flight back: no growth in avoidance
            // (RFC 7661, RFC 9438 5.8, Linux's tcp_is_cwnd_limited) — the window grew regardless
            // (Reno 7 → 53 segments behind a peer's window of 8; CUBIC's, a function of time, 7
            // → 172 in 10 s, found by review) and burst when the peer's window opened. CUBIC's
            // epoch ends; the next starts from the window then.
            _cubic?.Restart();
            return;
        }
        if (_cubic is { } cubic)
        {
            // CUBIC (RFC 9438): the window's growth for these segments, whole bytes at a time.
            var segments = _cwnd / (double)_mss;
            var now = _stack.Time.GetTimestamp() / (double)_stack.Time.TimestampFrequency;
            _cubicCredit += (cubic.Grow(now, RoundTripSeconds, segments, acked / (double)_mss) - segments) * _mss;
            var whole = (int)Math.Min(_cubicCredit, MaxCongestionWindow);
            _cubicCredit -= whole;
            _cwnd = (int)Math.Min((long)_cwnd + whole, MaxCongestionWindow);
            return;
        }
        _avoidanceBytes += acked;
        if (_avoidanceBytes < _cwnd) return;
        _avoidanceBytes -= _cwnd;
        _cwnd = Math.Min(_cwnd + _mss, MaxCongestionWindow);
    }

    // The send buffer holds what is unacknowledged: on a long path it, not the windows, holds
    // the flight back. Doubled (up to the limit, as Linux's tcp_sndbuf_expand grows it with the
    // congestion window) when an ACK finds it full and all in flight (the caller looks before the
    // ACK frees it: a stretch ACK frees many segments at once) while the peer's window and the
    // congestion window would both let more go.
    private void GrowSendBuffer()
    {
        var capacity = _send.Capacity;
        if (_bufferLimit <= capacity || _sndWnd <= capacity || _cwnd <= capacity) return;
        var size = (int)Math.Min(2L * capacity, _bufferLimit);
        if (!_stack.TryTakeBufferGrowth(size - capacity)) return; // the stack's budget is spent
        _send.Grow(size);
        Interlocked.Add(ref _growth, size - capacity);
    }

    /// <summary>Gives back what the buffers grew by (the connection ended): the bytes, once.</summary>
    internal long TakeGrowth() => Interlocked.Exchange(ref _growth, 0);

    /// <summary>The send buffer's size now, bytes (grown by autotuning from <see cref="StackSettings.TcpBuffer"/>).</summary>
    internal int SendBufferSize => _send.Capacity;

    // Bytes the peer's SACK blocks hold above SND.UNA (the scoreboard: nothing without SACK).
    private int SackedBytes()
    {
        if (_scoreboard is not { Count: > 0 } board) return 0;
        var bytes = 0;
        foreach (var (start, end) in board) bytes += (int)(end - start);
        return bytes;
    }

    // Duplicate ACKs that say a segment was lost: three (RFC 5681), or — Early Retransmit, RFC
    // 5827 — one fewer than the segments outstanding when two or three are and nothing new can
    // go (the application has nothing more, or a window is full): a small flight cannot bring
    // three, and would otherwise wait for the retransmission timer (an echo held back by its own
    // receive side's hole, say). With SACK each ACK reporting new data counts as one.
    private int DuplicateThreshold()
    {
        var flight = (int)(_sndMax - _sndUna);
        var outstanding = (flight + _mss - 1) / _mss;
        if (outstanding is < 2 or >= 4) return 3; // one segment out brings no duplicate of its own
        var unsent = _send.Count - (int)(_sndMax - _bufferSeq);
        // New data goes only as Output would send it: a piece of a full segment, the rest of the
        // data, or half the peer's largest window — sender-side silly window avoidance holds a
        // smaller one while data is out. A window a few hundred bytes past the flight counted as
        // room, three duplicates were awaited where the flight could bring two, and the loss
        // waited for the tail-loss probe and the timeout (a real peer's drive: 200 ms stalls).
        var piece = Math.Min(Math.Min(_sndWnd, _cwnd) - flight, unsent);
        var canSendNew = piece > 0 && (piece >= SegmentPayload || piece == unsent || piece >= _maxSndWnd / 2);
        return canSendNew ? 3 : outstanding - 1;
    }

    // The slow-start threshold after a loss: Reno's half the flight, or CUBIC's 0.7 of it (RFC 9438
    // 4.6, which also remembers the window the loss came at); at least two segments either way.
    private int ReducedThreshold()
    {
        if (_cubic is not { } cubic) return HalfTheFlight();
        cubic.OnLoss(_cwnd / (double)_mss);
        _cubicCredit = 0;
        var flight = Math.Min(_sndMax - _sndUna, (uint)MaxCongestionWindow);
        return Math.Max((int)(flight * CubicWindow.Beta), 2 * _mss);
    }

    // RFC 5681 (4): max(FlightSize / 2, 2 · SMSS).
    private int HalfTheFlight() => Math.Max((int)Math.Min((_sndMax - _sndUna) / 2, (uint)MaxCongestionWindow), 2 * _mss);

    /// <summary>The congestion window, bytes (RFC 5681 cwnd).</summary>
    internal int CongestionWindow => _cwnd;

    /// <summary>The slow-start threshold, bytes (RFC 5681 ssthresh; <see cref="int.MaxValue"/> before the first loss).</summary>
    internal int SlowStartThreshold => _ssthresh;

    // Merges the segment's SACK blocks (those above SND.UNA and within what was sent) into the
    // scoreboard, and forgets what the cumulative ACK now covers: true if a block reported data
    // the board did not hold yet.
    private bool Score(in TcpSegment segment, uint ack)
    {
        Span<(uint Left, uint Right)> blocks = stackalloc (uint, uint)[4];
        var count = segment.ReadSackBlocks(blocks);
        if (count == 0 && _scoreboard is not { Count: > 0 }) return false;
        _scoreboard ??= new List<(uint Start, uint End)>();
        var board = _scoreboard;
        var news = false;
        for (var i = 0; i < count; i++)
        {
            var (left, right) = blocks[i];
            if (!After(right, left) || !After(right, ack) || After(right, _sndMax) || Before(left, _sndUna)) continue; // stale or forged
            news |= !Covered(board, left, right);
            AddRange(board, left, right);
        }
        // What the cumulative ACK covers is no longer on the board.
        var covered = 0;
        while (covered < board.Count && !After(board[covered].End, ack)) covered++;
        board.RemoveRange(0, covered); // at once: one at a time from the front was quadratic in the ranges
        if (board.Count > 0 && Before(board[0].Start, ack)) board[0] = (ack, board[0].End);
        return news;
    }

    private static bool Covered(List<(uint Start, uint End)> board, uint left, uint right)
    {
        foreach (var (start, end) in board)
        {
            if (!After(start, left) && !Before(end, right)) return true;
        }
        return false;
    }

    // Sends the first segment's worth of a hole at or after _rexmitNext: bytes below the highest
    // SACKed byte that the peer has not reported holding. The bytes it sent (0: none).
    private int RetransmitNextHole()
    {
        var board = _scoreboard;
        var highest = LostEdge(board);
        if (!After(highest, _sndUna)) return 0;
        var next = ScanFrom;
        var holeEnd = highest;
        if (board is not null)
        {
            foreach (var (start, end) in board)
            {
                if (!After(end, next)) continue;
                if (!Before(next, start)) { next = end; continue; } // inside a SACKed range: skip past it
                break;
            }
            foreach (var (start, _) in board)
            {
                if (After(start, next)) { holeEnd = start; break; }
            }
        }
        if (!Before(next, highest)) return 0; // no hole left below what the peer holds
        if (After(holeEnd, highest)) holeEnd = highest;
        var offset = (int)(next - _bufferSeq);
        var length = Math.Min(Math.Min((int)(holeEnd - next), _mss - (_timestamps ? TimestampsLength : 0)), _send.Count - offset);
        // The hole is the FIN (a lost tail's last "byte"): it goes again alone. Output would not
        // send it (SND.NXT is past it) and it waited for the timeout (found by review).
        var fin = _finSent && next == _finSeq && offset == _send.Count;
        if (fin) length = 1;
        if (offset < 0 || length <= 0) return 0;
        if ((fin ? SendSegment(_finSeq, TcpSegmentFlags.Fin | TcpSegmentFlags.Ack, 0, 0) : SendSegment(next, TcpSegmentFlags.Ack | TcpSegmentFlags.Psh, offset, length)) is SendStatus.Blocked)
        {
            if (next == _sndUna && _inRecovery && _reorderAt == 0) WatchRetransmission(); // refused: tried again at the watch, not only at the timeout
            return 0; // (a hole further on is tried again at the next ACK with news: the scan did not move)
        }
        if (next == _sndUna && _inRecovery) WatchRetransmission();
        if (_inRecovery && !fin && !RenoRecovery) // (a FIN sent again and lost again is the timeout's; without SACK nothing shows what arrived after a copy)
        {
            var resent = _resent ??= new List<(uint Start, uint End, uint SentBelow, uint Stamp, long SentAt)>();
            // The hole at SND.UNA may go again (the watch): its older entry would say it lost again.
            if (next == _sndUna)
            {
                for (var i = resent.Count - 1; i >= 0; i--)
                {
                    if (resent[i].Start == next) resent.RemoveAt(i);
                }
            }
            resent.Add(ResentNow(next, next + (uint)length));
        }
        _rexmitNext = next + (uint)length;
        Resent();
        return length;
    }

    // Data went again: counted, and the segment timed for the least round trip is forgotten
    // (Karn: its ACK may answer either copy).
    private void CountRetransmission()
    {
        _timing = false;
        Retransmissions++;
        StackCounters.AddShared(ref _stack.Counters._retransmissions);
    }

    // A segment of a hole went again: data left, counted as a retransmission, the timer armed.
    private void Resent()
    {
        DataSent(_stack.Time.GetTimestamp());
        CountRetransmission();
        Arm();
    }

    // An ACK in a SACK recovery that reports `delivered` bytes taken by the peer: proportional
    // rate reduction (RFC 6937) says how much may go — while the pipe is above the threshold, in
    // proportion to what was delivered (the window falls smoothly to the threshold over a round
    // trip instead of stopping dead); below it, up to the threshold but no more than what was
    // delivered and one segment (the slow-start reduction bound: after a heavy loss the pipe
    // refills at slow start's pace, clocked by the ACKs, not in a burst) — holes first (RFC 6675's
    // NextSeg), then new data. Without it one hole went per ACK and nothing new until the end: a
    // loss of hundreds of segments (slow start overshooting a short queue) outlasted the recovery
    // and ended in the retransmission timeout.
    // `echo`: the timestamp the ACK echoes when it moved SND.UNA (0: none), which copy of a hole it answers.
    private void RecoverySend(int delivered, bool unaAdvanced, uint echo = 0)
    {
        // An ACK that says the peer took nothing sends nothing (RFC 9937, Linux's
        // tcp_cwnd_reduction); the segment more of the reduction bound comes only with an ACK that
        // moved SND.UNA (a "safe" one), else what it delivered alone.
        if (delivered <= 0) return;
        _prrDelivered += delivered;
        // Before the pipe: what it finds lost is out of it. (RACK's rules need SACK to tell what
        // arrived: without, NewReno's partial ACKs alone say what was lost, as Linux's Reno.)
        if (!RenoRecovery) ReadTakenRetransmissions(echo);
        var pipe = Pipe();
        long count = pipe > _ssthresh
            ? (_prrDelivered * _ssthresh + _recoverFs - 1) / _recoverFs - _prrOut
            : Math.Min(_ssthresh - pipe, unaAdvanced ? Math.Max(_prrDelivered - _prrOut, delivered) + _mss : delivered);
        if (count > 0) count -= ResendLostRetransmissions(count);
        while (count > 0)
        {
            var sent = RetransmitNextHole();
            if (sent == 0) break;
            count -= sent;
            _prrOut += sent;
        }
        if (count <= 0) return;
        // Then new data (or the go-back's, after a timeout), as far as the peer's window lets
        // (Output, with this as its room; what it sends is charged to the reduction there).
        _recoveryBudget = (int)Math.Min(count, int.MaxValue);
        Output();
        _recoveryBudget = 0;
    }

    // Holes sent again that this ACK took (SND.UNA passed them): if it echoes that copy's
    // timestamp and came no sooner after it than most of the least round trip (so the retransmission
    // filled the hole, not a late original — an echo alone cannot tell copies sent in the same
    // millisecond), what was first sent before that copy and is still out was lost (RACK, RFC
    // 8985 6.2, with no reordering window in a recovery — which RFC 8985 allows only until
    // reordering is seen; this stack keeps no record of that): on a path that keeps order it
    // would have come first. Without this, data sent just before the retransmission and lost
    // with nothing sent after it (an echo's last segment) waited for the retransmission timeout:
    // the peer's ACKs, carrying its data, reported nothing more (a helper's capture through a
    // 6 kB queue: 200 ms stalls). The entries it read are gone.
    private void ReadTakenRetransmissions(uint echo)
    {
        if (_resent is not { Count: > 0 } resent) return;
        var now = _stack.Time.GetTimestamp();
        var kept = 0;
        for (var i = 0; i < resent.Count; i++)
        {
            var (_, end, sentBelow, stamp, sentAt) = resent[i];
            if (After(end, _sndUna))
            {
                resent[kept++] = resent[i];
                continue;
            }
            var echoed = stamp != 0 && echo != 0 && (int)(echo - stamp) >= 0;
            // (Three quarters of it: a sample may include the peer's delay in acknowledging.)
            if (!echoed || _minRoundTrip == long.MaxValue || now - sentAt < _minRoundTrip / 4 * 3) continue;
            if (After(sentBelow, _lostBelow)) _lostBelow = sentBelow;
            if (sentAt > _lostSentBefore) _lostSentBefore = sentAt; // and holes sent again before it (ResendLostRetransmissions)
        }
        resent.RemoveRange(kept, resent.Count - kept);
    }

    // Retransmissions lost again (RACK's rule, RFC 8985 6.2, by order instead of time): a hole
    // sent again is lost if the peer SACKed more than two segments' worth sent after it and still
    // not it — on a path that keeps order it would have come first. Each goes once more (as far
    // as `budget` bytes let), marked with what is sent after it now. The bytes sent. Without this a
    // retransmission lost in a recovery that proportional rate reduction keeps full (a threshold
    // just above what the path holds: CUBIC's 0.7 after slow start overshot) waited for the timeout.
    private int ResendLostRetransmissions(long budget)
    {
        if (_resent is not { Count: > 0 } resent) return 0;
        // (With nothing SACKed only the rule by time shows an entry lost.)
        var board = _scoreboard is { Count: > 0 } held ? held : null;
        var shown = board is null ? 0 : board[^1].End - 2u * (uint)_mss; // an entry sent below this has data sent after it SACKed
        var sent = 0;
        var kept = 0;
        for (var i = 0; i < resent.Count; i++)
        {
            var (start, end, sentBelow, _, sentAt) = resent[i];
            // Acknowledged: gone (ReadTakenRetransmissions read it first).
            if (!After(end, _sndUna)) continue;
            // Not yet shown lost (the cheap tests first): kept as it is. Shown lost: by order, or
            // sent before a copy of another hole that the peer took (RACK by time).
            if (sent >= budget || !(board is not null && Before(sentBelow, shown) || sentAt < _lostSentBefore))
            {
                resent[kept++] = resent[i];
                continue;
            }
            var from = After(start, _sndUna) ? start : _sndUna;
            if (board is not null && Sacked(board, from, end)) continue; // it arrived: gone
            var offset = (int)(from - _bufferSeq);
            var length = Math.Min((int)(end - from), _send.Count - offset);
            if (offset < 0 || length <= 0 || SendSegment(from, TcpSegmentFlags.Ack | TcpSegmentFlags.Psh, offset, length) is SendStatus.Blocked)
            {
                resent[kept++] = resent[i];
                budget = 0; // refused: the rest wait for the next ACK
                continue;
            }
            resent[kept++] = ResentNow(from, end);
            sent += length;
            _prrOut += length;
            Resent();
        }
        resent.RemoveRange(kept, resent.Count - kept);
        return sent;
    }

    // Whether [left, right) lies inside one range of the board (sorted, disjoint): a binary search.
    private static bool Sacked(List<(uint Start, uint End)> board, uint left, uint right)
    {
        int low = 0, high = board.Count - 1;
        while (low <= high)
        {
            var middle = (low + high) >>> 1;
            if (After(board[middle].Start, left)) high = middle - 1;
            else low = middle + 1;
        }
        return high >= 0 && !Before(board[high].End, right);
    }

    // Where the hole scan goes on from: past SND.UNA, what it sent, and what a go-back sent.
    private uint ScanFrom
    {
        get
        {
            var from = After(_rexmitNext, _sndUna) ? _rexmitNext : _sndUna;
            return Before(_sndNxt, _sndMax) && After(_sndNxt, from) ? _sndNxt : from;
        }
    }

    // The record of [start, end) going again now: what was sent before it, its timestamp, its time.
    private (uint Start, uint End, uint SentBelow, uint Stamp, long SentAt) ResentNow(uint start, uint end) =>
        (start, end, _sndMax, _timestamps ? Clock() : 0, _stack.Time.GetTimestamp());

    // What counts as lost where the peer has not SACKed it lies below this: its highest SACKed
    // byte, or in a recovery what RACK found sent before a retransmission it took, if higher.
    private uint LostEdge(List<(uint Start, uint End)>? board)
    {
        var edge = board is { Count: > 0 } ? board[^1].End : _sndUna;
        return _inRecovery && After(_lostBelow, edge) ? _lostBelow : edge;
    }

    // RFC 6675's pipe: the bytes still in the network — what was sent and not acknowledged, less
    // what the peer SACKed and less the holes below its highest SACKed byte (or RACK's edge) not
    // yet sent again (taken as lost); a hole sent again is in the pipe once more.
    private int Pipe()
    {
        var flight = (long)(_sndMax - _sndUna);
        var board = _scoreboard;
        var edge = LostEdge(board);
        if (!After(edge, _sndUna)) return (int)Math.Min(flight, int.MaxValue);
        var scan = ScanFrom;
        long sacked = 0, lost = 0;
        var cursor = _sndUna;
        if (board is not null)
        {
            foreach (var (start, end) in board)
            {
                // The hole [cursor, start): what of it lies at or after the scan has not gone again.
                var from = After(scan, cursor) ? scan : cursor;
                if (After(start, from)) lost += start - from;
                sacked += end - start;
                cursor = end;
            }
        }
        // Past the highest SACKed byte, up to RACK's edge.
        var tail = After(scan, cursor) ? scan : cursor;
        if (After(edge, tail)) lost += edge - tail;
        return (int)Math.Clamp(flight - sacked - lost - _renoHeld, 0, int.MaxValue);
    }

    // The probe (ArmTailLossProbe): a new segment if the peer's window lets one go — whatever the
    // congestion window says (RFC 8985 7.3; Linux's tcp_send_loss_probe writes one past it) — else
    // the last again. A flight that filled the congestion window probed with its last segment,
    // whose ACK (a duplicate, its hole earlier) could not make the third that starts a repair.
    private bool SendTailLossProbe()
    {
        var max = _sndMax; // (MayProbe: SND.NXT is SND.MAX, no go-back under way)
        var cwnd = _cwnd;
        _cwnd = Math.Max(_cwnd, (int)Math.Min(_sndMax - _sndUna + (uint)SegmentPayload, (uint)MaxCongestionWindow)); // room for one segment more
        Output();
        _cwnd = cwnd;
        if (_sndMax != max) return true;
        var flight = (int)(_sndMax - _sndUna);
        var length = Math.Min(Math.Min(_mss - (_timestamps ? TimestampsLength : 0), flight), _send.Count);
        var sequence = _sndMax - (uint)length;
        var offset = (int)(sequence - _bufferSeq);
        if (length <= 0 || offset < 0 || offset + length > _send.Count) return false;
        if (SendSegment(sequence, TcpSegmentFlags.Ack | TcpSegmentFlags.Psh, offset, length) is SendStatus.Blocked) return false;
        CountRetransmission();
        return true;
    }

    private bool OnData(in TcpSegment segment)
    {
        var payload = segment.Payload;
        var sequence = segment.Sequence;
        if (State is not (TcpState.Established or TcpState.FinWait1 or TcpState.FinWait2))
        {
            // Data or FIN after the peer's FIN (a retransmission): acknowledge again. In
            // TIME-WAIT the peer's FIN again says our last ACK was lost: the wait starts over
            // (RFC 9293 3.10.7.4), or its next retransmission met a reset.
            SendSegment(_sndNxt, TcpSegmentFlags.Ack, 0, 0);
            if (State == TcpState.TimeWait && segment.Has(TcpSegmentFlags.Fin)) EnterTimeWait();
            return true;
        }
        if (After(sequence, _rcvNxt))
        {
            var held = Hold(sequence, payload, segment.Has(TcpSegmentFlags.Fin));
            _quickAcks = QuickAcks; // the sender is recovering: no holds for a while
            SendSegment(_sndNxt, TcpSegmentFlags.Ack, 0, 0); // duplicate ACK at once (RFC 5681 4.2): the sender fills the gap
            return held;
        }
        // Unsigned: a sequence number exactly half the space away is neither after nor (as a
        // signed difference) before; it is no byte of this window either.
        var behind = _rcvNxt - sequence;
        if (behind > (uint)payload.Length || (behind == (uint)payload.Length && !segment.Has(TcpSegmentFlags.Fin)))
        {
            _quickAcks = QuickAcks; // the sender timed out or lost our ACK: no holds for a while
            SendSegment(_sndNxt, TcpSegmentFlags.Ack, 0, 0); // an old duplicate
            return true;
        }
        var skip = (int)behind;
        // RFC 7323 4.3: TS.Recent comes from the segment the next ACK acknowledges first, so an
        // owed (stretch) ACK echoes the earliest segment it covers, not the latest.
        if (_timestamps && segment.TryGetTimestamps(out var peerClock, out var echoed))
        {
            if (_owedSegments == 0) _tsRecent = peerClock;
            // Full-sized (the largest seen, Linux's rcv_mss): a short one may have waited on the
            // sender's application.
            if (payload.Length >= Math.Max(_rcvMss, _mss - 40)) MeasureReceiveRoundTrip(echoed);
            _rcvMss = Math.Max(_rcvMss, payload.Length);
        }
        var fresh = payload.Slice(skip);
        var accepted = _receive.Write(fresh);
        _rcvNxt += (uint)accepted;
        if (accepted == fresh.Length)
        {
            if (segment.Has(TcpSegmentFlags.Fin)) _heldFin = _rcvNxt;
            else Release();
        }
        if (_rcvNxt != sequence + (uint)skip) WakeReaders();
        // At once: a FIN, a full buffer, a gap filled or still open (RFC 5681 4.2: the sender is
        // recovering and needs every ACK). Otherwise owed to the end of the batch, if there is one.
        var now = segment.Has(TcpSegmentFlags.Fin) || accepted < fresh.Length || _rcvNxt != sequence + (uint)payload.Length || _held is { Count: > 0 };
        if (_heldFin == _rcvNxt) ReceiveFin();
        // Its ACK may be held for a second segment if it is full-sized and asks for nothing at once:
        // no PSH (the end of what the peer's application wrote), and data flowing (the first data
        // after a pause longer than the retransmission floor is acknowledged at the batch's end, as
        // Linux's quick-ACK mode does: the peer may be restarting from one segment after a timeout).
        var clock = _stack.Time.GetTimestamp();
        var flowing = _largestSegment > 0 && clock - _lastDataAt < _pauseTicks; // data came before, and lately
        _lastDataAt = clock;
        _largestSegment = Math.Max(_largestSegment, payload.Length);
        var quick = _quickAcks > 0;
        if (quick) _quickAcks--;
        // And the peer may send a second one: the window it was last told leaves room for it.
        var room = (int)(_windowEdge - _rcvNxt);
        AcknowledgeData(accepted, now, holdable: flowing && !quick && room >= _largestSegment && payload.Length >= _largestSegment && !segment.Has(TcpSegmentFlags.Psh));
        return true;
    }

    // Acknowledges data just taken: now, or once at the end of the thread's batch (AcknowledgmentBatch),
    // or — one full-sized segment's worth — when a second comes or the delay runs out.
    private void AcknowledgeData(int bytes, bool now, bool holdable)
    {
        if (!now && !_finReceived)
        {
            _owedBytes += bytes;
            _owedSegments++;
            _owedHoldable = holdable;
            if (_owedBytes < _receive.Capacity / 4 && (_ackOwed || (_ackOwed = AcknowledgmentBatch.Defer(this)))) return;
        }
        SendSegment(_sndNxt, TcpSegmentFlags.Ack, 0, 0);
    }

    // New data acknowledged: the peer (or the router on the way) is reachable, RFC 4861 7.3.1 — its
    // neighbour entry is not probed while the connection makes progress. Once a second at most.
    private void ConfirmProgress()
    {
        var now = _stack.Time.GetTimestamp();
        if (_progressConfirmed && now - _progressConfirmedAt < _stack.Time.TimestampFrequency) return;
        _progressConfirmed = true;
        _progressConfirmedAt = now;
        _stack.ConfirmProgress(Remote.Address);
    }

    /// <summary>The ACK owed will not be sent by the batch (a connection before it in the batch threw): the next data is acknowledged afresh (an ACK held from an earlier batch is forgotten too).</summary>
    internal void ForgetOwedAcknowledgment()
    {
        lock (_sync) ClearOwed();
    }

    // Nothing is owed any more (an ACK went, or the batch will not send it).
    private void ClearOwed()
    {
        _ackOwed = false;
        _owedBytes = 0;
        _owedSegments = 0;
        _owedHoldable = false;
        _delayedAckAt = 0;
    }

    /// <summary>The batch this connection owed an ACK in has ended: the ACK goes, unless a segment sent since carried it.</summary>
    internal void SendOwedAcknowledgment()
    {
        lock (_sync)
        {
            if (!_ackOwed) return;
            if (State is TcpState.Closed or TcpState.SynSent)
            {
                ClearOwed();
                return;
            }
            if (_owedSegments == 1 && _owedHoldable && _delayedAckTicks > 0)
            {
                // Delayed ACK (RFC 1122 4.2.3.2, RFC 5681 4.2): at least every second full-sized
                // segment is acknowledged, and none later than the delay. The batch is over, so
                // the next segment's batch or the timer sends it.
                _ackOwed = false;
                if (_delayedAckAt == 0)
                {
                    _delayedAckAt = _stack.Time.GetTimestamp() + _delayedAckTicks;
                    _stack.ConnectionTimerArmed(_delayedAckAt);
                    _stack.TimerArmed?.Invoke();
                }
                return;
            }
            SendSegment(_sndNxt, TcpSegmentFlags.Ack, 0, 0);
        }
    }

    private void ReceiveFin()
    {
        _heldFin = null;
        _held?.Clear();
        _rcvNxt += 1;
        _finReceived = true;
        WakeReaders();
        switch (State)
        {
            case TcpState.Established: State = TcpState.CloseWait; break;
            case TcpState.FinWait1: State = _finSent && _sndUna == _finSeq + 1 ? TcpState.TimeWait : TcpState.Closing; break;
            case TcpState.FinWait2: EnterTimeWait(); break;
        }
        if (State == TcpState.TimeWait) EnterTimeWait();
    }

    // Holds a segment that starts beyond _rcvNxt: the part inside the receive window, merged with
    // the ranges already held; false (dropped) when none of it fits or it would make one range
    // too many.
    private bool Hold(uint sequence, ReadOnlySpan<byte> payload, bool fin)
    {
        var window = (uint)_receive.Free;
        var offset = sequence - _rcvNxt;
        if (offset >= window) return false;
        var length = (int)Math.Min((uint)payload.Length, window - offset);
        if (length == 0 && !fin) return false;
        _held ??= new List<(uint Start, uint End)>();
        // A FIN alone needs no range; data does, and one range too many is refused.
        if (length > 0 && !AddRange(_held, sequence, sequence + (uint)length)) return false;
        _lastHeld = sequence;
        if (length > 0)
        {
            _reassembly ??= new byte[(int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)_receive.Capacity)];
            var mask = (uint)_reassembly.Length - 1;
            var first = Math.Min(length, _reassembly.Length - (int)(sequence & mask));
            payload.Slice(0, first).CopyTo(_reassembly.AsSpan((int)(sequence & mask)));
            payload.Slice(first, length - first).CopyTo(_reassembly);
        }
        if (fin && length == payload.Length) _heldFin = sequence + (uint)length;
        StackCounters.AddShared(ref _stack.Counters._outOfOrderHeld);
        return true;
    }

    // Merges [start, end) into `ranges` (sorted, disjoint, compared modulo 2^32) together with
    // every range it overlaps or touches; false when it touches none and the list already holds
    // MaxOutOfOrderRanges. The out-of-order queue and the SACK scoreboard keep their ranges so.
    private static bool AddRange(List<(uint Start, uint End)> ranges, uint start, uint end)
    {
        var at = 0;
        var merged = false;
        for (var i = 0; i < ranges.Count;)
        {
            var (s, e) = ranges[i];
            if (Before(e, start)) { at = i + 1; i++; continue; }
            if (After(s, end)) break;
            start = Before(s, start) ? s : start;
            end = After(e, end) ? e : end;
            ranges.RemoveAt(i);
            merged = true;
        }
        if (!merged && ranges.Count >= MaxOutOfOrderRanges) return false;
        ranges.Insert(at, (start, end));
        return true;
    }

    // Moves the held data that now continues the stream into the receive buffer.
    private void Release()
    {
        if (_held is not { Count: > 0 } held) return;
        var mask = (uint)_reassembly!.Length - 1;
        var released = 0; // ranges taken, removed at once at the end (one at a time from the front was quadratic)
        while (released < held.Count && !After(held[released].Start, _rcvNxt))
        {
            var end = held[released].End;
            while (After(end, _rcvNxt))
            {
                var from = (int)(_rcvNxt & mask);
                var chunk = Math.Min((int)(end - _rcvNxt), _reassembly.Length - from);
                var written = _receive.Write(_reassembly.AsSpan(from, chunk));
                _rcvNxt += (uint)written;
                if (written < chunk)
                {
                    held[released] = (_rcvNxt, end); // the buffer is full: the rest waits
                    held.RemoveRange(0, released);
                    return;
                }
            }
            released++;
        }
        held.RemoveRange(0, released);
    }

    // Sends what the state, the peer's window and the congestion window allow.
    private void Output()
    {
        switch (State)
        {
            case TcpState.SynSent or TcpState.SynReceived:
                if (_sndNxt == _iss)
                {
                    if (SendSegment(_iss, State == TcpState.SynSent ? TcpSegmentFlags.Syn : TcpSegmentFlags.Syn | TcpSegmentFlags.Ack, 0, 0) is SendStatus.Blocked) { BlockOutput(); return; }
                    _synSentAt = _stack.Time.GetTimestamp();
                    if (_synSends == 0) _firstSynAt = _synSentAt;
                    _synSends++;
                    _sndNxt = _iss + 1;
                    _sndMax = After(_sndNxt, _sndMax) ? _sndNxt : _sndMax;
                    Arm();
                }
                return;
            case TcpState.Established or TcpState.CloseWait or TcpState.FinWait1 or TcpState.Closing or TcpState.LastAck:
                break;
            default:
                return;
        }
        RestartAfterIdle();
        var window = Math.Min(_sndWnd, _cwnd);
        while (true)
        {
            // A go-back (after a timeout) skips what the peer SACKed since, and in a SACK recovery
            // what the hole scan sent already (RFC 6675 5.1, as Linux's loss state): it sent
            // already-SACKed data again, uncounted, and holes twice (found by review).
            var unsacked = Before(_sndNxt, _sndMax) && _scoreboard is { Count: > 0 } ? SkipSacked() : int.MaxValue;
            var offset = (int)(_sndNxt - _bufferSeq);
            var pending = _send.Count - offset;
            if (pending <= 0) break;
            // In a SACK recovery new data goes only as proportional rate reduction lets (RecoverySend).
            var room = _inRecovery ? Math.Min(_sndWnd - (int)(_sndNxt - _sndUna), _recoveryBudget) : window - (int)(_sndNxt - _sndUna);
            if (room <= 0) break;
            var full = _mss - (_timestamps ? TimestampsLength : 0);
            var length = Math.Min(Math.Min(Math.Min(pending, full), room), unsacked);
            // Sender-side silly window avoidance (RFC 9293 3.8.6.2.1): a piece smaller than a full
            // segment, with more data behind it, waits while data is in flight (its ACK will open
            // more room) — unless it is half the largest window the peer has offered (a peer with
            // a small buffer). Without it a congestion window that is not a multiple of the
            // segment size cut the stream into a 12-byte and a 1,436-byte segment, each acked.
            if (length < full && length < pending && _sndNxt != _sndUna && length < _maxSndWnd / 2) break;
            // Pacing (as Linux paces its flows): new segments leave at twice the window per round
            // trip, not in one burst per round trip — a burst makes its own ACKs queue behind it
            // on a shared link, and the link idles while they come back.
            var now = _stack.Time.GetTimestamp();
            // Held only while data is in flight: with nothing out, the segment goes now (an ACK
            // that cleared the flight, a go-back after a timeout).
            if (now < _pacedUntil && _sndNxt != _sndUna)
            {
                if (!_pacingWait)
                {
                    _pacingWait = true;
                    _stack.ConnectionTimerArmed(_pacedUntil);
                    _stack.TimerArmed?.Invoke();
                }
                break;
            }
            _pacingWait = false;
            // PSH on the segment that empties what the application wrote (RFC 9293 3.9.1.2), as
            // Linux does: the segments of a burst before it can be joined (GRO, a TAP's coalescing).
            var flags = length == pending ? TcpSegmentFlags.Ack | TcpSegmentFlags.Psh : TcpSegmentFlags.Ack;
            if (SendSegment(_sndNxt, flags, offset, length) is SendStatus.Blocked) { BlockOutput(); return; }
            // Paced on virtual time only: the threaded mode's workers wake once a poll interval
            // (a millisecond), far coarser than a segment's turn, so a paced sender there would
            // send one segment a wake-up.
            if (_stack.Time is VirtualClock && _rtt.SmoothedSeconds is var srtt && srtt > 0)
            {
                // Bytes per timestamp tick at 2 × cwnd / srtt.
                var ticks = (length + 66) * srtt * _stack.Time.TimestampFrequency / (2.0 * _cwnd);
                _pacedUntil = Math.Max(now, _pacedUntil) + (long)ticks;
            }
            if (!_timing && !Before(_sndNxt, _sndMax))
            {
                // New data, and none timed: this segment's round trip is measured.
                _timing = true;
                _timedAt = now;
                _timedEnd = _sndNxt + (uint)length;
            }
            _sndNxt += (uint)length;
            _sndMax = After(_sndNxt, _sndMax) ? _sndNxt : _sndMax;
            if (_inRecovery)
            {
                _recoveryBudget -= length; // what proportional rate reduction let go is spent,
                _prrOut += length;         // and counted as sent in the recovery (a go-back's old data too)
            }
            DataSent(now);
            Arm();
        }
        var allSent = _sndNxt == _bufferSeq + (uint)_send.Count;
        if (_finQueued && allSent && (!_finSent || !After(_sndNxt, _finSeq)))
        {
            if (!_finSent)
            {
                _finSeq = _sndNxt;
                _finSent = true;
                State = State == TcpState.CloseWait ? TcpState.LastAck : TcpState.FinWait1;
            }
            if (SendSegment(_finSeq, TcpSegmentFlags.Fin | TcpSegmentFlags.Ack, 0, 0) is SendStatus.Blocked) { BlockOutput(); return; }
            _sndNxt = _finSeq + 1;
            _sndMax = After(_sndNxt, _sndMax) ? _sndNxt : _sndMax;
            Arm();
        }
        else if (_sndWnd == 0 && _send.Count > (int)(_sndNxt - _bufferSeq) && _sndNxt == _sndUna)
        {
            Arm(); // the persist timer
        }
    }

    // Moves SND.NXT (going back) past what the hole scan sent and SACKed data it stands in: the
    // bytes from there to the next SACKed range.
    private int SkipSacked()
    {
        if (_inRecovery && After(_rexmitNext, _sndNxt) && !After(_rexmitNext, _sndMax)) _sndNxt = _rexmitNext;
        foreach (var (start, end) in _scoreboard!)
        {
            if (!After(end, _sndNxt)) continue;
            if (After(start, _sndNxt)) return (int)(start - _sndNxt);
            _sndNxt = end; // inside a SACKed range (the board's ranges are disjoint and sorted)
        }
        return int.MaxValue;
    }

    // Restarting after idle (RFC 5681 4.1, as Linux's tcp_slow_start_after_idle): a sender that
    // sent no data for longer than the retransmission timeout, with nothing in flight, has an ACK
    // clock no more and a window measured on a network that may have changed since: it starts
    // again from at most the initial window, in slow start up to the threshold it had.
    private void RestartAfterIdle()
    {
        if (!_sentData || _sndNxt != _sndUna || _sndUna != _sndMax || _send.Count <= (int)(_sndNxt - _bufferSeq)) return;
        var initial = InitialWindowSegments * _mss;
        if (_cwnd <= initial) return;
        var idle = _stack.Time.GetTimestamp() - _lastDataSentAt;
        if (idle <= _rtt.Timeout.TotalSeconds * _stack.Time.TimestampFrequency) return;
        _ssthresh = Math.Max(_ssthresh, _cwnd / 4 * 3); // Linux's tcp_cwnd_restart keeps ¾ of the window as the threshold
        _cwnd = initial;
        _avoidanceBytes = 0;
        _cubic?.Restart(); // the next epoch starts where avoidance resumes
    }

    // Data left (new, again, or a probe): the restart after idle counts from here, as Linux's lsndtime does.
    private void DataSent(long now)
    {
        _lastDataSentAt = now;
        _sentData = true;
        ArmTailLossProbe(now);
    }

    // A tail-loss probe (RFC 8985 7): when the last segments of a flight are lost, no ACK comes to
    // tell, and only the retransmission timeout would. Two smoothed round trips (at least 10 ms;
    // 200 ms more for a lone segment, whose ACK the peer may hold) after data last left, with no
    // ACK moving SND.UNA meanwhile, one segment goes: new data if the windows allow, else the
    // last one again — its ACK (a SACK, a duplicate) then starts the recovery. Once a flight;
    // only with timestamps (a measured round trip); not in a recovery or after a timeout.
    private void ArmTailLossProbe(long now)
    {
        if (!MayProbe || !_rtt.Measured) return;
        var at = now + Ticks(Math.Max(2 * _rtt.SmoothedSeconds, 0.010) + ((int)(_sndMax - _sndUna) <= _mss ? 0.2 : 0));
        if (_retransmitAt != 0 && at >= _retransmitAt)
        {
            _tlpAt = 0; // the timeout comes first anyway (and an earlier probe time is past its flight)
            return;
        }
        var armed = _tlpAt != 0;
        _tlpAt = at;
        if (!armed) Schedule(_tlpAt); // moved later: the stack's walk, due no later, looks again then (no call a segment)
    }

    // Whether a tail-loss probe may go now: with timestamps, data out, once a flight, not in a
    // recovery (or on its way into one) or after a timeout.
    // Not with SACKed data out either (Linux probes only in its Open state): the last segment
    // sent again may be one the peer holds already (found by a test of what goes after a timeout).
    // (Not while a timeout's go-back is still under way either — Linux's Loss state: SND.NXT below
    // SND.MAX — nor before its flight is acknowledged: a review found the probe's one segment more
    // could then be a burst of the go-back's.)
    private bool MayProbe => _timestamps && !_tlpSpent && !_inRecovery && !_dupAckRepair && _retries == 0 && !_slowRepair && _sndNxt == _sndMax && _sndMax != _sndUna && _scoreboard is not { Count: > 0 };

    private long _tlpAt;   // when the tail-loss probe goes (0: not armed)
    private bool _tlpSpent; // one probe a flight: set when it went, cleared when an ACK moves SND.UNA

    private void RetransmitFromUna()
    {
        // Going back forgets the scoreboard: the peer may have discarded what it SACKed (RFC 2018 8).
        _scoreboard?.Clear();
        EndRecovery();
        _reorderAt = 0; // what a reorder or retransmission watch was for is going again anyway
        _tlpAt = 0;
        _sndNxt = _sndUna;
        _retransmitAt = 0;
        CountRetransmission();
        Output();
    }

    // The outbound VSQ refused a segment: each of the stack's ticks tries again until it takes it.
    private void BlockOutput()
    {
        _outputBlocked = true;
        _stack.OutputRetryWanted();
    }

    /// <summary>True while a segment the outbound VSQ refused waits to be tried again (by <see cref="OnTimer"/>).</summary>
    internal bool OutputBlocked => Volatile.Read(ref _outputBlocked);

    private void Arm()
    {
        if (_retransmitAt == 0 && (_sndMax != _sndUna || (_sndWnd == 0 && _send.Count > 0)))
        {
            _retransmitAt = _stack.Time.GetTimestamp() + (long)(_rtt.Timeout.TotalSeconds * _stack.Time.TimestampFrequency);
            Schedule(_retransmitAt);
        }
    }

    // The peer's window from `segment`, which acknowledged up to SND.UNA or further; the segment
    // noted as the one that set it (SND.WL1, SND.WL2).
    private void SetWindow(in TcpSegment segment, int window)
    {
        _sndWnd = window;
        _maxSndWnd = Math.Max(_maxSndWnd, _sndWnd);
        _sndWl1 = segment.Sequence;
        _sndWl2 = segment.Acknowledgment;
    }

    // RFC 9293 3.10.7.4's acceptability test, widened backwards as Linux's tcp_sequence is (by
    // its rcv_wup): the segment begins no further on than the receive window's edge, and ends no
    // further back than a buffer's worth behind RCV.NXT. A peer that went back to resend keeps
    // acknowledging from its resend point, behind what we hold (this stack does: its pure ACKs
    // carry the sequence number it resends from) — its ACKs read only at exactly RCV.NXT stalled
    // a lossy transfer until both sides gave up (found by the loss property test). The window is
    // the larger of the one last offered and the buffer's room (what the out-of-order queue takes).
    private bool Acceptable(in TcpSegment segment)
    {
        var length = (uint)segment.Payload.Length + (segment.Has(TcpSegmentFlags.Fin) ? 1u : 0u);
        var window = (uint)Math.Max(Math.Max(0, (int)(_windowEdge - _rcvNxt)), _receive.Free);
        var behind = (uint)Math.Max(window, _receive.Capacity);
        return !Before(segment.Sequence + length, _rcvNxt - behind) && !After(segment.Sequence, _rcvNxt + window);
    }

    // The peer's window in bytes: scaled, except on a SYN (RFC 7323 2.2).
    private int PeerWindow(in TcpSegment segment) =>
        segment.Has(TcpSegmentFlags.Syn) ? segment.Window : (int)Math.Min((long)segment.Window << _sndScale, int.MaxValue);

    // A segment, or half the buffer — and never more than the buffer can offer at all: under a
    // large scale a small buffer's whole window may be one unit, less than half of it, and a rule
    // wanting more kept the window shut for good (found by review).
    private int SillyWindowStep
    {
        get
        {
            var capacity = _receive.Capacity;
            var most = Math.Max(Math.Max(0, capacity - WindowReserve) >> _rcvScale, capacity >> _rcvScale == 0 ? 0 : 1) << _rcvScale;
            return Math.Min(Math.Min(_mss, capacity / 2), most);
        }
    }

    // Bytes left unoffered for the creep rounding the edge up makes (see OfferedWindowUnits).
    private int WindowReserve => _rcvScale == 0 ? 0 : Math.Min((8 << _rcvScale) - 1, _receive.Capacity / 16);

    /// <summary>
    /// The window to offer, in the scale's units (RFC 7323 2.2). A receiver SHOULD NOT move the
    /// right edge it offered left (RFC 9293 3.8.6), and the scale's rounding would, by up to a
    /// unit less a byte, as data arrives: the last edge is kept, rounded up to the unit, as
    /// Linux's tcp_select_window does, and never past what the buffer holds. Rounding up lets the
    /// edge creep forward (less than a unit an ACK) while the application reads nothing, so the
    /// window the free bytes give leaves up to eight units of them unoffered (a sixteenth of the
    /// buffer at most) for that creep: an application eight or more ACKs behind can still see the
    /// edge move left, by less than a unit. A buffer too small for the reserve to leave a window
    /// offers what it has.
    /// </summary>
    private int OfferedWindowUnits()
    {
        var free = _receive.Free;
        var reserve = WindowReserve;
        var units = Math.Max(0, free - reserve) >> _rcvScale;
        if (units == 0) units = free >> _rcvScale;
        var open = (long)(int)(_windowEdge - _rcvNxt); // what the last segment left open
        if (open > (long)units << _rcvScale) units = (int)Math.Min((open + (1L << _rcvScale) - 1) >> _rcvScale, free >> _rcvScale);
        else if (((long)units << _rcvScale) - Math.Max(open, 0) < SillyWindowStep)
        {
            // Receiver-side silly window avoidance (RFC 1122 4.2.3.3, RFC 9293 3.8.6.2.2): the
            // right edge moves on only by a segment, or half the buffer, at once. A window shut and
            // opened by reads of 100 bytes was offered 100 bytes at a time, and the sender sent
            // 100-byte segments into it (found by review).
            units = (int)Math.Min((Math.Max(open, 0) + (1L << _rcvScale) - 1) >> _rcvScale, free >> _rcvScale);
        }
        return Math.Min(units, 65535);
    }

    /// <summary>The shift this side offers: the smallest that fits the receive buffer, grown to its limit, in the 16-bit window field (as Linux's from tcp_rmem's maximum).</summary>
    private int OwnWindowScale => WindowScaleFor(_bufferLimit);

    /// <summary>The window scale a connection whose receive buffer may grow to <paramref name="bufferLimit"/> offers.</summary>
    internal static int WindowScaleFor(int bufferLimit)
    {
        var shift = 0;
        while (shift < 14 && bufferLimit >> shift > 65535) shift++;
        return shift;
    }

    /// <summary>The receive buffer's size now, bytes (grown by autotuning from <see cref="StackSettings.TcpBuffer"/>).</summary>
    internal int ReceiveBufferSize => _receive.Capacity;

    /// <summary>The round trip receive-buffer autotuning works with; null while unknown.</summary>
    internal TimeSpan? ReceiveRoundTrip => _rcvRtt == 0 ? null : TimeSpan.FromSeconds((double)_rcvRtt / _stack.Time.TimestampFrequency);

    // Linux's tcp_disordered_ack: a duplicate ACK (at RCV.NXT, acknowledging exactly SND.UNA, the
    // window unchanged) that a later one overtook is no old duplicate from a wrapped sequence
    // space: PAWS lets it through (within a retransmission timeout of TS.Recent), so reordered
    // duplicate ACKs still count towards fast retransmit now that pure ACKs move TS.Recent.
    private bool DisorderedAck(in TcpSegment segment, uint stamp) =>
        segment.Payload.Length == 0 && segment.Has(TcpSegmentFlags.Ack) && (segment.Flags & (TcpSegmentFlags.Syn | TcpSegmentFlags.Fin)) == 0
        && segment.Sequence == _rcvNxt && segment.Acknowledgment == _sndUna && PeerWindow(segment) == _sndWnd
        && (int)(_tsRecent - stamp) <= _rtt.Timeout.TotalMilliseconds;

    // A full-sized segment echoes the timestamp of an ACK this side sent: the time since is a
    // round trip as the receiver sees it (Linux's tcp_rcv_rtt_measure_ts), so a path that grew
    // slower after the handshake is learned; a moving average, an eighth a sample. The stamps
    // tick in milliseconds: below two ticks a sample says only "under 2 ms", which corrects an
    // estimate above that but leaves a finer one (the handshake's, timed on the stack's clock);
    // with none (a handshake no SYN timed), it is taken as the resolution.
    private void MeasureReceiveRoundTrip(uint echo)
    {
        // Each stamp once (Linux's rcv_rtt_last_tsecr): the segments of one flight echo the same
        // ACK's, and after an idle spell they all would add the spell.
        if (echo == 0 || echo == _lastEchoSampled || echo == _cookieStamp) return;
        _lastEchoSampled = echo;
        var milliseconds = (int)(Clock() - echo);
        if (milliseconds < 0) return;
        var frequency = _stack.Time.TimestampFrequency;
        var resolution = 2 * frequency / 1000;
        if (milliseconds < 2)
        {
            // Under the stamps' resolution: an estimate above it comes down; once at it, the
            // handshake's finer round trip (if it timed one under the resolution) stands again.
            if (_rcvRtt == 0)
            {
                // No estimate yet (a handshake timed by no SYN: sent again, or a SYN cookie's):
                // under the resolution is taken as the resolution.
                _rcvRtt = resolution;
                _rcvRttFromStamps = true;
                return;
            }
            if (_rcvRtt <= resolution) return;
            _rcvRtt += (Math.Max(milliseconds * frequency / 1000, 1) - _rcvRtt) / 8;
            if (_rcvRtt <= resolution && _handshakeRtt != 0 && _handshakeRtt <= resolution)
            {
                _rcvRtt = _handshakeRtt;
                _rcvRttFromStamps = false;
            }
            return;
        }
        var sample = milliseconds * frequency / 1000;
        _rcvRtt = _rcvRtt == 0 ? sample : _rcvRtt + (sample - _rcvRtt) / 8;
        _rcvRttFromStamps = true;
    }

    // Established: a SYN that left once timed the round trip on the stack's own clock.
    private void TimeHandshake()
    {
        if (_synSends != 1) return;
        _rcvRtt = _handshakeRtt = Math.Max(_stack.Time.GetTimestamp() - _synSentAt, 1);
        // Where no timestamps will measure the data's round trips, the handshake's sets the first
        // flight's timer as a first sample would (RFC 6298 2.2, as Linux's SYN round trip).
        if (!_timestamps) _rtt.Seed(_handshakeRtt / (double)_stack.Time.TimestampFrequency);
    }

    // After the application read `n` bytes: once a round trip, grows the buffer to twice what
    // it read in that round trip, with room for 16 more segments (Linux's tcp_rcv_space_adjust).
    private void AdjustReceiveSpace(int n)
    {
        if (_bufferLimit <= _receive.Capacity) return;
        var now = _stack.Time.GetTimestamp();
        if (!_copying)
        {
            // The handshake's round trip (none if a SYN went twice), or the smoothed one of what
            // this side sends, whichever is shorter: taken for the whole measure. Once the data's
            // echoes measure it, that round trip alone (the smoothed one may come from nothing but
            // the handshake's last ACK).
            var smoothed = _rtt.Measured ? Math.Max((long)(_rtt.SmoothedSeconds * _stack.Time.TimestampFrequency), 1) : 0;
            _measureRtt = _rcvRttFromStamps || smoothed == 0 ? _rcvRtt : _rcvRtt == 0 ? smoothed : Math.Min(_rcvRtt, smoothed);
            if (_measureRtt == 0) return;
            _copying = true;
            _copiedSince = now;
        }
        _copied += n;
        var rtt = _measureRtt;
        var elapsed = now - _copiedSince;
        if (elapsed < rtt) return;
        // The out-of-order queue is a buffer of the window's size, addressed by sequence number:
        // resized only while it holds nothing (the measure goes on until then).
        if (_held is { Count: > 0 }) return;
        // What it reads in one round trip: an application that read nothing for a while and
        // then a buffer at once read that buffer over the whole while, not in one round trip.
        var copied = (int)Math.Min((long)_copied * rtt / elapsed, int.MaxValue);
        _copied = 0;
        _copying = false; // the next read starts the next measure
        if (copied <= _rcvSpace) return;
        _rcvSpace = copied;
        // At least doubled: a few large steps, not a copy of the buffer every round trip.
        var capacity = _receive.Capacity;
        var wanted = (long)copied * 2 + 16L * _mss;
        if (wanted <= capacity) return;
        var size = (int)Math.Min(Math.Max(wanted, 2L * capacity), _bufferLimit);
        if (!_stack.TryTakeBufferGrowth(size - capacity)) return; // the stack's budget is spent
        _receive.Grow(size);
        Interlocked.Add(ref _growth, size - capacity);
        if (_reassembly is { } reassembly && reassembly.Length < size) _reassembly = null; // taken again, at the new size, with the next gap
    }

    private SendStatus SendSegment(uint sequence, TcpSegmentFlags flags, int offset, int length)
    {
        var syn = (flags & TcpSegmentFlags.Syn) != 0;
        // A SYN offers MSS, window scaling, SACK and timestamps (a SYN-ACK what the peer's SYN
        // offered); once both sides did, every segment carries timestamps, and a pure ACK the
        // held ranges.
        var active = State == TcpState.SynSent;
        var stamped = (syn && active) || _timestamps; // a SYN-ACK only when the SYN offered them (RFC 7323 3.2)
        var offerSack = syn && (active ? _stack.Settings.SelectiveAcknowledgment : _sack);
        var offerScale = syn && (active || _scaling);
        var sackBlocks = !syn && _sack && length == 0 && (flags & TcpSegmentFlags.Rst) == 0 && _held is { Count: > 0 } held
            ? Math.Min(held.Count, _timestamps ? 3 : 4) : 0;
        var headerLength = 20 + (syn ? 4 : 0) + (offerScale ? 4 : 0) + (offerSack ? 4 : 0) + (stamped ? TimestampsLength : 0) + (sackBlocks > 0 ? 4 + 8 * sackBlocks : 0);
        var frame = _stack.BuildIp(_local, Remote.Address, IpProtocol.Tcp, headerLength + length, out var tcp, dontFragment: !_fragmentable);
        if ((flags & TcpSegmentFlags.Ack) != 0)
        {
            ClearOwed(); // this segment acknowledges everything received
        }
        if (flags is TcpSegmentFlags.Ack or (TcpSegmentFlags.Rst | TcpSegmentFlags.Ack) && length == 0 && After(sequence, _sndUna + (uint)_sndWnd))
        {
            // A pure ACK past the peer's window (SND.NXT beyond a zero-window probe's byte) says
            // the window's end instead, as Linux's tcp_acceptable_seq: the peer would drop it as
            // out of its window, and the ACK and window update in it with it.
            sequence = _sndUna + (uint)_sndWnd;
        }
        BinaryPrimitives.WriteUInt16BigEndian(tcp, LocalPort);
        BinaryPrimitives.WriteUInt16BigEndian(tcp.Slice(2), Remote.Port);
        BinaryPrimitives.WriteUInt32BigEndian(tcp.Slice(4), sequence);
        BinaryPrimitives.WriteUInt32BigEndian(tcp.Slice(8), (flags & TcpSegmentFlags.Ack) != 0 ? _rcvNxt : 0);
        tcp[12] = (byte)(headerLength / 4 << 4);
        tcp[13] = (byte)flags;
        var advertised = (ushort)(syn ? Math.Min(_receive.Free, 65535) : OfferedWindowUnits());
        BinaryPrimitives.WriteUInt16BigEndian(tcp.Slice(14), advertised);
        _windowEdge = _rcvNxt + ((uint)advertised << (syn ? 0 : _rcvScale));
        BinaryPrimitives.WriteUInt32BigEndian(tcp.Slice(16), 0);
        if (syn)
        {
            tcp[20] = 2;
            tcp[21] = 4;
            BinaryPrimitives.WriteUInt16BigEndian(tcp.Slice(22), (ushort)(_stack.Mtu - (Remote.Address.IsV6 ? 60 : 40)));
        }
        if (stamped)
        {
            var at = syn ? 24 : 20;
            tcp[at] = 1;
            tcp[at + 1] = 1;
            tcp[at + 2] = 8;
            tcp[at + 3] = 10;
            BinaryPrimitives.WriteUInt32BigEndian(tcp.Slice(at + 4), Clock());
            BinaryPrimitives.WriteUInt32BigEndian(tcp.Slice(at + 8), (flags & TcpSegmentFlags.Ack) != 0 ? _tsRecent : 0);
        }
        var next = 20 + (syn ? 4 : 0) + (stamped ? TimestampsLength : 0);
        if (offerScale)
        {
            tcp[next] = 1;
            tcp[next + 1] = 3; // window scale
            tcp[next + 2] = 3;
            tcp[next + 3] = (byte)OwnWindowScale;
            next += 4;
        }
        if (offerSack)
        {
            tcp[next] = 1;
            tcp[next + 1] = 1;
            tcp[next + 2] = 4; // SACK-permitted
            tcp[next + 3] = 2;
        }
        if (sackBlocks > 0) WriteSackBlocks(tcp.Slice(next), sackBlocks);
        // The payload is summed as it is copied in (one pass), the header after.
        var payloadSum = length > 0 ? _send.PeekAndAdd(offset, tcp.Slice(headerLength, length), 0) : 0;
        NetworkStack.SealTransport(frame, 16, headerLength, payloadSum);
        var reset = (flags & TcpSegmentFlags.Rst) != 0;
        var pure = length == 0 && (flags & (TcpSegmentFlags.Syn | TcpSegmentFlags.Fin)) == 0 && !reset;
        var status = _stack.Send(frame, Remote.Address, reply: pure);
        if (reset && status is SendStatus.Sent or SendStatus.Queued) StackCounters.AddShared(ref _stack.Counters._resets);
        // A RST is the last this connection sends: refused, it waits in the stack and goes as the
        // output takes it (as a reply it was dropped, and the peer stayed established for ever).
        else if (reset && status == SendStatus.Blocked) _stack.ResetRefused(frame);
        return status;
    }

    // NOP, NOP, kind 5, length, then the held ranges: the most recent first (RFC 2018 4), then
    // the others in sequence order.
    private void WriteSackBlocks(Span<byte> into, int count)
    {
        var held = _held!;
        into[0] = 1;
        into[1] = 1;
        into[2] = 5;
        into[3] = (byte)(2 + 8 * count);
        var first = 0;
        for (var i = 0; i < held.Count; i++)
        {
            if (!Before(_lastHeld, held[i].Start) && Before(_lastHeld, held[i].End)) first = i;
        }
        var written = 0;
        for (var i = -1; i < held.Count && written < count; i++)
        {
            var index = i < 0 ? first : i;
            if (i >= 0 && i == first) continue;
            BinaryPrimitives.WriteUInt32BigEndian(into.Slice(4 + 8 * written), held[index].Start);
            BinaryPrimitives.WriteUInt32BigEndian(into.Slice(8 + 8 * written), held[index].End);
            written++;
        }
    }

    // The timestamp clock: milliseconds on the host's clock (RFC 7323 allows 1 ms to 1 s a tick).
    // Plus one, so a clock that starts at zero never sends the "no echo" value.
    private uint Clock() => ClockOf(_stack.Time);

    /// <summary>The timestamp clock TCP sends (RFC 7323): milliseconds of <paramref name="time"/>, from 1 (0 would read as no echo).</summary>
    internal static uint ClockOf(TimeProvider time) => (uint)(time.GetTimestamp() * 1000 / time.TimestampFrequency) + 1;

    // An echo identifies the segment it answers, so even a segment sent again is measured
    // correctly (Karn's rule alone would leave go-back-N without samples).
    private void SampleRoundTrip(uint echo)
    {
        if (echo == 0 || echo == _cookieStamp) return;
        _rtt.Sample((uint)(Clock() - echo) / 1000.0);
    }

    /// <summary>Challenge ACKs sent (RFC 5961), and those the stack's rate limit held back.</summary>
    internal long ChallengeAcks { get; private set; }

    // The peer's view of us, rate-limited per stack (RFC 5961 7).
    private void ChallengeAck()
    {
        if (!_stack.TakeChallengeToken()) return;
        ChallengeAcks++;
        SendSegment(_sndNxt, TcpSegmentFlags.Ack, 0, 0);
    }

    /// <summary>What the handshake settled: window scaling (and the peer's shift), SACK and timestamps.</summary>
    internal (bool Scaling, int PeerScale, bool Sack, bool Timestamps) Negotiated
    {
        get { lock (_sync) return (_scaling, _sndScale, _sack, _timestamps); }
    }

    /// <summary>The most payload and options a segment it sends carries now (its MSS, lowered by path MTU discovery).</summary>
    internal int SendMss
    {
        get { lock (_sync) return _mss; }
    }

    /// <summary>
    /// Path MTU discovery (RFC 1191, RFC 8201): a router on the way said a segment starting at
    /// <paramref name="sequence"/> was too big for a link of <paramref name="mtu"/> bytes. Taken
    /// only if that sequence number is one it has in flight (RFC 5927: a blind forger must guess
    /// it); the MSS shrinks to fit — never below what a 552-byte path (Linux's min_pmtu) or IPv6's
    /// 1,280 carry; an IPv4 path smaller still gets 552-byte segments without don't-fragment, for
    /// the routers to cut — and what is in flight goes again at once in the smaller segments, the
    /// window left as it was (a smaller path is not congestion: Linux's tcp_simple_retransmit; the
    /// go-back is one flight, whose duplicate ACKs do not halve it). True if it shrank;
    /// <paramref name="inFlight"/>: whether the sequence number was in flight (else nothing is taken).
    /// </summary>
    internal bool PathMtuShrank(int mtu, uint sequence, out bool inFlight)
    {
        // From the IP layer (ICMP is not serialized with the transport): the connection's lock
        // alone, as for a segment; what goes again leaves with this processor's step.
        lock (_sync)
        {
            // A handshake's segments are not resent for this (a guessed ISS would cost its measurement).
            inFlight = State is not (TcpState.Closed or TcpState.SynSent or TcpState.SynReceived) && !Before(sequence, _sndUna) && Before(sequence, _sndMax);
            if (!inFlight) return false;
            var v6 = Remote.Address.IsV6;
            // Linux locks the path at min_pmtu and clears DF: routers cut what is still too big.
            if (!ShrinkLocked(Math.Max(mtu, v6 ? 1280 : 552) - (v6 ? 60 : 40), fragmentable: !v6 && mtu < 552)) return false;
            _cwnd = Math.Max(_cwnd, 2 * _mss);
            if (_sndMax != _sndUna)
            {
                // What goes again is one flight (RFC 6582 4): its duplicate ACKs do not halve the window.
                _halvedFlight = true;
                _halvedUpTo = _sndMax;
                _dupAcks = 0;
                _dupAckRepair = false;
                RetransmitFromUna();
            }
            return true;
        }
    }

    /// <summary>
    /// The stack learned that the path to the peer carries at most <paramref name="mtu"/> bytes (a
    /// message about another packet to it): its later segments fit (Linux's tcp_sync_mss; below
    /// IPv4's 552-byte floor, <paramref name="belowFloor"/>, they go without don't-fragment). What
    /// is in flight is not sent again: a segment of it too big draws a message of its own.
    /// </summary>
    internal void PathMtuLearned(int mtu, bool belowFloor)
    {
        lock (_sync)
        {
            if (State == TcpState.Closed) return;
            var v6 = Remote.Address.IsV6;
            ShrinkLocked(mtu - (v6 ? 60 : 40), fragmentable: belowFloor && !v6);
        }
    }

    // Segments of at most `mss` bytes from now on (never larger again), and without don't-fragment
    // when `fragmentable`; true if either is new.
    private bool ShrinkLocked(int mss, bool fragmentable)
    {
        var newlyFragmentable = fragmentable && !_fragmentable;
        _fragmentable |= fragmentable;
        if (mss >= _mss) return newlyFragmentable;
        _mss = mss;
        _cwnd = Math.Max(_cwnd, 2 * _mss);
        _cubic?.Restart(); // its windows are counted in segments: a fresh epoch in the new ones
        return true;
    }

    /// <summary>
    /// An ICMP destination-unreachable about a segment of ours with <paramref name="sequence"/>:
    /// a connection still connecting whose SYN that is fails with <paramref name="error"/>
    /// (Linux's tcp_v4_err in SYN-SENT); true when it did. An open one is left to its timers.
    /// </summary>
    internal bool ConnectFailed(TcpError error, uint sequence)
    {
        lock (_sync)
        {
            // The SYN's own sequence number (RFC 5927: only what is in flight).
            return sequence == _iss && FailConnecting(error);
        }
    }

    // Under _sync: a connection still connecting, its SYN sent, ends with `error`; true when it did.
    private bool FailConnecting(TcpError error)
    {
        if (State != TcpState.SynSent || _synSends == 0) return false;
        Finish(error);
        return true;
    }

    /// <summary>
    /// The neighbour <paramref name="nextHop"/> did not resolve: a connection still connecting
    /// through it ends as unreachable, as Linux's connect() fails with EHOSTUNREACH once ARP or
    /// neighbour discovery gives up (it waited out its SYN retransmissions, and said it timed out
    /// waiting for acknowledgments no SYN could have had: found by a new user's drive). An open
    /// connection is left to its own timers, as Linux leaves it.
    /// </summary>
    internal void NeighborUnresolved(NetworkAddress nextHop, long at)
    {
        lock (_sync)
        {
            // Its first SYN was parked by the time resolution gave up (`at`): one opened since
            // resolves afresh.
            if (_firstSynAt <= at && _stack.NextHop(Remote.Address) == nextHop) FailConnecting(TcpError.Unreachable);
        }
    }

    /// <summary>Its local address went (a DHCP lease ended or was refused): closed as aborted, with no RST from an address no longer its own (RFC 2131 4.4.5).</summary>
    internal void AddressLost()
    {
        lock (_sync)
        {
            if (State != TcpState.Closed) Finish(TcpError.Aborted);
        }
    }

    /// <summary>A half-open connection pushed out of its listener's full SYN queue: forgotten without a word (no RST to a forged source); false, and nothing done, when it already left SYN-RECEIVED.</summary>
    internal bool Abandon()
    {
        lock (_sync)
        {
            if (State != TcpState.SynReceived) return false; // completed (or closed) meanwhile
            Finish(null);
            return true;
        }
    }

    /// <summary>Whether its send and receive buffers have taken memory yet (they do on the first byte).</summary>
    internal bool BuffersAllocated => _send.Allocated || _receive.Allocated;

    private void EnterTimeWait()
    {
        State = TcpState.TimeWait;
        _retransmitAt = 0;
        _outputBlocked = false; // nothing more to send: the stack's walk need not retry for it
        _timeWaitUntil = _stack.Time.GetTimestamp() + (long)((_stack.Settings.TimeWait ?? TimeSpan.FromSeconds(1)).TotalSeconds * _stack.Time.TimestampFrequency);
        _stack.ConnectionTimerArmed(_timeWaitUntil);
        _stack.TimerArmed?.Invoke();
    }

    private void Finish(TcpError? error)
    {
        State = TcpState.Closed;
        Error ??= error;
        _retransmitAt = 0;
        _outputBlocked = false;
        _stack.Forget(this);
        if (error is { } e) ApplicationContext.SetException(_connected, new TcpException(e, $"{this}: the connection {Describe(e)}"));
        else ApplicationContext.SetResult(_connected);
        FailWriters();
        WakeReaders();
    }

    private bool InReceiveWindow(uint sequence) => !Before(sequence, _rcvNxt) && Before(sequence, _rcvNxt + (uint)Math.Max(_receive.Free, 1));

    private static string Describe(TcpError error) => error switch
    {
        TcpError.Refused => "was refused (RST, or ICMP port or protocol unreachable)",
        TcpError.Reset => "was reset by the peer",
        TcpError.TimedOut => "timed out (no acknowledgment after repeated retransmissions)",
        TcpError.Aborted => "was aborted",
        TcpError.Unreachable => "could not reach the peer (host unreachable: no neighbour answered for its address or router, or a router said so)",
        _ => "is closed",
    };

    private static bool Before(uint a, uint b) => (int)(a - b) < 0;

    private static bool After(uint a, uint b) => (int)(a - b) > 0;
}
