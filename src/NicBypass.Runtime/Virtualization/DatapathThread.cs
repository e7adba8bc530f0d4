namespace NicBypass.Runtime.Virtualization;

/// <summary>
/// Deterministic mode: the one thread that runs the host's datapath — the thread of the rounds
/// (<see cref="RunQueue"/>), and before the first round the thread that built the host. The NIC
/// buffer pools take no locks in this mode, so another thread (an application's continuation on
/// the thread pool) hands its frames over instead of touching them (<see cref="Vnic.Transmit(ReadOnlySpan{byte})"/>).
/// </summary>
internal sealed class DatapathThread
{
    private int _id = Environment.CurrentManagedThreadId;

    /// <summary>The calling thread is the datapath's.</summary>
    public bool IsCurrent => Environment.CurrentManagedThreadId == Volatile.Read(ref _id);

    private bool _ran;

    /// <summary>
    /// The calling thread runs the datapath from now on; true when it takes over from another
    /// thread that had run it (an <c>await</c> moved the pumping to another thread: the one before
    /// may be sending right now without knowing it lost the datapath).
    /// </summary>
    public bool Claim()
    {
        var id = Environment.CurrentManagedThreadId;
        var ran = _ran;
        _ran = true;
        if (Volatile.Read(ref _id) == id) return false;
        Volatile.Write(ref _id, id);
        return ran;
    }
}
