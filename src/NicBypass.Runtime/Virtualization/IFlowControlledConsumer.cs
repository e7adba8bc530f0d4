namespace NicBypass.Runtime.Virtualization;

/// <summary>A consumer that can be full: the ring keeps what it cannot take (a VNS's inbound VSQ at its threshold).</summary>
public interface IFlowControlledConsumer : IVnicConsumer
{
    /// <summary>How many more frames it takes now.</summary>
    int Room { get; }
}
