namespace NicBypass.Runtime.Virtualization;

/// <summary>A packet destination behind a VNIC (a container's or service's stack): gets each delivered frame, VLAN tag removed.</summary>
internal interface IVnicConsumer
{
    void Deliver(Vnic vnic, ReadOnlySpan<byte> frame);

    /// <summary>Before a batch of <see cref="Deliver"/> calls on <paramref name="running"/> (a VNS enters its serialization queue once per batch, if it may process inline).</summary>
    void BeginBatch(Processor running) { }

    /// <summary>After the batch of <paramref name="frames"/> delivered frames (a VNS charges the stack work it did inline).</summary>
    void EndBatch(Processor running, int frames) { }
}
