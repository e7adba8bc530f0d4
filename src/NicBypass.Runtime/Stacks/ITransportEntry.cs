namespace NicBypass.Runtime.Stacks;

/// <summary>
/// Where a stack's IP layer hands a checked UDP or TCP packet (the whole frame) to the transport
/// layer: a VNS's inbound serialization queue. True: the caller is inside the queue and goes on
/// into the transport layer at once (with the headers it has parsed); false: the packet waits in
/// the queue for its worker (<see cref="NetworkStack.ReceiveTransport"/>), or was dropped and counted.
/// </summary>
internal interface ITransportEntry
{
    bool Submit(ReadOnlySpan<byte> frame);
}
