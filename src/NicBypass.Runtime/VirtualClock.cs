namespace NicBypass.Runtime;

/// <summary>
/// Virtual time for the deterministic mode: a <see cref="TimeProvider"/> that only moves when
/// told to. Timestamps are nanoseconds, so rates down to bits per second are exact.
/// </summary>
public sealed class VirtualClock(DateTimeOffset start) : TimeProvider
{
    private long _nanoseconds;

    public VirtualClock() : this(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero)) { }

    public override long TimestampFrequency => 1_000_000_000;

    public override long GetTimestamp() => Volatile.Read(ref _nanoseconds);

    public override DateTimeOffset GetUtcNow() => start.AddTicks(Volatile.Read(ref _nanoseconds) / 100);

    /// <summary>Nanoseconds since the clock started.</summary>
    public long Nanoseconds => Volatile.Read(ref _nanoseconds);

    /// <summary>A timestamp of <paramref name="clock"/> in nanoseconds (exact for a virtual clock).</summary>
    internal static long ToNanoseconds(TimeProvider clock, long timestamp) =>
        clock.TimestampFrequency == 1_000_000_000 ? timestamp : (long)((Int128)timestamp * 1_000_000_000 / clock.TimestampFrequency);

    public void Advance(TimeSpan by) => AdvanceTo(Nanoseconds + by.Ticks * 100);

    /// <summary>Moves to <paramref name="nanoseconds"/> since the start; time never goes back.</summary>
    public void AdvanceTo(long nanoseconds)
    {
        if (nanoseconds < Nanoseconds) throw new ArgumentOutOfRangeException(nameof(nanoseconds), "virtual time cannot go back");
        Volatile.Write(ref _nanoseconds, nanoseconds);
    }
}
