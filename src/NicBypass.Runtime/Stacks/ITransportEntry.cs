namespace NicBypass.Runtime.Stacks;

/// <summary>
/// Where a stack's IP layer hands a checked UDP or TCP packet (the whole frame) to the transport
/// layer: a VNS's inbound serialization queue, which processes it at once or queues it for its
/// worker (<see cref="NetworkStack.ReceiveTransport"/> either way).
/// </summary>
internal interface ITransportEntry
{
    void Submit(ReadOnlySpan<byte> frame);
}
