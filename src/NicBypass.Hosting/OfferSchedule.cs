namespace NicBypass.Hosting;

/// <summary>
/// The simulation's offer schedule: which stream offers its next frame, and when — the earliest
/// first (ties: the stream that waited longest, then the lower interval's). A stream comes round
/// again one interval after its frame, so the streams of one interval keep their order: they
/// wait in a lane of their own, first in, first out, and a heap orders only the lanes' heads. The
/// same order as one heap of every stream, for a queue's cost: with 1,000 streams of one rate the
/// heap of all of them was a seventh of a simulation's run.
/// </summary>
internal sealed class OfferSchedule
{
    private readonly int[] _laneOf;   // stream → its lane (its interval's)
    private readonly Lane[] _lanes;
    private readonly PriorityQueue<(int Lane, int Version), (double At, int Lane)> _heads = new();

    /// <param name="intervals">Each stream's interval: streams with the same one share a lane.</param>
    public OfferSchedule(IReadOnlyList<double> intervals)
    {
        _laneOf = new int[intervals.Count];
        var lanes = new Dictionary<double, int>();
        for (var i = 0; i < intervals.Count; i++)
        {
            if (!lanes.TryGetValue(intervals[i], out var lane)) lanes.Add(intervals[i], lane = lanes.Count);
            _laneOf[i] = lane;
        }
        _lanes = new Lane[lanes.Count];
        for (var i = 0; i < _lanes.Length; i++) _lanes[i] = new Lane();
    }

    /// <summary>Streams waiting.</summary>
    public int Count { get; private set; }

    /// <summary>Schedules <paramref name="stream"/>'s next frame at <paramref name="at"/>.</summary>
    public void Enqueue(int stream, double at)
    {
        var index = _laneOf[stream];
        var lane = _lanes[index];
        Count++;
        if (lane.Count == 0)
        {
            lane.Append(stream, at);
            _heads.Enqueue((index, lane.Version), (at, index));
            return;
        }
        if (at >= lane.TailAt)
        {
            lane.Append(stream, at); // the usual case: one interval after the others of its lane
            return;
        }
        // Earlier than the lane's last (rounding, or a caller's own order): in its place. A new
        // head makes the heap's entry for the old one stale.
        if (lane.InsertInOrder(stream, at))
        {
            lane.Version++;
            _heads.Enqueue((index, lane.Version), (at, index));
        }
    }

    /// <summary>The next frame's stream and time; false when nothing waits.</summary>
    public bool TryDequeue(out int stream, out double at)
    {
        while (_heads.TryDequeue(out var head, out _))
        {
            var lane = _lanes[head.Lane];
            if (head.Version != lane.Version || lane.Count == 0) continue; // stale: its lane's head changed
            (stream, at) = lane.TakeHead();
            Count--;
            if (lane.Count > 0) _heads.Enqueue((head.Lane, lane.Version), (lane.HeadAt, head.Lane));
            return true;
        }
        stream = -1;
        at = 0;
        return false;
    }

    // One interval's streams in the order they come round: a ring (a power of two long) that grows as it must.
    private sealed class Lane
    {
        private (int Stream, double At)[] _items = new (int, double)[4];
        private int _head;

        public int Count { get; private set; }

        public int Version { get; set; }

        public double HeadAt => _items[_head].At;

        public double TailAt => _items[(_head + Count - 1) & (_items.Length - 1)].At;

        public void Append(int stream, double at)
        {
            if (Count == _items.Length) Grow();
            _items[(_head + Count) & (_items.Length - 1)] = (stream, at);
            Count++;
        }

        // Before the first item later than `at` (after those at the same time); true if it is now the head.
        public bool InsertInOrder(int stream, double at)
        {
            if (Count == _items.Length) Grow();
            var position = Count;
            while (position > 0 && _items[(_head + position - 1) & (_items.Length - 1)].At > at)
            {
                _items[(_head + position) & (_items.Length - 1)] = _items[(_head + position - 1) & (_items.Length - 1)];
                position--;
            }
            _items[(_head + position) & (_items.Length - 1)] = (stream, at);
            Count++;
            return position == 0;
        }

        public (int Stream, double At) TakeHead()
        {
            var item = _items[_head];
            _head = (_head + 1) & (_items.Length - 1);
            Count--;
            return item;
        }

        private void Grow()
        {
            var grown = new (int, double)[_items.Length * 2];
            for (var i = 0; i < Count; i++) grown[i] = _items[(_head + i) & (_items.Length - 1)];
            _items = grown;
            _head = 0;
        }
    }
}
