namespace NicBypass.Runtime.Virtualization;

/// <summary>A consumer that can be full: the ring keeps what it cannot take (a VNS's inbound VSQ at its threshold).</summary>
internal interface IFlowControlledConsumer : IVnicConsumer
{
    /// <summary>How many more frames it takes now.</summary>
    int Room { get; }

    /// <summary>Its ring was switched to polling because it was full (a backlog formed).</summary>
    void Backlogged();

    /// <summary>It runs <paramref name="poller"/> itself (when its own queue is empty), instead of the processor running it.</summary>
    void UsePoller(RingPoller poller);
}
