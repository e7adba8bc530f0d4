namespace NicBypass.Runtime.Stacks;

/// <summary>
/// Stretch acknowledgments for a batch (docs/runtime.md § TCP): while a thread hands a batch of
/// frames to its stacks — a VNIC's batch delivered inline, a VSQ worker's drain, a guest reading
/// its ring — a connection that receives data in order owes its ACK until the batch ends, and then
/// sends one ACK for all of it, as Linux does for the segments GRO merged. A segment that needs an
/// answer at once (out of order, filling a gap, a FIN, a full window) is still acknowledged at
/// once, and a connection owing a quarter of its receive buffer does not wait for the end. Outside
/// a batch (a stack driven by hand) every segment is acknowledged as it comes. Per thread; nothing
/// is allocated per frame (the list of owing connections is the thread's own and reused).
/// </summary>
internal static class AcknowledgmentBatch
{
    [ThreadStatic] private static int t_depth;
    [ThreadStatic] private static List<TcpConnection>? t_owing;

    /// <summary>A batch starts on this thread (batches nest; the outermost one's end sends the ACKs).</summary>
    public static void Enter() => t_depth++;

    /// <summary>A batch for a <c>using</c> block: <see cref="Enter"/> now, <see cref="Exit"/> at its end.</summary>
    public static Scope Open()
    {
        Enter();
        return default;
    }

    /// <summary>An open batch; disposing it ends the batch.</summary>
    public readonly struct Scope : IDisposable
    {
        public void Dispose() => Exit();
    }

    /// <summary>The batch ends: at the outermost end, every connection that owes an ACK sends it.</summary>
    public static void Exit()
    {
        if (--t_depth > 0 || t_owing is not { Count: > 0 } owing) return;
        t_depth++; // an ACK delivered inline (a hairpin) that makes more owed ones joins this pass
        var i = 0;
        try
        {
            for (; i < owing.Count; i++) owing[i].SendOwedAcknowledgment();
        }
        finally
        {
            // One threw: the ones it did not reach forget what they owed, or they would wait for a
            // batch end that never comes (their next segment is acknowledged afresh).
            for (; i < owing.Count; i++) owing[i].ForgetOwedAcknowledgment();
            owing.Clear();
            t_depth--;
        }
    }

    /// <summary>True when a batch is open here and <paramref name="connection"/> will be called back at its end; false: acknowledge now.</summary>
    public static bool Defer(TcpConnection connection)
    {
        if (t_depth == 0) return false;
        (t_owing ??= new List<TcpConnection>()).Add(connection);
        return true;
    }
}
