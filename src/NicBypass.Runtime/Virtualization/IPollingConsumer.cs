namespace NicBypass.Runtime.Virtualization;

/// <summary>Something a processor runs in polling mode: it pulls frames from a ring when it is ready for them.</summary>
internal interface IPollingConsumer
{
    /// <summary>Polls once; true if it did any work (so the processor keeps going).</summary>
    bool Poll();
}
