namespace NicBypass.Dsl.Model;

/// <summary>Transports a VNIC serves. TCP present → its serialization queues are mutually exclusive.</summary>
[Flags]
public enum TransportProtocols
{
    None = 0,
    Tcp = 1,
    Udp = 2,
}
