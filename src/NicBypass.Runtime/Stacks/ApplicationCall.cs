namespace NicBypass.Runtime.Stacks;

/// <summary>
/// An application's call into a stack (send, read, connect, close) running on this thread, inside
/// the stack's transport gate. Frames the call queues for transmission on a threaded host are
/// drained onto the wire by the calling thread when the outermost call ends — after it has left
/// the gate and the connection's lock — as a socket call in Linux runs the driver's transmit
/// itself, instead of waking a processor to do it (a hand-off and a wake-up per call). Per
/// thread; calls nest; nothing is allocated.
/// </summary>
internal readonly struct ApplicationCall : IDisposable
{
    [ThreadStatic] private static int t_depth;
    [ThreadStatic] private static Action? t_owed; // the drain the outermost call runs at its end

    private readonly SerializationGate? _gate;

    internal ApplicationCall(SerializationGate? gate)
    {
        _gate = gate is not null && gate.Enter() ? gate : null;
        t_depth++;
    }

    /// <summary>
    /// True when an application's call is running on this thread and will run
    /// <paramref name="drain"/> at its end; false (the caller wakes someone else) outside a call,
    /// or when the call already owes another host's drain.
    /// </summary>
    internal static bool TryOwe(Action drain)
    {
        if (t_depth == 0) return false;
        if (t_owed is null)
        {
            t_owed = drain;
            return true;
        }
        return ReferenceEquals(t_owed, drain);
    }

    public void Dispose()
    {
        _gate?.Exit();
        if (--t_depth > 0 || t_owed is not { } drain) return;
        t_owed = null;
        drain();
    }
}
