using NicBypass.Runtime.Accounting;
using NicBypass.Runtime.Classification;
using NicBypass.Runtime.Packets;
using NicBypass.Runtime.Rings;

namespace NicBypass.Runtime.Virtualization;

/// <summary>
/// A software ring: a software classifier with the same functionality and criteria as the
/// hardware one, feeding software receive rings (SRRs). It sits on an HRR (or on another
/// software ring's SRR — software rings nest) and serves the VNICs that did not get a hardware
/// ring of their own. Each SRR raises software interrupts on the processor of the VNIC it serves.
/// </summary>
public sealed class SoftwareRing : IReceiveRingClient
{
    private readonly ReceiveRing[] _rings;
    private readonly NetworkHost _host;

    internal SoftwareRing(NetworkHost host, HostNic nic, string id, int rings, int capacity)
    {
        _host = host;
        Nic = nic;
        Id = id;
        Rings = Enumerable.Range(0, rings).Select(i => new SoftwareReceiveRing(id, i, capacity)).ToArray();
        _rings = Rings.Cast<ReceiveRing>().ToArray();
        Classifier = new PacketClassifier($"{nic.Name} {id} software classifier", nic.Info.Classifier.Fields, int.MaxValue);
    }

    public string Id { get; }

    public HostNic Nic { get; }

    public IReadOnlyList<SoftwareReceiveRing> Rings { get; }

    /// <summary>The software classifier; programmed with the same criteria as the hardware one.</summary>
    public PacketClassifier Classifier { get; }

    /// <summary>Frames that reached the software ring, and those no SRR took (<c>no-match</c>).</summary>
    public TrafficCounters Counters { get; } = new();

    /// <summary>Binds SRR <paramref name="index"/> to <paramref name="vnic"/>; its software interrupts go to the VNIC's processor.</summary>
    public void BindRing(int index, Vnic vnic)
    {
        Rings[index].Bind(vnic, vnic.Processor);
        vnic.Ring = Rings[index];
    }

    /// <summary>Stacks a nested software ring on SRR <paramref name="index"/>.</summary>
    public SoftwareRing BindSoftwareRing(int index, string id, int rings)
    {
        var nested = new SoftwareRing(_host, Nic, id, rings, Rings[index].Capacity);
        Rings[index].Bind(nested, _host.Processors[0]);
        Nic.AddSoftwareRing(nested);
        return nested;
    }

    /// <summary>Programs the software classifier: frames to <paramref name="mac"/> in <paramref name="vlan"/> go to SRR <paramref name="ring"/> on their way to <paramref name="vnic"/>.</summary>
    public void Program(ulong mac, int vlan, int ring, Vnic vnic) => Classifier.Add(new ClassifierRule(mac, vlan, ring, vnic.Counters));

    public void Receive(ReceiveRing ring, ReadOnlySpan<PacketDescriptor> batch)
    {
        var pool = Nic.Device.Pool;
        foreach (var descriptor in batch)
        {
            Counters.Received++;
            // Frames on a ring were read at layer 2 by the NIC already, so this cannot fail.
            EthernetHeader.TryRead(pool.Frame(descriptor), out var header);
            ReceiveDispatcher.Dispatch(Classifier, _rings, pool, descriptor, header, Counters, countReceipt: false);
        }
    }

    public override string ToString() => Id;
}
