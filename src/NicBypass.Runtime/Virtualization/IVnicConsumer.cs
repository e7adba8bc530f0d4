namespace NicBypass.Runtime.Virtualization;

/// <summary>A packet destination behind a VNIC (a container's or service's stack): gets each delivered frame, VLAN tag removed.</summary>
internal interface IVnicConsumer
{
    /// <summary>
    /// One frame. <paramref name="sealedByStack"/>: one of the host's own stacks built it and it
    /// lands in the very bytes it sealed (<see cref="Packets.PacketBufferPool.MarkSealed"/>): its
    /// transport checksum needs no second sum.
    /// </summary>
    void Deliver(Vnic vnic, ReadOnlySpan<byte> frame, bool sealedByStack = false);

    /// <summary>Before a batch of <see cref="Deliver"/> calls on <paramref name="running"/> (a VNS enters its serialization queue once per batch, if it may process inline).</summary>
    void BeginBatch(Processor running) { }

    /// <summary>After the batch of <paramref name="frames"/> delivered frames (a VNS charges the stack work it did inline).</summary>
    void EndBatch(Processor running, int frames) { }
}
