namespace NicBypass.Runtime.Virtualization;

/// <summary>A packet destination behind a VNIC (a container's or service's stack): gets each delivered frame, VLAN tag removed.</summary>
public interface IVnicConsumer
{
    void Deliver(Vnic vnic, ReadOnlySpan<byte> frame);
}
