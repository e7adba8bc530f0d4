namespace NicBypass.Runtime.Virtualization;

/// <summary>A packet destination behind a VNIC (a container's or service's stack): gets each delivered frame, VLAN tag removed.</summary>
internal interface IVnicConsumer
{
    void Deliver(Vnic vnic, ReadOnlySpan<byte> frame);

    /// <summary>Before a batch of <see cref="Deliver"/> calls (a stack enters its serialization queue once per batch).</summary>
    void BeginBatch() { }

    /// <summary>After the batch.</summary>
    void EndBatch() { }
}
