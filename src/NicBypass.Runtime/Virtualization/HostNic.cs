using NicBypass.Runtime.Classification;
using NicBypass.Runtime.Devices;
using NicBypass.Runtime.Rings;

namespace NicBypass.Runtime.Virtualization;

/// <summary>
/// A NIC as the host knows it after registration: its driver, the host's copy of the hardware
/// information the driver advertised, and what the host bound to its rings. Everything the host
/// does to the hardware goes through that information: ring indexes, poll entry points,
/// interrupt controls and the classifier's programming API.
/// </summary>
public sealed class HostNic
{
    private readonly List<SoftwareRing> _softwareRings = new();
    private readonly Dictionary<int, MsiVector> _vectors = new();
    private readonly NetworkHost _host;

    internal HostNic(NetworkHost host, INicDriver driver)
    {
        _host = host;
        Driver = driver;
        Device = driver.Device;
        Info = HardwareInfo.Query(driver);
    }

    public string Name => Device.Name;

    internal INicDriver Driver { get; }

    public SimulatedNic Device { get; } // the driver's, read once: the pumps ask for it every round

    /// <summary>The host's copy of the driver's hardware information.</summary>
    public HardwareInfo Info { get; }

    /// <summary>Every software ring on this NIC, outermost first.</summary>
    public IReadOnlyList<SoftwareRing> SoftwareRings => _softwareRings;

    public IReadOnlyList<HardwareReceiveRing> ReceiveRings => Device.ReceiveRings;

    public IReadOnlyList<TransmitRing> TransmitRings => Device.TransmitRings;

    /// <summary>
    /// Deterministic mode: the thread that runs the datapath, whose NIC pool takes no locks; null
    /// in the threaded mode (the pool and rings take locks there, any thread may send).
    /// </summary>
    internal DatapathThread? Datapath
    {
        // Published with release and read with acquire: a sender that sees it gone (the threaded
        // mode) also sees the pool made concurrent before it (NetworkHost.StartThreads).
        get => Volatile.Read(ref _datapath);
        set => Volatile.Write(ref _datapath, value);
    }

    private DatapathThread? _datapath;

    private readonly Lock _stagingLock = new();
    private List<Vnic> _staging = new(); // replaced under the lock: other threads add to a new one while the datapath sends from the old
    private bool _anyStaged;
    private bool _newlyStaged;

    /// <summary>Another thread handed <paramref name="vnic"/> frames to send (<see cref="Vnic.Transmit(ReadOnlySpan{byte})"/>): the datapath sends them at its next round.</summary>
    internal void Staged(Vnic vnic, bool fresh = true) => List(vnic, fresh);

    /// <summary>Some VNIC of this NIC holds frames handed over (or refusals to count).</summary>
    internal bool HasStaged => Volatile.Read(ref _anyStaged);

    /// <summary>Frames were handed over since the datapath last looked: due now (not those left for want of ring room, which wait for the rings to drain).</summary>
    internal bool NewlyStaged => Volatile.Read(ref _newlyStaged);

    private void List(Vnic vnic, bool fresh)
    {
        lock (_stagingLock)
        {
            if (!vnic.Listed)
            {
                vnic.Listed = true;
                _staging.Add(vnic);
            }
            Volatile.Write(ref _anyStaged, true);
            if (fresh) Volatile.Write(ref _newlyStaged, true);
        }
    }

    /// <summary>On the datapath's thread: sends what other threads handed over, in order; true if any frame moved.</summary>
    internal bool SendStaged()
    {
        if (!Volatile.Read(ref _anyStaged)) return false;
        List<Vnic> sending;
        lock (_stagingLock)
        {
            sending = _staging;
            _staging = new List<Vnic>(); // (only when frames were handed over: not on the datapath's own path)
            foreach (var vnic in sending) vnic.Listed = false;
            Volatile.Write(ref _anyStaged, false);
            Volatile.Write(ref _newlyStaged, false);
        }
        var moved = false;
        foreach (var vnic in sending)
        {
            moved |= vnic.SendStaged(out var left);
            if (left) List(vnic, fresh: false); // the rings or the pool were full: again once they drain
        }
        return moved;
    }

    /// <summary>
    /// Fails with a clear message when what the driver advertised cannot carry a plan that needs
    /// these resources (the start-up check generated code makes).
    /// </summary>
    internal void EnsureCanCarry(int receiveRings, int transmitRings, int classifierRules, ClassifierMatch fields)
    {
        var problems = new List<string>();
        if (Info.ReceiveRings.Count < receiveRings) problems.Add($"the plan uses {receiveRings} receive rings but the driver advertises {Info.ReceiveRings.Count}");
        if (Info.TransmitRings.Count < transmitRings) problems.Add($"the plan uses {transmitRings} transmit rings but the driver advertises {Info.TransmitRings.Count}");
        if (Info.Classifier.Entries < classifierRules) problems.Add($"the plan needs {classifierRules} classifier entries but the driver advertises {Info.Classifier.Entries}");
        if ((Info.Classifier.Fields & fields) != fields) problems.Add($"the plan matches {fields} but the classifier matches only {Info.Classifier.Fields}");
        if (problems.Count > 0)
        {
            throw new InvalidOperationException($"NIC '{Name}' ({Info.Model}, driver {Info.Driver}) cannot carry the plan: {string.Join("; ", problems)}");
        }
    }

    /// <summary>Binds HRR <paramref name="index"/> to <paramref name="vnic"/>; its interrupts go to the VNIC's processor.</summary>
    internal void BindHardwareRing(int index, Vnic vnic)
    {
        var ring = HardwareRing(index);
        var info = Info.ReceiveRings[index];
        ring.Bind(vnic, Vector(ring, vnic.Processor), info.Poll, info.Interrupts);
        vnic.Ring = ring;
    }

    /// <summary>The MSI vectors in use, each with the processor its interrupts go to.</summary>
    public IReadOnlyCollection<MsiVector> Vectors => _vectors.Values;

    /// <summary>Assigns MSI vector <paramref name="vector"/> to processor <paramref name="cpu"/>: the interrupts of every ring that raises it go there from now on.</summary>
    public void AssignVector(int vector, int cpu)
    {
        if (!_vectors.TryGetValue(vector, out var msi)) throw new ArgumentException($"NIC '{Name}' has no ring on MSI vector {vector}", nameof(vector));
        if (cpu < 0 || cpu >= _host.Processors.Count) throw new ArgumentOutOfRangeException(nameof(cpu), $"host '{_host.Name}' has processors 0..{_host.Processors.Count - 1}");
        msi.Processor = (Processor)_host.Processors[cpu];
    }

    // Interrupts go ring → its MSI vector → the processor the vector is assigned to: the first
    // ring bound on a vector decides (from its VNIC's cpu); rings that share it share that processor.
    private MsiVector Vector(HardwareReceiveRing ring, Processor processor)
    {
        if (!_vectors.TryGetValue(ring.MsiVector, out var vector)) _vectors[ring.MsiVector] = vector = new MsiVector(ring.MsiVector, processor);
        return vector;
    }

    /// <summary>Stacks a software ring with <paramref name="rings"/> SRRs on HRR <paramref name="index"/>; the HRR's interrupts go to processor <c>index mod cpus</c>.</summary>
    internal SoftwareRing BindSoftwareRing(int index, string id, int rings)
    {
        var ring = HardwareRing(index);
        var software = new SoftwareRing(Name, () => Device.Pool, Info.Classifier.Fields, id, rings, ring.Capacity);
        var info = Info.ReceiveRings[index];
        ring.Bind(software, Vector(ring, _host.Processors[index % _host.Processors.Count]), info.Poll, info.Interrupts);
        _softwareRings.Add(software);
        return software;
    }

    /// <summary>Stacks a software ring on SRR <paramref name="index"/> of <paramref name="parent"/>; that SRR's software interrupts go to processor 0.</summary>
    internal SoftwareRing BindSoftwareRing(SoftwareRing parent, int index, string id, int rings)
    {
        var nested = parent.BindSoftwareRing(Name, index, id, rings, _host.Processors[0]);
        _softwareRings.Add(nested);
        return nested;
    }

    /// <summary>Binds SRR <paramref name="index"/> of <paramref name="software"/> to <paramref name="vnic"/>; its software interrupts go to the VNIC's processor.</summary>
    internal void BindSoftwareReceiveRing(SoftwareRing software, int index, Vnic vnic) =>
        vnic.Ring = software.BindRing(index, vnic, vnic.Processor);

    /// <summary>Programs the hardware classifier through the driver's API: <paramref name="mac"/> in <paramref name="vlan"/> → HRR <paramref name="ring"/>, for <paramref name="vnic"/>.</summary>
    internal void Program(ulong mac, int vlan, int ring, Vnic vnic) =>
        Program(Info.Classifier.Program, new ClassifierRule(mac, vlan, ring, vnic.Counters, vnic.Ips.ToArray(), Groups: Stacks.SlaacClient.Groups(mac, vnic.Settings.Dhcp, vnic.Settings.Multicast, vnic.Settings.Ips), Flows: vnic.Flows), vnic);

    /// <summary>Adds <paramref name="rule"/> for <paramref name="vnic"/> to <paramref name="classifier"/> (hardware, through the driver's API, or a software ring's); the VNIC checks in software what that classifier cannot match.</summary>
    internal static void Program(IClassifierProgramming classifier, ClassifierRule rule, Vnic vnic)
    {
        classifier.Add(rule);
        vnic.CheckInSoftware(rule, classifier.Fields);
    }

    /// <summary>
    /// What the hardware classifier does not match goes to HRR <paramref name="ring"/>: its
    /// software ring classifies it in software (promiscuous mode, Crossbow's fallback when the
    /// classifier has too few entries) and counts what it takes.
    /// </summary>
    internal void ClassifyInSoftware(int ring)
    {
        if (HardwareRing(ring).Client is not SoftwareRing software)
        {
            throw new InvalidOperationException($"NIC '{Name}': hrr{ring} carries no software ring to classify unmatched frames in software");
        }
        Device.Classifier.DefaultRing = ring;
        software.Classifier.CountsReceipts = true;
    }

    /// <summary>The hardware ring that takes what the hardware classifier does not match, or null (dropped as no-match).</summary>
    public int? DefaultRing => Device.Classifier.DefaultRing is var ring and >= 0 ? ring : null;

    /// <summary>
    /// Frames waiting on rings that carry a software ring, not yet classified to their VNIC's own
    /// ring (read when the datapath is quiet, for the report): per VNIC (by its counters) those
    /// already counted as its received, and the frames on the default ring no VNIC has counted yet.
    /// </summary>
    internal (Dictionary<Accounting.TrafficCounters, long> ByVnic, long Pending) WaitingAboveVnicRings()
    {
        var byVnic = new Dictionary<Accounting.TrafficCounters, long>(ReferenceEqualityComparer.Instance);
        long pending = 0;
        if (!Device.Enabled) return (byVnic, 0);
        var pool = Device.Pool;
        foreach (var ring in AllReceiveRings())
        {
            if (ring.Client is not SoftwareRing software) continue;
            var isDefault = ring is HardwareReceiveRing hardware && hardware.Index == DefaultRing;
            for (var i = 0; ring.Queue.TryPeek(i, out var descriptor); i++)
            {
                if (isDefault)
                {
                    pending++;
                    continue;
                }
                var frame = pool.Frame(descriptor);
                if (!Packets.EthernetHeader.TryRead(frame, out var header)) continue;
                if (header.IsGroup)
                {
                    if (!software.Classifier.TryGetGroupRoute(header, out var route)) continue;
                    foreach (var targets in route.Targets)
                    {
                        foreach (var target in targets) byVnic[target] = byVnic.GetValueOrDefault(target) + 1;
                    }
                }
                else if (software.Classifier.Classify(frame, header, out var rule) == ClassifyResult.Match)
                {
                    var target = software.Classifier.CountersOf(rule);
                    byVnic[target] = byVnic.GetValueOrDefault(target) + 1;
                }
            }
        }
        return (byVnic, pending);
    }

    // Every receive ring fed by this NIC: its HRRs and the SRRs of its software rings.
    internal IEnumerable<ReceiveRing> AllReceiveRings() =>
        Device.ReceiveRings.Cast<ReceiveRing>().Concat(_softwareRings.SelectMany(s => s.Rings));

    private HardwareReceiveRing HardwareRing(int index)
    {
        if (index < 0 || index >= Info.ReceiveRings.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(index), $"NIC '{Name}' advertises receive rings 0..{Info.ReceiveRings.Count - 1}, not {index}");
        }
        return Device.ReceiveRings[index];
    }

    public override string ToString() => Name;
}
