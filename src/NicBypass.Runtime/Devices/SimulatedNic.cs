using NicBypass.Runtime.Accounting;
using NicBypass.Runtime.Classification;
using NicBypass.Runtime.Packets;
using NicBypass.Runtime.Rings;

namespace NicBypass.Runtime.Devices;

/// <summary>
/// The simulated NIC hardware: hardware receive rings (HRRs), transmit rings (TRRs), a hardware
/// classifier and a buffer pool its "DMA" writes frames into. Frames arrive from the wire through
/// <see cref="Receive"/>; transmitted frames leave through <see cref="Wire"/>.
///
/// The host never touches this object's rings or classifier directly: it learns about them from
/// the device's driver (<see cref="INicDriver"/>), which reads them off the hardware — registers
/// for the basic part, a capability table for the flow parts — and advertises them in the
/// standardized <see cref="HardwareInfo"/>.
/// </summary>
public sealed class SimulatedNic
{
    private readonly ReceiveRing[] _receiveRings;
    private PacketBufferPool? _pool;

    public SimulatedNic(string name, SimNicModel model, SimNicSettings settings)
    {
        Check(settings.RxRings, 1, model.MaxRxRings, "rx rings", model);
        Check(settings.TxRings, 1, model.MaxTxRings, "tx rings", model);
        Check(settings.Mtu, 576, model.MaxMtu, "MTU", model);
        var msi = settings.MsiVectors ?? model.MsiVectors;
        Check(msi, 1, model.MsiVectors, "MSI vectors", model);
        if (settings.RingSize < 16 || settings.RingSize > 65536 || (settings.RingSize & (settings.RingSize - 1)) != 0)
        {
            throw new ArgumentException($"{name}: ring size {settings.RingSize} is not a power of two in 16..65536");
        }

        Name = name;
        Model = model;
        Settings = settings;
        LinkSpeedBitsPerSecond = Math.Min(settings.LinkSpeedBitsPerSecond ?? model.LinkSpeedBitsPerSecond, model.LinkSpeedBitsPerSecond);
        ReceiveRings = Enumerable.Range(0, settings.RxRings).Select(i => new HardwareReceiveRing(i, settings.RingSize, i % msi)).ToArray();
        _receiveRings = ReceiveRings.Cast<ReceiveRing>().ToArray();
        TransmitRings = Enumerable.Range(0, settings.TxRings).Select(i => new TransmitRing(i, settings.RingSize)).ToArray();
        Classifier = new PacketClassifier($"{name} hardware classifier", model.ClassifierFields, model.ClassifierEntries);
        MaxFrameLength = settings.Mtu + 18;
        SlotSize = (MaxFrameLength + 63) & ~63;
    }

    public string Name { get; }

    public SimNicModel Model { get; }

    public SimNicSettings Settings { get; }

    public long LinkSpeedBitsPerSecond { get; }

    /// <summary>Longest frame accepted: MTU + 18 bytes (header, one VLAN tag); longer is <c>oversize</c>.</summary>
    public int MaxFrameLength { get; }

    /// <summary>Size of a buffer slot: the longest frame rounded up to a cache line.</summary>
    public int SlotSize { get; }

    /// <summary>Frames from the wire (<c>Received</c>) and the NIC-level drops: no-match, malformed, oversize, no-buffer.</summary>
    public TrafficCounters Counters { get; } = new();

    /// <summary>Frames put on the wire.</summary>
    public long Transmitted { get; private set; }

    /// <summary>Where transmitted frames go.</summary>
    public IWire? Wire { get; set; }

    public bool Enabled => _pool is not null;

    /// <summary>The buffer pool (exists once the NIC is enabled).</summary>
    internal PacketBufferPool Pool => _pool ?? throw new InvalidOperationException($"{Name} is not enabled");

    internal HardwareReceiveRing[] ReceiveRings { get; }

    internal TransmitRing[] TransmitRings { get; }

    internal PacketClassifier Classifier { get; }

    /// <summary>Allocates the buffer pool and starts taking frames from the wire.</summary>
    internal void Enable(int bufferSlots)
    {
        if (_pool is not null) throw new InvalidOperationException($"{Name} is already enabled");
        _pool = new PacketBufferPool(bufferSlots, SlotSize);
    }

    /// <summary>
    /// A frame arrives from the wire: checked at layer 2, written into a buffer slot, classified
    /// by the hardware classifier and put on its HRR(s). Never throws on bad frames: they are
    /// counted (<c>malformed</c>, <c>oversize</c>, <c>no-match</c>).
    /// </summary>
    public void Receive(ReadOnlySpan<byte> frame)
    {
        var pool = Pool;
        Counters.Received++;
        if (frame.Length > MaxFrameLength)
        {
            Counters.Drop(DropReason.Oversize);
            return;
        }
        if (!EthernetHeader.TryRead(frame, out var header))
        {
            Counters.Drop(DropReason.Malformed);
            return;
        }
        if (!pool.TryRent(out var slot))
        {
            Counters.Drop(DropReason.NoBuffer);
            return;
        }
        frame.CopyTo(pool.Slot(slot));
        ReceiveDispatcher.Dispatch(Classifier, _receiveRings, pool, new PacketDescriptor(slot, frame.Length), header, Counters, countReceipt: true);
    }

    /// <summary>Queues a frame on transmit ring <paramref name="ring"/>; false when it is too long or the ring is full.</summary>
    internal bool Transmit(int ring, ReadOnlySpan<byte> frame)
    {
        var pool = Pool;
        if (frame.Length > MaxFrameLength || frame.Length < EthernetHeader.Length) return false;
        if (!pool.TryRent(out var slot)) return false;
        frame.CopyTo(pool.Slot(slot));
        if (TransmitRings[ring].TryEnqueue(new PacketDescriptor(slot, frame.Length))) return true;
        pool.Return(slot);
        return false;
    }

    /// <summary>Puts every queued transmit frame on the wire, ring by ring; returns how many.</summary>
    internal int DrainTransmitRings()
    {
        var pool = Pool;
        Span<PacketDescriptor> batch = stackalloc PacketDescriptor[32];
        var total = 0;
        foreach (var ring in TransmitRings)
        {
            int n;
            while ((n = ring.Queue.Dequeue(batch)) > 0)
            {
                for (var i = 0; i < n; i++)
                {
                    Wire?.Transmit(pool.Frame(batch[i]));
                    pool.Return(batch[i].Slot);
                }
                ring.Counters.Delivered += n;
                total += n;
            }
        }
        Transmitted += total;
        return total;
    }

    // ---- what the drivers read ---------------------------------------------------------------

    /// <summary>The basic part's register file (read by <see cref="SimNicBasicDriver"/>).</summary>
    internal long ReadRegister(SimNicRegister register, int ring = 0) => register switch
    {
        SimNicRegister.RxRingCount => ReceiveRings.Length,
        SimNicRegister.TxRingCount => TransmitRings.Length,
        SimNicRegister.RxRingSize => ReceiveRings[ring].Capacity,
        SimNicRegister.TxRingSize => TransmitRings[ring].Capacity,
        SimNicRegister.RxRingMsiVector => ReceiveRings[ring].MsiVector,
        SimNicRegister.MsiVectorCount => Settings.MsiVectors ?? Model.MsiVectors,
        SimNicRegister.ClassifierEntries => Classifier.Capacity,
        SimNicRegister.ClassifierFields => (long)Classifier.Fields,
        SimNicRegister.MaxFrameLength => MaxFrameLength,
        SimNicRegister.LinkSpeedMbps => LinkSpeedBitsPerSecond / 1_000_000,
        _ => throw new ArgumentOutOfRangeException(nameof(register)),
    };

    /// <summary>The flow parts' capability table (read by <see cref="SimNicFlowDriver"/>).</summary>
    internal IReadOnlyList<SimNicCapability> ReadCapabilities()
    {
        var table = new List<SimNicCapability>
        {
            new("link", 0, LinkSpeedBitsPerSecond),
            new("mtu", 0, MaxFrameLength - 18),
        };
        table.AddRange(ReceiveRings.Select(r => new SimNicCapability("rx-ring", r.Index, r.Capacity, r.MsiVector)));
        table.AddRange(TransmitRings.Select(r => new SimNicCapability("tx-ring", r.Index, r.Capacity)));
        table.Add(new SimNicCapability("msi", 0, Settings.MsiVectors ?? Model.MsiVectors));
        table.Add(new SimNicCapability("flow-table", 0, Classifier.Capacity, (long)Classifier.Fields));
        return table;
    }

    private static void Check(int value, int min, int max, string what, SimNicModel model)
    {
        if (value < min || value > max) throw new ArgumentException($"{model.Name} supports {min}..{max} {what}, not {value}");
    }
}
