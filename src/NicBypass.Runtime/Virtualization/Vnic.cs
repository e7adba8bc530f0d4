using System.Buffers.Binary;
using System.Net;
using NicBypass.Runtime.Accounting;
using NicBypass.Runtime.Packets;
using NicBypass.Runtime.Rings;

namespace NicBypass.Runtime.Virtualization;

/// <summary>
/// A virtual NIC: owns MACs, IPs and a VLAN, and acts like a NIC towards what is behind it — a
/// VM (through its <see cref="GuestInterface"/>) or a packet destination (through its stack).
/// A receive ring (HRR or SRR) hands it frames a batch at a time; it removes the VLAN tag,
/// delivers each frame and frees its buffer. Outbound frames get the VLAN tag back and go to one
/// of the NIC's transmit rings.
/// </summary>
public sealed class Vnic : IReceiveRingClient
{
    private readonly byte[] _transmitScratch;
    private readonly int _vlan;
    private GuestInterface? _interface;
    private IVnicConsumer? _consumer;

    internal Vnic(int id, VnicRole role, VnicSettings settings, HostNic nic, Processor processor)
    {
        Id = id;
        Role = role;
        Settings = settings;
        Nic = nic;
        Processor = processor;
        Macs = settings.Macs.ToArray();
        _vlan = settings.Vlan;
        _transmitScratch = new byte[nic.Device.MaxFrameLength + EthernetHeader.TagLength];
    }

    public int Id { get; }

    public string Name => Settings.Name;

    public VnicRole Role { get; }

    public VnicSettings Settings { get; }

    public HostNic Nic { get; }

    /// <summary>The processor its ring's interrupts (and its polling) run on.</summary>
    public Processor Processor { get; }

    public ulong[] Macs { get; }

    public IReadOnlyList<IPAddress> Ips => Settings.Ips ?? Array.Empty<IPAddress>();

    public int Vlan => Settings.Vlan;

    /// <summary>Inbound: received (classified to it), delivered, delivered bytes, drops by reason.</summary>
    public TrafficCounters Counters { get; } = new();

    /// <summary>Outbound: frames sent (<c>Received</c>) and queued on a transmit ring (<c>Delivered</c>).</summary>
    public TrafficCounters TransmitCounters { get; } = new();

    /// <summary>Sees every frame as it is delivered (VLAN tag removed) — for captures; null costs nothing.</summary>
    public FrameHandler? Tap { get; set; }

    /// <summary>A VM's inbound allocation, policed here (VMs are interrupt-driven): excess is dropped as <c>bandwidth</c>.</summary>
    public BandwidthLimiter? Policer { get; internal set; }

    /// <summary>The ring that serves it, once bound.</summary>
    public ReceiveRing? Ring { get; internal set; }

    /// <summary>The interface to its VM, for a VM's VNIC.</summary>
    public GuestInterface? Interface => _interface;

    /// <summary>The stack or sink behind it, for a container's or service's VNIC.</summary>
    public IVnicConsumer? Consumer => _consumer;

    internal void Attach(GuestInterface guestInterface) => _interface = guestInterface;

    /// <summary>Connects the packet destination's stack (or any consumer) behind this VNIC.</summary>
    public void Attach(IVnicConsumer consumer) => _consumer = consumer;

    public void Receive(ReceiveRing ring, ReadOnlySpan<PacketDescriptor> batch)
    {
        var pool = Nic.Device.Pool;
        var guest = _interface;
        var consumer = _consumer;
        var tap = Tap;
        var tagged = _vlan != 0;
        var policer = Policer;
        long bytes = 0;
        var delivered = 0;
        foreach (var descriptor in batch)
        {
            var frame = pool.Frame(descriptor);
            if (policer is not null && !policer.TryConsume(tagged ? frame.Length - EthernetHeader.TagLength : frame.Length))
            {
                Counters.Drop(Accounting.DropReason.Bandwidth);
                continue;
            }
            // The classifier only let through frames tagged with our VLAN (or untagged if we have
            // none); remove the tag in place by sliding the two MACs over it.
            if (tagged)
            {
                frame.Slice(0, 12).CopyTo(frame.Slice(EthernetHeader.TagLength));
                frame = frame.Slice(EthernetHeader.TagLength);
            }
            tap?.Invoke(this, frame);
            if (guest is not null) guest.Deliver(frame);
            else consumer?.Deliver(this, frame);
            bytes += frame.Length;
            delivered++;
        }
        // Counters and buffer returns are settled once per batch, not once per frame.
        Counters.Delivered += delivered;
        Counters.DeliveredBytes += bytes;
        pool.Return(batch);
    }

    /// <summary>
    /// Sends an (untagged) frame towards the wire through a transmit ring; the VLAN tag is added
    /// here. False when the frame is too long or the transmit ring is full (back-pressure: the
    /// caller still has the frame).
    /// </summary>
    public bool Transmit(ReadOnlySpan<byte> frame)
    {
        TransmitCounters.Received++;
        if (frame.Length < EthernetHeader.Length) return false;
        var device = Nic.Device;
        var ring = Id % device.Settings.TxRings;
        bool queued;
        if (Settings.Vlan == 0)
        {
            queued = device.Transmit(ring, frame);
        }
        else
        {
            var tagged = _transmitScratch.AsSpan(0, frame.Length + EthernetHeader.TagLength);
            frame.Slice(0, 12).CopyTo(tagged);
            BinaryPrimitives.WriteUInt16BigEndian(tagged.Slice(12), EthernetHeader.Vlan8021Q);
            BinaryPrimitives.WriteUInt16BigEndian(tagged.Slice(14), (ushort)Settings.Vlan);
            frame.Slice(12).CopyTo(tagged.Slice(16));
            queued = device.Transmit(ring, tagged);
        }
        if (queued) TransmitCounters.Delivered++;
        return queued;
    }

    public override string ToString() => Name;
}
