using NicBypass.Runtime.Accounting;
using NicBypass.Runtime.Classification;
using NicBypass.Runtime.Devices;
using NicBypass.Runtime.Packets;
using NicBypass.Runtime.Rings;
using NicBypass.Runtime.Stacks;

namespace NicBypass.Runtime.Virtualization;

/// <summary>
/// A virtualized host: processors, registered NICs, VNICs and what is behind them (VMs, and the
/// virtual network stacks of containers and services). It is built through
/// <see cref="HostBuilder"/> (by generated host classes and by the interpreted host alike) and
/// then run:
/// <list type="bullet">
/// <item>deterministic mode (default): feed frames to a NIC (<see cref="SimulatedNic.Receive"/>)
/// and <see cref="Pump"/>; every stage runs on the caller's thread, all timing goes through
/// <see cref="Time"/> (a <see cref="VirtualClock"/> in tests; <see cref="RunUntil"/> moves it);</item>
/// <item>threaded mode (<see cref="StartThreads"/>): each processor gets a thread of its own.</item>
/// </list>
/// </summary>
public sealed class NetworkHost : IReceiveBurst, IDisposable
{
    /// <summary>The most memory one NIC's buffer pool takes.</summary>
    public const long MaxPoolBytes = 256L * 1024 * 1024;

    private readonly List<HostNic> _nics = new();
    private readonly List<Vnic> _vnics = new();
    private readonly Dictionary<string, Vnic> _vnicByName = new(StringComparer.Ordinal);
    private readonly List<VirtualMachine> _vms = new();
    private readonly List<VirtualNetworkStack> _stacks = new();
    private readonly Dictionary<Vnic, VirtualNetworkStack> _stackOf = new();
    private readonly List<SimulatedCable> _cables = new();
    // The NICs and cables as arrays, for the loops every pump and event runs (no enumerator).
    private HostNic[] _nicArray = [];
    private SimulatedCable[] _cableArray = [];
    private readonly Processor[] _processors;
    private readonly List<Processor> _vcpus = new(); // the VMs' own processors
    private List<Thread>? _threads;
    private CancellationTokenSource? _stop;

    internal NetworkHost(string name, int cpus = 1, TimeProvider? time = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(cpus, 1);
        Name = name;
        Time = time ?? TimeProvider.System;
        _processors = Enumerable.Range(0, cpus).Select(i => new Processor(i) { Clock = Time }).ToArray();
    }

    public string Name { get; }

    /// <summary>The clock every timed decision uses.</summary>
    public TimeProvider Time { get; }

    public IReadOnlyList<Processor> Processors => _processors;

    /// <summary>The VMs' own processors (one vCPU each), where their guest drivers and stacks run.</summary>
    public IReadOnlyList<Processor> VirtualProcessors => _vcpus;

    // Host processors, then the VMs' vCPUs: everything that runs datapath work.
    private IEnumerable<Processor> AllProcessors => _processors.Concat(_vcpus);

    public IReadOnlyList<HostNic> Nics => _nics;

    public IReadOnlyList<Vnic> Vnics => _vnics;

    public IReadOnlyList<VirtualMachine> VirtualMachines => _vms;

    /// <summary>The virtual network stacks of its containers and services.</summary>
    public IReadOnlyList<VirtualNetworkStack> NetworkStacks => _stacks;

    public bool Started { get; private set; }

    /// <summary>
    /// What each datapath stage costs the processor that runs it (docs/runtime.md).
    /// <see cref="CostTable.Free"/> (the default) runs every stage at once; with costs, busy
    /// processors make work wait, and each reports how busy it was. Set before traffic flows.
    /// </summary>
    public CostTable Costs
    {
        get => _costs;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            _costs = value;
            foreach (var processor in AllProcessors) processor.Costs = value;
            _runQueue?.WakeAll(); // processors asleep until a busy period ends look again under the new costs
            foreach (var nic in _nicArray) nic.Device.MeasureLatency = !value.IsFree;
            UpdateInterruptModel();
        }
    }

    private CostTable _costs = CostTable.Free;

    /// <summary>Dynamic polling (on by default): under the cost model a ring its processor cannot keep up with switches to polling until it drains. Off: interrupts only, one per batch.</summary>
    public bool DynamicPolling
    {
        get => _processors[0].DynamicPolling;
        set
        {
            foreach (var processor in _processors) processor.DynamicPolling = value;
            UpdateInterruptModel();
            _runQueue?.WakeAll();
        }
    }

    /// <summary>Creates a simulated NIC of <paramref name="model"/>, attaches its driver and registers it.</summary>
    internal HostNic AddNic(string name, SimNicModel model, SimNicSettings settings)
    {
        var device = new SimulatedNic(name, model, settings);
        return RegisterNic(SimNicModels.CreateDriver(device));
    }

    /// <summary>
    /// Registers a discovered NIC: the host asks its driver for the hardware information (rings,
    /// then transmit rings, then the classifier) and keeps a copy.
    /// </summary>
    internal HostNic RegisterNic(INicDriver driver)
    {
        EnsureNotStarted();
        if (_nics.Any(n => n.Name == driver.Device.Name)) throw new ArgumentException($"a NIC named '{driver.Device.Name}' is already registered");
        var nic = new HostNic(this, driver);
        driver.Device.Clock = Time; // the link keeps its rate on the host's clock
        driver.Device.MeasureLatency = !_costs.IsFree;
        // A cable plugged into one of its NICs is the host's to pump, whether or not the test
        // calls AddCable: a rated or delayed one left out held its frames for ever, unsaid (found
        // by a new user's drive).
        // (Only a cable whose both ends are its own: one to another host's NIC is pumped by the
        // host the test adds it to, as before — two hosts pumping one cable raced in threaded mode.)
        driver.Device.WirePlugged = wire =>
        {
            if (Devices.SimulatedCable.Of(wire) is { } cable && OwnsDevice(cable.A) && OwnsDevice(cable.B)) AddCable(cable);
        };
        _nics.Add(nic);
        _nicArray = _nics.ToArray();
        driver.Device.WirePlugged(driver.Device.Wire);
        return nic;
    }

    /// <summary>
    /// Makes Linux TAP device <paramref name="device"/> NIC <paramref name="nic"/>'s wire (README.md § Real peers):
    /// what Linux sends into it reaches the NIC's classifier, what the host transmits goes
    /// out through it. Run the host in threaded mode on the system clock; dispose the wire to
    /// unplug it (it closes the device).
    /// </summary>
    public TapWire AttachTap(string nic, TapDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var host = Nic(nic);
        if (host.Device.Wire is TapWire existing) throw new InvalidOperationException($"NIC '{nic}' is already on TAP device '{existing.Device.Name}'");
        EnsureStarted();
        var wire = new TapWire(host.Device, device, this, detached => { lock (_taps) _taps.Remove(detached); });
        var disposed = false;
        lock (_taps)
        {
            // Under the lock StopThreads snapshots the wires under: a wire attached as the threads
            // stop either is in its snapshot (and stopped there) or finds the stop begun and does
            // not start reading (no reader of it runs beside the final pump). And under the lock
            // Dispose marks the host disposed under: a wire attached as the host is disposed
            // either is among the wires it closes or is closed here.
            disposed = _disposed;
            if (!disposed)
            {
                _taps.Add(wire);
                if (_threads is not null && !_stopping) wire.StartReading();
            }
        }
        if (disposed)
        {
            wire.Dispose();
            throw new ObjectDisposedException(nameof(NetworkHost), $"host '{Name}' is disposed");
        }
        return wire;
    }

    /// <summary>Opens (or creates) TAP device <paramref name="interfaceName"/> and makes it NIC <paramref name="nic"/>'s wire.</summary>
    /// <exception cref="TapDeviceException">The device cannot be opened (the message says why).</exception>
    public TapWire AttachTap(string nic, string interfaceName)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Nic(nic); // an unknown NIC is the caller's mistake before any device is touched
        var device = TapDevice.Open(interfaceName);
        try
        {
            return AttachTap(nic, device);
        }
        catch
        {
            device.Dispose();
            throw;
        }
    }

    private readonly List<TapWire> _taps = new();
    private int _transmitWake;

    private int _draining;                          // one thread drains the transmit rings at a time
    private Action? _drainTransmit;                // DrainTransmit for an application's call, one delegate (what the call owes)
    private bool _threaded;                         // threaded mode: drains run (StopThreads turns it off, then drains itself)
    [ThreadStatic] private static NetworkHost? t_loopHost; // the host whose processor loop runs on this thread
    [ThreadStatic] private static bool t_transmitOwed;     // that loop queued frames it drains itself

    // A frame was queued for transmission. Queued by one of this host's processor threads while it
    // runs: that thread drains after its step, with no hand-off. Queued elsewhere (an
    // application's thread): one wake of the first processor per batch, not one per frame.
    private void WakeTransmit()
    {
        if (t_loopHost == this && Processor.Running is not null)
        {
            t_transmitOwed = true;
            return;
        }
        // An application's send on a thread of its own (not another host's processor): that
        // thread drains when its call ends.
        if (t_loopHost is null && _drainTransmit is { } drain && ApplicationCall.TryOwe(drain)) return;
        if (Interlocked.Exchange(ref _transmitWake, 1) == 0) _processors[0].Wake();
    }

    // Drains every NIC's transmit rings onto their wires and delivers what the cables hold that
    // is due, one thread at a time: a thread that finds another draining leaves its frames to it,
    // and the drainer looks again after letting go.
    private void DrainTransmit() => DrainTransmit(forApplication: false);

    // An application's thread (or a real wire's reader, after an inline step) drains what its
    // call queued and one more pass at most: under a
    // steady stream from the processors it would drain for them for ever, the whole host's
    // transmit waiting whenever its (unpinned) thread is preempted. The rest is the first
    // processor's. After StopThreads no drain starts: the deterministic mode's pump drains.
    private void DrainTransmit(bool forApplication)
    {
        for (var pass = 0; ; pass++)
        {
            if (Interlocked.CompareExchange(ref _draining, 1, 0) != 0) return;
            if (!Volatile.Read(ref _threaded))
            {
                Interlocked.Exchange(ref _draining, 0);
                return;
            }
            try
            {
                // Cleared before draining: a frame queued from here on wakes the first processor again.
                Volatile.Write(ref _transmitWake, 0);
                foreach (var nic in _nicArray) nic.Device.DrainTransmitRings();
                // The cables' queues are fed by the drains: served by the same one thread.
                foreach (var cable in _cableArray) cable.DeliverDue();
            }
            finally
            {
                Interlocked.Exchange(ref _draining, 0);
            }
            // A wake a thread set while this one drained was absorbed here (its own drain found
            // this one busy): clear it, or the next frame from outside would wake no one; then
            // look once more for a frame queued in between.
            Interlocked.Exchange(ref _transmitWake, 0);
            if (!TransmitPending()) return;
            if (forApplication && pass >= 1)
            {
                if (Interlocked.Exchange(ref _transmitWake, 1) == 0) _processors[0].Wake();
                return;
            }
        }
    }

    private bool TransmitPending()
    {
        foreach (var nic in _nicArray)
        {
            if (nic.Device.TransmitPending) return true;
        }
        return false;
    }

    // After a processor thread's step: what it queued for transmission goes now, from this thread.
    private void DrainOwed()
    {
        if (!t_transmitOwed) return;
        t_transmitOwed = false;
        DrainTransmit();
    }

    // A real wire's reader drains what an inline step queued, and one more pass at most, as an
    // application's thread does: the rest is the first processor's, and the reader goes back to Linux.
    private void DrainOwedInline()
    {
        if (!t_transmitOwed) return;
        t_transmitOwed = false;
        DrainTransmit(forApplication: true);
    }

    [ThreadStatic] private static List<Processor>? t_interrupted; // a real wire's reader: the processors its burst interrupted
    private Action? _drainOwedInline;                             // DrainOwedInline, one delegate (run after each inline step)

    void IReceiveBurst.Begin() => Processor.DeferWakes(t_interrupted ??= new List<Processor>());

    // The burst's interrupts: each processor free now runs on this thread, as an interrupt
    // handler would (its replies drained from here too); one whose thread is running is woken.
    void IReceiveBurst.End()
    {
        Processor.DeferWakes(null);
        var interrupted = t_interrupted;
        if (interrupted is not { Count: > 0 }) return;
        var outer = t_loopHost;
        t_loopHost = this;
        var next = 0;
        try
        {
            while (next < interrupted.Count)
            {
                var processor = interrupted[next++];
                if (!processor.TryRunInline(_drainOwedInline ??= DrainOwedInline)) processor.Wake();
            }
        }
        catch (Exception e)
        {
            // Code on the receive path threw (a handler, a tap: the frames are counted as
            // handler-fault): its processor and the ones not yet run are woken, so no interrupt is
            // left unserviced, and the exception is kept for StopThreads — the reader reads on.
            interrupted[next - 1].Wake();
            for (; next < interrupted.Count; next++) interrupted[next].Wake();
            ThreadFault(e);
        }
        finally
        {
            t_loopHost = outer;
            if (t_transmitOwed)
            {
                // Only when a step threw: what it queued for transmission is the first processor's.
                t_transmitOwed = false;
                if (Interlocked.Exchange(ref _transmitWake, 1) == 0) _processors[0].Wake();
            }
            interrupted.Clear();
        }
    }

    /// <summary>
    /// A cable (with a latency or a rate) whose delayed frames <see cref="Pump"/> delivers as they
    /// fall due. A cable plugged into one of the host's own NICs is added as it is plugged in
    /// (adding it again does nothing); this is for one between other hosts' NICs that this host
    /// should pump.
    /// </summary>
    public SimulatedCable AddCable(SimulatedCable cable)
    {
        if (!_cables.Contains(cable))
        {
            _cables.Add(cable);
            _cableArray = _cables.ToArray();
        }
        return cable;
    }

    private bool OwnsDevice(Devices.SimulatedNic device) => _nics.Any(n => n.Device == device);

    public HostNic Nic(string name) => _nics.FirstOrDefault(n => n.Name == name) ?? throw new ArgumentException($"no NIC named '{name}'");

    public Vnic Vnic(string name) => _vnicByName.GetValueOrDefault(name) ?? throw new ArgumentException($"no VNIC named '{name}'");

    public VirtualMachine VirtualMachine(string name) => _vms.FirstOrDefault(v => v.Name == name) ?? throw new ArgumentException($"no VM named '{name}'");

    public VirtualNetworkStack NetworkStack(string name) => _stacks.FirstOrDefault(v => v.Name == name) ?? throw new ArgumentException($"no container or service named '{name}'");

    // Interrupts only, under the cost model: hardware rings interrupt for every arriving frame.
    private void UpdateInterruptModel()
    {
        var everyFrame = !DynamicPolling && !_costs.IsFree;
        foreach (var nic in _nicArray)
        {
            foreach (var ring in nic.ReceiveRings) ring.InterruptEveryFrame = everyFrame;
        }
    }

    /// <summary>
    /// Offers VNIC <paramref name="vnic"/> traffic at <paramref name="bitsPerSecond"/> (frames of
    /// <paramref name="frameSize"/> bytes, evenly spaced, counted in frame bytes as allocations
    /// are) for <paramref name="span"/> of virtual time from now, through its NIC's link (which
    /// carries what fits its rate), running the host as time passes. The frames come from a peer
    /// (02:aa:00:00:00:01, 10.255.255.1 or fd00:ffff::1) to the VNIC's first MAC and address, in
    /// its VLAN: UDP datagrams to its first declared UDP port (or port 9), or — to a stack that
    /// serves TCP only — TCP segments carrying data to its first declared port, which it answers
    /// with RSTs as a real stack would (no connection). Returns the frames offered.
    /// </summary>
    public long Offer(string vnic, long bitsPerSecond, TimeSpan span, int frameSize = 1000) => Offer(span, frameSize, (vnic, bitsPerSecond));

    /// <summary>
    /// Offers several VNICs traffic at once (each its own rate, frames interleaved in time order),
    /// as <see cref="Offer(string, long, TimeSpan, int)"/> does for one: <c>host.Offer(TimeSpan.FromSeconds(1),
    /// 1000, ("web", 400_000_000), ("db", 100_000_000))</c>. Frame k of each stream comes at a
    /// point drawn (seeded: runs repeat) in its k-th interval, as <c>simulate</c> offers them: the
    /// rates are exact, and no stream's phase locks to a full link's departures — evenly spaced
    /// with fixed offsets, streams of equal rates arrived at the same instants (the later-listed
    /// always dropped), and of unequal rates (3G, 3G and 1G on 1G) got 82,056, 40,069 and 10
    /// frames (found by a new user's drive). Returns the frames offered in all.
    /// </summary>
    public long Offer(TimeSpan span, int frameSize, params (string Vnic, long BitsPerSecond)[] offers)
    {
        ArgumentNullException.ThrowIfNull(offers);
        // 60: the least Ethernet carries without its FCS, which frames here leave out (the link
        // adds it with the preamble and the gap) — as simulate's --frame-size (it said 64: found
        // by a new user's drive).
        if (frameSize < 60) throw new ArgumentOutOfRangeException(nameof(frameSize), frameSize, "a frame is at least 60 bytes (without its FCS)");
        if (span < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(span), span, "the span of virtual time cannot be negative");
        if (Time is not VirtualClock clock) throw new InvalidOperationException($"Offer runs on virtual time: build host '{Name}' with a VirtualClock");
        var spanNanoseconds = checked(span.Ticks * 100);
        var streams = new (Vnic Target, byte[] Frame, long Rate, long Count)[offers.Length];
        var unit = (Int128)8_000_000_000L * frameSize; // a frame's bits times a second in ns: frame k of a stream leaves at start + (k·unit + phase) / rate
        long total = 0;
        for (var i = 0; i < offers.Length; i++)
        {
            var (name, rate) = offers[i];
            if (rate <= 0) throw new ArgumentOutOfRangeException(nameof(offers), rate, $"the rate offered to '{name}' must be positive (bits per second)");
            var target = Vnic(name);
            var largest = target.Nic.Device.MaxFrameLength - 4; // its MTU + the Ethernet header (a VLAN's tag is added beside)
            if (frameSize > largest)
            {
                // Refused, not offered to be dropped as oversize one by one (found by a new user's drive).
                throw new ArgumentOutOfRangeException(nameof(frameSize), frameSize, $"NIC '{target.Nic.Name}' of VNIC '{name}' carries frames of at most {largest} bytes (MTU {largest - 14})");
            }
            // Frame k leaves at start + (k + u_k)·8·frameSize/rate, u_k drawn in [0, 1) (0 for a
            // lone stream: evenly spaced), computed exactly (no accumulated rounding); those before
            // the span's end are offered — at most one per interval that starts before it.
            var count = (long)(((Int128)spanNanoseconds * rate + unit - 1) / unit);
            var frame = OfferedFrame(target, frameSize);
            var least = frame.Length - (target.Vlan == 0 ? 0 : 4); // its headers, the tag aside (added beside the size asked)
            if (least > frameSize)
            {
                // Its headers alone are larger (IPv6 and UDP: 62 bytes; TCP: 74 or 94): refused, not offered larger than asked.
                throw new ArgumentOutOfRangeException(nameof(frameSize), frameSize, $"frames to VNIC '{name}' carry {least} bytes of headers at least; offer {least} bytes or more");
            }
            streams[i] = (target, frame, rate, count);
            total += count;
            if (total > MaxOfferedFrames) throw new ArgumentOutOfRangeException(nameof(offers), $"{total:N0} frames: more than {MaxOfferedFrames:N0} in one offer; lower the rates or the span");
        }
        var start = clock.Nanoseconds;
        var end = start + spanNanoseconds;
        RunTo(start);
        var sent = new long[streams.Length];
        var dueAt = new long[streams.Length];
        var draw = streams.Length > 1 ? new Random(0x5EED) : null;
        const int Fraction = 30; // u_k in units of 2^-30 of an interval
        long DueOf(int i)
        {
            var within = draw is null ? 0 : (Int128)draw.Next(1 << Fraction);
            var at = start + (long)((((Int128)sent[i] << Fraction) * unit + within * unit) / ((Int128)streams[i].Rate << Fraction));
            return sent[i] < streams[i].Count && at < end ? at : long.MaxValue;
        }
        for (var i = 0; i < streams.Length; i++) dueAt[i] = DueOf(i);
        long offered = 0;
        while (true)
        {
            // The stream whose next frame is due first (a handful of streams: a scan is enough).
            var next = -1;
            var due = long.MaxValue;
            for (var i = 0; i < streams.Length; i++)
            {
                if (dueAt[i] < due) (next, due) = (i, dueAt[i]);
            }
            if (next < 0) break;
            // Only frames were offered since: the host need not look at what has nothing to do.
            RunAwakeTo(due);
            streams[next].Target.Nic.Device.Offer(streams[next].Frame);
            sent[next]++;
            offered++;
            dueAt[next] = DueOf(next);
        }
        RunAwakeTo(end);
        // What the links carried lands before the report is read: a report now adds up.
        foreach (var device in streams.Select(s => s.Target.Nic.Device).Distinct())
        {
            while (device.OnWire > 0) RunAwakeTo(Math.Max(device.NextLanding, clock.Nanoseconds));
        }
        return offered;
    }

    // What Offer sends a VNIC: a frame its classifier and software checks accept.
    private byte[] OfferedFrame(Vnic target, int frameSize)
    {
        if (target.Ips.FirstOrDefault() is not { } address)
        {
            throw new InvalidOperationException($"VNIC '{target.Name}' has no declared address to send to" + (target.Settings.Dhcp ? " ('ip dhcp': Offer needs an 'ip' address in the .nicdsl file)" : ""));
        }
        var v6 = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;
        var source = new System.Net.IPEndPoint(System.Net.IPAddress.Parse(v6 ? "fd00:ffff::1" : "10.255.255.1"), 40000);
        return OfferedFrame(target, source, address, NetworkStackOf(target)?.Stack.Settings, frameSize);
    }

    /// <summary>
    /// Synthetic traffic for a VNIC (<see cref="Offer(string, long, TimeSpan, int)"/>, the traffic
    /// simulation): a <paramref name="frameSize"/>-byte frame from 02:aa:00:00:00:01 and
    /// <paramref name="source"/> to <paramref name="destination"/> in the VNIC's VLAN — a UDP
    /// datagram to its first declared UDP port (or port 9), or to a stack that serves TCP only a
    /// TCP segment carrying data to its first declared port, which it answers with a RST.
    /// </summary>
    internal static byte[] OfferedFrame(Vnic target, System.Net.IPEndPoint source, System.Net.IPAddress destination, StackSettings? settings, int frameSize)
    {
        var tcpOnly = settings is { TcpOnly: true };
        var headers = 14 + (destination.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? 40 : 20) + (tcpOnly ? 20 : 8);
        var payload = new byte[Math.Max(0, frameSize - headers)];
        if (tcpOnly)
        {
            var port = settings!.Ports is { Count: > 0 } ports ? ports[0] : 80;
            return Frames.Tcp(0x02AA_0000_0001UL, target.Macs[0], source, new System.Net.IPEndPoint(destination, port), TcpSegmentFlags.Ack | TcpSegmentFlags.Psh, 1, 1, payload, target.Vlan);
        }
        return Frames.Udp(0x02AA_0000_0001UL, target.Macs[0], source, new System.Net.IPEndPoint(destination, settings?.FirstUdpPort ?? 9), payload, target.Vlan);
    }

    /// <summary>The most frames one <see cref="Offer(TimeSpan, int, ValueTuple{string, long}[])"/> sends (100 million).</summary>
    public const long MaxOfferedFrames = 100_000_000;

    /// <summary>
    /// Writes what VNIC <paramref name="vnic"/> delivers to <paramref name="pcapPath"/> as pcap
    /// until the returned capture is disposed (<c>using var capture = host.Capture("web", "web.pcap");</c>).
    /// </summary>
    public VnicCapture Capture(string vnic, string pcapPath) => new(Vnic(vnic), Time, pcapPath);

    /// <summary>Adds a flow to <paramref name="vnic"/>'s inbound traffic (before the host starts).</summary>
    internal Flow AddFlow(Vnic vnic, FlowSettings settings)
    {
        EnsureNotStarted();
        if (_vnics.Any(v => v.Flows.Any(f => f.Name == settings.Name))) throw new ArgumentException($"a flow named '{settings.Name}' already exists");
        var flow = new Flow(settings, vnic.Name);
        if (settings.Bandwidth is { } bandwidth && bandwidth > 0) flow.Shaper = new BandwidthLimiter(bandwidth, vnic.Nic.Device.MaxFrameLength, Time);
        vnic.AddFlow(flow);
        return flow;
    }

    /// <summary>The virtual network stack behind <paramref name="vnic"/> (a container's or service's), or null.</summary>
    public VirtualNetworkStack? NetworkStackOf(Vnic vnic) => _stackOf.GetValueOrDefault(vnic);

    /// <summary>Adds a VM: its VNIC, the interface (with <paramref name="transform"/>) and the VM with its guest stack.</summary>
    internal VirtualMachine AddVirtualMachine(VnicSettings settings, PacketTransform transform = PacketTransform.None)
    {
        var vnic = CreateVnic(VnicRole.VirtualMachine, settings);
        if (settings.Bandwidth is { } bandwidth) vnic.Policer = new BandwidthLimiter(bandwidth, vnic.Nic.Device.MaxFrameLength, Time);
        var vcpu = new Processor(_vcpus.Count, $"vcpu:{settings.Name}") { Clock = Time, Costs = _costs };
        var vm = new VirtualMachine(vnic, transform, Time, vcpu);
        if (settings.OutboundBandwidth is { } outbound) vm.Interface.OutboundLimiter = new BandwidthLimiter(outbound, vnic.Nic.Device.MaxFrameLength, Time);
        vnic.Attach(vm.Interface);
        vcpu.AddPoller(vm);
        _vcpus.Add(vcpu);
        _vms.Add(vm);
        return vm;
    }

    /// <summary>
    /// Adds a container or service with its virtual network stack: the VNIC, the VNS behind it
    /// (inbound and outbound serialization queues, IP and transport layers) run by the VNIC's
    /// processor, and the outbound allocation from <see cref="VnicSettings.OutboundBandwidth"/>.
    /// </summary>
    internal VirtualNetworkStack AddNetworkStack(VnicRole role, VnicSettings settings, StackSettings stack)
    {
        if (role == VnicRole.VirtualMachine) throw new ArgumentException("use AddVirtualMachine for VMs", nameof(role));
        var vnic = CreateVnic(role, settings);
        var vns = new VirtualNetworkStack(vnic, stack, Time);
        vnic.Attach(vns);
        for (var i = 0; i < Math.Max(1, settings.Cpus); i++) vns.AddWorker(_processors[(vnic.Processor.Id + i) % _processors.Length]);
        _stacks.Add(vns);
        _stackOf[vnic] = vns;
        return vns;
    }

    /// <summary>Adds a packet destination's VNIC (a container or service) with a consumer of its own instead of a VNS (see <see cref="AddNetworkStack"/>).</summary>
    internal Vnic AddDestination(VnicRole role, VnicSettings settings, IVnicConsumer consumer)
    {
        if (role == VnicRole.VirtualMachine) throw new ArgumentException("use AddVirtualMachine for VMs", nameof(role));
        var vnic = CreateVnic(role, settings);
        vnic.Attach(consumer);
        return vnic;
    }

    /// <summary>
    /// Puts <paramref name="vnic"/>'s ring in polling mode: interrupts off, frames pulled through
    /// the ring's poll entry point (for an HRR, the one its driver advertised) by a poller that
    /// runs on the VNIC's processor.
    /// </summary>
    internal RingPoller Poll(Vnic vnic)
    {
        var ring = vnic.Ring ?? throw new InvalidOperationException($"VNIC '{vnic.Name}' is not bound to a ring yet");
        var poller = new RingPoller(vnic, ring.PollEntry, ring.InterruptControl);
        ring.PolledByConsumer = true;
        if (vnic.Settings.Bandwidth is { } bandwidth) poller.Limiter = new BandwidthLimiter(bandwidth, vnic.Nic.Device.MaxFrameLength, Time);
        // A VNS polls its ring itself, and only when its inbound VSQ is empty.
        if (vnic.Consumer is IFlowControlledConsumer owner) owner.UsePoller(poller);
        else _ringPollerOf[vnic] = vnic.Processor.AddPoller(poller);
        return poller;
    }

    /// <summary>
    /// Checks the wiring (every VNIC bound to a ring and reachable through the classifier) and
    /// enables the NICs with buffer pools large enough for every ring they feed.
    /// </summary>
    internal void Start()
    {
        EnsureNotStarted();
        var problems = new List<string>();
        foreach (var vnic in _vnics)
        {
            if (vnic.Ring is null) problems.Add($"VNIC '{vnic.Name}' is not bound to a receive ring");
            if (!vnic.Nic.Info.Classifier.Program.Rules.Any(r => ReferenceEquals(r.Counters, vnic.Counters))
                && !(vnic.Nic.DefaultRing is not null && vnic.Nic.SoftwareRings.Any(s => s.Classifier.Rules.Any(r => ReferenceEquals(r.Counters, vnic.Counters)))))
            {
                problems.Add($"no hardware classifier rule leads to VNIC '{vnic.Name}' (nor does the NIC classify in software)");
            }
        }
        foreach (var nic in _nicArray)
        {
            foreach (var rule in nic.Info.Classifier.Program.Rules)
            {
                if (nic.ReceiveRings[rule.Ring].Client is null) problems.Add($"NIC '{nic.Name}': a classifier rule leads to unbound ring hrr{rule.Ring}");
            }
        }
        if (problems.Count > 0) throw new InvalidOperationException($"host '{Name}' cannot start: {string.Join("; ", problems)}");

        foreach (var nic in _nicArray)
        {
            // Every frame in the datapath sits in exactly one ring (or is being handed over), so
            // one slot per descriptor means the pool never runs dry before a ring fills. Hosts
            // with thousands of software receive rings are capped at a memory budget instead:
            // past it, frames are dropped and counted as no-buffer.
            // Frames the far end buffers on the link hold slots too (rented as they come in), and
            // so do frames waiting in flows' own queues.
            var needed = nic.AllReceiveRings().Sum(r => (long)r.Capacity) + nic.TransmitRings.Sum(r => (long)r.Capacity) + 2 * Processor.BatchSize
                         + nic.Device.LinkBufferBytes / (EthernetHeader.Length + SimulatedNic.WireOverhead) + 1
                         + _vnics.Where(v => v.Nic == nic).Sum(v => v.Flows.Sum(f => (long)f.Settings.QueueLength));
            // Beside them, slots a cable keeps frames in while they travel (no copy onto its
            // line): not for a pool held to the budget, which copies as before.
            var budget = MaxPoolBytes / nic.Device.SlotSize;
            nic.Device.Enable((int)Math.Min(needed, budget), needed + SimulatedNic.LoanSlots <= budget ? SimulatedNic.LoanSlots : 0);
        }
        _runQueue = new RunQueue(AllProcessors.ToList(), Time);
        foreach (var nic in _nicArray)
        {
            nic.Datapath = _runQueue.Rounds; // deterministic until StartThreads
            foreach (var ring in nic.AllReceiveRings()) ring.PollWake = PollWakeOf(ring);
            if (nic.Info.Classifier.Program is PacketClassifier hardware) hardware.Prepare();
            foreach (var software in nic.SoftwareRings) software.Classifier.Prepare();
        }
        Started = true;
    }

    private RunQueue? _runQueue;

    // A polling destination's poller: its index among its processor's pollers.
    private readonly Dictionary<Vnic, int> _ringPollerOf = new();

    // Who may poll a ring whose interrupts are off: the processor its interrupts go to (dynamic
    // polling), the VNIC's processor (a ring poller) and the workers of the VNS behind it (a ring
    // it took over). All are woken: a frame never waits for a poll nobody will make.
    // The interrupt target polls the ring only from its list of backed-up rings; a VNS's workers
    // run the VNS, which pulls from its ring; any other VNIC's processor runs all its pollers.
    private Action PollWakeOf(ReceiveRing ring)
    {
        var target = ring.InterruptTarget;
        var others = new List<(Processor Processor, int Poller)>();
        if (ring.Client is Vnic vnic)
        {
            if (_stackOf.TryGetValue(vnic, out var vns)) others.AddRange(vns.WorkerPollers);
            else others.Add((vnic.Processor, _ringPollerOf.TryGetValue(vnic, out var poller) ? poller : -1));
        }
        var wake = others.Distinct().ToArray();
        return () =>
        {
            switch (target)
            {
                case Processor processor: processor.AwakenToPoll(Processor.RingsOnly); break;
                case MsiVector vector: vector.Processor.AwakenToPoll(Processor.RingsOnly); break;
            }
            foreach (var (processor, poller) in wake) processor.AwakenToPoll(poller);
        };
    }

    /// <summary>
    /// Deterministic mode: services interrupts and pollers on every processor, in processor
    /// order, and moves transmit rings to the wire, until nothing moves. Returns the rounds run.
    /// </summary>
    public int Pump()
    {
        EnsureStarted();
        if (_threads is not null) throw new InvalidOperationException("Pump is for the deterministic mode; the threaded mode runs by itself");
        // The caller may have done anything since the last pump (sent, read, connected): every
        // processor looks once.
        _runQueue!.WakeAll();
        return PumpAwake();
    }

    /// <summary>Rounds the deterministic mode's pumps have run (a round that could only have found nothing is not run: see <c>AnythingNow</c>).</summary>
    internal long RoundsRun { get; private set; }

    /// <summary>Pumps run so far by the deterministic mode (each a round of the awake processors and the NICs and cables, repeated until none moves).</summary>
    internal long Pumps { get; private set; }

    // The host's clock in nanoseconds.
    private long NowNanoseconds => VirtualClock.ToNanoseconds(Time, Time.GetTimestamp());

    // Rounds of the processors with work (RunQueue), until nothing moves.
    private int PumpAwake() => PumpAwake(DateTime.MaxValue);

    // PumpAwake, stopping after the round in which `until` (wall clock) passes, moving or not.
    private int PumpAwake(DateTime until)
    {
        // A handler, tap or hook that pumps from inside the datapath would run the processor it
        // is running on again, in the middle of its step (its batch buffers, its marks, its
        // charge): the datapath is not re-entrant. It says so instead.
        if (_pumping)
        {
            throw new InvalidOperationException(
                $"host '{Name}': Pump, RunTo or RunUntil called from inside the datapath (a socket handler, tap or hook); the datapath is not re-entrant — send or queue the work there and let the running pump take it");
        }
        _pumping = true;
        var outer = _runQueue!.EnterDatapath();
        try
        {
            return PumpAwakeOnce(until);
        }
        finally
        {
            RunQueue.ExitDatapath(outer);
            _pumping = false;
            // The waits a run's application started that this pump finished: made now, outside
            // the datapath, whoever pumps (a later RunUntil or Run too).
            _completions.Drain();
        }
    }

    private readonly DeferredCompletions _completions = new();
    private ApplicationContext? _application; // Run's, made by the first run

    private bool _pumping; // deterministic mode: one thread pumps at a time (Rounds), so a plain flag

    private int PumpAwakeOnce(DateTime until)
    {
        Pumps++;
        var queue = _runQueue!;
        if (queue.Rounds.Claim()) PoolsTakeLocks(); // this thread runs the datapath now: others hand their frames over
        var rounds = 0;
        bool progress;
        do
        {
            progress = false;
            // What has arrived by now goes in first — off each NIC's wire and off the cables — so
            // the processors take it in this round and what they send leaves in it too: a frame
            // off a cable is one round of work, not one to deliver and another to take it.
            foreach (var nic in _nicArray) progress |= nic.Device.Land() | nic.Device.RaiseModerated();
            foreach (var cable in _cableArray) progress |= cable.DeliverDue();
            progress |= queue.RunRound();
            RoundsRun++;
            foreach (var nic in _nicArray)
            {
                var device = nic.Device;
                progress |= nic.SendStaged(); // what other threads handed over
                progress |= device.DrainTransmitRings() > 0;
                if (device.TransmitBlocked)
                {
                    // A sender was pushed back: whoever it was retries now that the rings moved.
                    device.TransmitBlocked = false;
                    queue.WakeAll();
                }
            }
            rounds++;
            if (progress && !AnythingNow(queue))
            {
                // The round moved and left nothing for another at this instant: that round would
                // find nothing (it is counted as run, as it was before this look replaced it).
                rounds++;
                break;
            }
        }
        while (progress && (until == DateTime.MaxValue || DateTime.UtcNow < until));
        queue.CheckSleepers();
        return rounds;
    }

    // Whether a round now could move anything: a processor awake or due, a frame landed or due
    // off a cable, a moderated interrupt due, a frame queued, handed over (fresh, or left for want
    // of ring room, or refused: counted when the datapath looks) or pushed back.
    private bool AnythingNow(RunQueue queue)
    {
        var now = NowNanoseconds;
        if (queue.AnyAwake || queue.AnyDueBy(now)) return true;
        foreach (var nic in _nicArray)
        {
            var device = nic.Device;
            if (nic.HasStaged || device.TransmitPending || device.TransmitBlocked
                || device.NextLanding <= now || device.NextModeratedInterrupt <= now)
            {
                return true;
            }
        }
        foreach (var cable in _cableArray)
        {
            if (cable.NextDue() <= now) return true;
        }
        return false;
    }

    /// <summary>
    /// When the host next has work that only time brings — a frame arriving off a cable, a
    /// stack's timer, a poll deadline, credit for a waiting frame — in the clock's timestamps;
    /// <see cref="long.MaxValue"/> when nothing is scheduled.
    /// </summary>
    public long NextDue()
    {
        // Asked from outside, after the caller may have changed anything: every processor is
        // asked afresh (the scheduler's heap holds what its own loop knows).
        var now = NowNanoseconds;
        var due = long.MaxValue;
        foreach (var processor in AllProcessors) due = Math.Min(due, processor.NextDue(now));
        return Math.Min(Math.Min(due, NextArrival()), NextTimer());
    }

    // The next timer on the host's virtual clock (Task.Delay and timeouts on it): time stops there.
    private long NextTimer() => Time is VirtualClock clock ? clock.NextTimer : long.MaxValue;

    /// <summary>
    /// <see cref="NextDue"/> for the host's own event loop (<see cref="RunAwakeTo"/>, the traffic
    /// simulation): sleeping processors' deadlines from the scheduler's heap, awake ones asked.
    /// </summary>
    internal long NextDueAwake()
    {
        // Every component reports a time still to come, or none (cables and wires hold only what
        // is due later after a pump): time never creeps forward a nanosecond at a time.
        if (_runQueue is not { } queue || _threads is not null) return NextDue();
        return Math.Min(Math.Min(queue.NextDue(), NextArrival()), NextTimer());
    }

    // Whether a pump now would do anything: a processor awake (woken, or not yet looked), a frame
    // queued for transmission, handed over or left staged, a sender pushed back, or something due
    // by now (a frame off a wire or cable, a moderated interrupt, a sleeping processor's deadline).
    // Else `next` is when something next falls due, as NextDueAwake.
    private bool PumpHasWorkNow(out long next)
    {
        next = 0;
        if (_runQueue is not { } queue || AnythingNow(queue)) return true;
        next = NextDueAwake();
        return next <= NowNanoseconds;
    }

    // The next frame off a cable or a NIC's wire, or moderated interrupt.
    private long NextArrival() => Math.Min(NextLanding(), NextBesidesLanding());

    // The next frame landing off a NIC's wire.
    private long NextLanding()
    {
        var due = long.MaxValue;
        foreach (var nic in _nicArray) due = Math.Min(due, nic.Device.NextLanding);
        return due;
    }

    // The next frame off a cable, or moderated interrupt: what only a pump handles.
    private long NextBesidesLanding()
    {
        var due = long.MaxValue;
        // Frames another thread handed over since the last round: due now.
        foreach (var nic in _nicArray)
        {
            if (nic.NewlyStaged) return NowNanoseconds;
        }
        foreach (var cable in _cableArray) due = Math.Min(due, cable.NextDue());
        foreach (var nic in _nicArray) due = Math.Min(due, nic.Device.NextModeratedInterrupt);
        return due;
    }

    /// <summary>
    /// Deterministic mode on virtual time: runs every event due up to <paramref name="nanoseconds"/>
    /// on the host's <see cref="VirtualClock"/>, each at its time (frames landing off a wire, busy
    /// processors freeing up, timers), then leaves the clock there.
    /// </summary>
    public void RunTo(long nanoseconds)
    {
        if (Time is not VirtualClock) throw new InvalidOperationException($"RunTo moves virtual time: build host '{Name}' with a VirtualClock");
        Pump();
        RunAwakeTo(nanoseconds);
    }

    /// <summary>
    /// <see cref="RunTo"/> for a driver that has only offered frames to links since it last ran
    /// the host (the traffic simulation, <see cref="Offer(string, long, TimeSpan, int)"/>): the processors with nothing to do
    /// stay asleep, so an event costs what it touches, not the size of the host.
    /// </summary>
    internal void RunAwakeTo(long nanoseconds)
    {
        if (Time is not VirtualClock clock) throw new InvalidOperationException($"RunTo moves virtual time: build host '{Name}' with a VirtualClock");
        EnsureStarted();
        if (_threads is not null) throw new InvalidOperationException("RunTo is for the deterministic mode; the threaded mode runs by itself");
        PumpAwake();
        long next;
        while ((next = NextDueAwake()) <= nanoseconds)
        {
            clock.AdvanceTo(Math.Max(next, clock.Nanoseconds + 1));
            PumpAwake();
        }
        if (clock.Nanoseconds < nanoseconds)
        {
            // Nothing reported falls due by then; what waits on time without saying when (a
            // sender held back by its allocation) gets a look at the new time.
            clock.AdvanceTo(nanoseconds);
            PumpAwake();
        }
    }

    /// <summary>
    /// The traffic simulation's step (it has only offered frames to links since the host last
    /// ran, at the clock's time): every event due up to <paramref name="nanoseconds"/> runs at its
    /// time, and the clock is left there. A frame landing that wakes no processor (into a ring
    /// polled by a busy processor, or whose interrupt is already pending or moderated) needs no
    /// pump round: nothing else can move then. Unlike <see cref="RunAwakeTo"/> it pumps before
    /// the first event and at <paramref name="nanoseconds"/> only if a processor is awake:
    /// everything else reports when it is next due (<see cref="NextDueAwake"/>).
    /// </summary>
    internal void RunEventsTo(long nanoseconds)
    {
        if (Time is not VirtualClock clock || _runQueue is not { } queue || _threads is not null)
        {
            RunAwakeTo(nanoseconds);
            return;
        }
        // A pump can end with processors awake that did not move (woken for a sender pushed back
        // by a full transmit ring): they look again now and at the end, as RunAwakeTo's pumps let them.
        if (queue.AnyAwake) PumpAwake();
        while (true)
        {
            var others = Math.Min(queue.NextDue(), NextBesidesLanding());
            var next = Math.Min(others, NextLanding());
            if (next > nanoseconds) break;
            clock.AdvanceTo(Math.Max(next, clock.Nanoseconds + 1));
            if (others > clock.Nanoseconds && LandOnly()) continue;
            PumpAwake();
        }
        if (clock.Nanoseconds < nanoseconds)
        {
            clock.AdvanceTo(nanoseconds);
            if (queue.AnyAwake) PumpAwake();
        }
    }

    /// <summary>
    /// Deterministic mode on virtual time (<c>replay --pace</c>): runs the host after frames it
    /// received until every one of them has been taken — none left on a wire, a ring, a flow's
    /// queue, a VSQ or a guest ring — moving the clock from event to event only as far as that
    /// needs (a busy processor, a bandwidth allocation's credit), and no further than
    /// <paramref name="limitNanoseconds"/>. A frame waits for its turn, so no ring overflows, and
    /// the run repeats exactly (it used to run on the machine's clock).
    /// </summary>
    internal void RunUntilTaken(long limitNanoseconds)
    {
        if (Time is not VirtualClock clock) throw new InvalidOperationException($"RunUntilTaken moves virtual time: build host '{Name}' with a VirtualClock");
        EnsureStarted();
        PumpAwake();
        while (FramesOnTheirWayIn())
        {
            var next = NextDueAwake();
            if (next == long.MaxValue || next > limitNanoseconds) return;
            clock.AdvanceTo(Math.Max(next, clock.Nanoseconds + 1));
            PumpAwake();
        }
    }

    // Whether a frame the host received is still on its way to a VM or a stack.
    private bool FramesOnTheirWayIn()
    {
        foreach (var nic in _nicArray)
        {
            if (nic.Device.OnWire > 0) return true;
            foreach (var ring in nic.AllReceiveRings())
            {
                if (ring.Count > 0) return true;
            }
        }
        foreach (var vnic in _vnics)
        {
            if (vnic.FlowQueued > 0) return true;
        }
        foreach (var stack in _stacks)
        {
            if (stack.InboundQueued > 0) return true;
        }
        foreach (var vm in _vms)
        {
            if (vm.GuestRingCount > 0) return true;
        }
        return false;
    }

    /// <summary>
    /// After the last frame was offered: what the links still carry lands, each frame at its time,
    /// and the host runs to each (a frame on a link was carried and must be counted where it goes).
    /// </summary>
    internal void LandWhatTheWiresCarry()
    {
        while (_nics.Any(n => n.Device.OnWire > 0)) RunAwakeTo(NextDueAwake());
    }

    // The datapath moved to another thread: the one before may still be inside a send it began
    // as the datapath's, so the pools take locks from now on (correct, a little slower).
    private void PoolsTakeLocks()
    {
        foreach (var nic in _nicArray) nic.Device.Pool.Concurrent = true;
    }

    // Only frames landing are due now: they go through the hardware classifier onto their rings.
    // True when that was all (no processor woke); false when a pump must run.
    private bool LandOnly()
    {
        if (_runQueue!.Rounds.Claim()) PoolsTakeLocks();
        var outer = _runQueue.EnterDatapath();
        try
        {
            foreach (var nic in _nicArray) nic.Device.Land();
        }
        finally
        {
            RunQueue.ExitDatapath(outer);
        }
        if (_runQueue!.AnyAwake) return false;
        _runQueue.CheckSleepers(); // Debug builds: the landing forgot no wake-up
        return true;
    }

    /// <summary>The longest span <see cref="RunUntil"/> runs (no limit asked: a century of virtual time).</summary>
    internal static readonly TimeSpan MaxRunUntil = TimeSpan.FromDays(36525);

    /// <summary>
    /// Deterministic mode on virtual time, event by event: pumps until idle, and while
    /// <paramref name="done"/> is false moves the host's <see cref="VirtualClock"/> straight to
    /// the next time something is due (a frame off a cable, a TCP or
    /// neighbour timer, a poll deadline, credit for a waiting frame) and pumps again — no fixed
    /// tick, so rates and round trips come out of the model — for at most
    /// <paramref name="within"/> of virtual time. <paramref name="done"/> may act (an application
    /// reading and sending): what it queues runs before time moves on. Every processor looks once
    /// at the start; after that only those given work run (what <paramref name="done"/> queues
    /// wakes whoever takes it, as all work does). True when <paramref name="done"/> became true.
    /// </summary>
    public bool RunUntil(Func<bool> done, TimeSpan within) => RunUntilCore(done, within, nameof(RunUntil));

    /// <summary>
    /// Runs <paramref name="application"/> — async code using the host's sockets — in the
    /// deterministic mode, on virtual time, for at most <paramref name="within"/>: it starts on
    /// this thread under a synchronization context of the host's, so every continuation its
    /// <c>await</c>s post (an accept, a read, a send the datapath completed; one of its own tasks)
    /// runs on this thread between pumps, before virtual time moves on. A chain of awaits
    /// therefore runs step by step at the virtual instants its events happen, the same every run
    /// (under <see cref="RunUntil(Func{bool}, TimeSpan)"/> each step after the first ran on the
    /// thread pool, which the run did not wait for). True when the application's task completed;
    /// false when the span ran out first; what the task threw is thrown. Await the host's tasks
    /// (and the application's own async methods) directly: a combinator over a socket's task
    /// (<c>Task.WhenAll</c>/<c>WhenAny</c>, <c>WaitAsync</c>, <c>ContinueWith</c>) completes on
    /// the thread pool first, which the run does not wait for; so does code that leaves the
    /// context (<c>Task.Run</c>, <c>ConfigureAwait(false)</c>) and a timer on the system clock.
    /// Timers on the host's <see cref="VirtualClock"/> (<c>Task.Delay(span, clock)</c>, a
    /// <c>CancellationTokenSource(span, clock)</c> timeout) run on virtual time: the run stops at
    /// them. A continuation the
    /// application posts as it runs (<c>Task.Yield</c>) runs at the same instant; one that one
    /// posts in turn runs after the next event (a loop polling with <c>Task.Yield</c> lets time move on). Waits the
    /// application leaves behind when the span runs out keep their place (an accept still takes
    /// the next connection) but their continuations never run. Not from inside the application
    /// (nor <see cref="RunUntil(Func{bool}, TimeSpan)"/> there); blocking on a task inside it deadlocks.
    /// </summary>
    public bool Run(Func<Task> application, TimeSpan within)
    {
        ArgumentNullException.ThrowIfNull(application);
        if (Time is not VirtualClock) throw new InvalidOperationException($"Run moves virtual time: build host '{Name}' with a VirtualClock (or use the threaded mode on the system clock)");
        // One context for the host's life: what an earlier run's application left posted (a
        // transfer that outlived its span) runs in the next run, on its thread, at virtual time —
        // not on the thread pool while the next run races ahead of it (found by a new user's drive).
        var context = _application ??= new ApplicationContext(_completions);
        Task? task = null;
        var started = false;
        var done = RunUntilCore(() =>
        {
            if (!started)
            {
                // Started under the context, as its continuations run — and only once the run
                // is under way: a run refused (a negative span, a run inside a run) starts
                // nothing (its start was posted first, and went to the thread pool: found by review).
                started = true;
                context.Post(_ => task = application() ?? throw new InvalidOperationException("Run's application returned no task"), null);
            }
            // What is posted, then the waits that leads to (the application closing a socket
            // another of its awaits waits on), and what they post, at this same instant.
            _completions.Drain();
            context.RunPending();
            while (_completions.Drain()) context.RunPending();
            // What that posted (a Task.Yield) runs at this instant too, once: on an idle host it
            // waited for the span's end (found by a new user's drive); what it posts in turn waits
            // for the next event, so a loop polling with Task.Yield lets time move on.
            if (context.RunPending())
            {
                while (_completions.Drain()) context.RunPending();
            }
            return task is { IsCompleted: true };
        }, within, nameof(Run));
        if (done) task!.GetAwaiter().GetResult(); // what it threw, as it threw it
        return done;
    }

    // `caller`: the public method, as its errors name it (Run's said "RunUntil": found by a new user's drive).
    private bool RunUntilCore(Func<bool> done, TimeSpan within, string caller)
    {
        ArgumentNullException.ThrowIfNull(done);
        // From inside Run's application, a run would hold the application's own continuations
        // back until it returned: it spent its span waiting for them (found by review).
        if (SynchronizationContext.Current is ApplicationContext) throw new InvalidOperationException($"host '{Name}': RunUntil or Run called from inside Run's application; await the host's tasks there instead");
        if (Time is not VirtualClock clock) throw new InvalidOperationException($"{caller} moves virtual time: build host '{Name}' with a VirtualClock (or use the threaded mode on the system clock)");
        // No limit (Timeout.InfiniteTimeSpan, TimeSpan.MaxValue, anything past a century of
        // virtual time) is a century: the limit in nanoseconds overflowed past ~292 years and the
        // loop spun (found by a new user's drive). A negative span is a mistake, said.
        if (within < TimeSpan.Zero && within != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(within), within, $"{caller} runs for a span of virtual time: zero or more (Timeout.InfiniteTimeSpan for no limit: a century)");
        }
        var span = within == Timeout.InfiniteTimeSpan || within > MaxRunUntil ? MaxRunUntil : within;
        // Saturating, and short of long.MaxValue, which stands for "nothing scheduled" (a clock
        // run far already cannot wrap the limit negative: found by review).
        var spanNanoseconds = span.Ticks * 100;
        var limit = clock.Nanoseconds >= long.MaxValue - 1 - spanNanoseconds ? long.MaxValue - 1 : clock.Nanoseconds + spanNanoseconds;
        Pump(); // the caller may have done anything before: every processor looks once
        while (true)
        {
            if (done()) return true;
            if (_threads is not null) throw new InvalidOperationException("RunUntil is for the deterministic mode; the condition started the threaded mode");
            // What `done` queued (an application sent, read, armed a timer) woke the processors
            // that take it, as any work does (Debug builds check no wake-up is lost): only they run.
            // When it queued nothing (it found nothing to send or read), there is no pump to run:
            // on to the next event.
            long next;
            if (PumpHasWorkNow(out next))
            {
                if (PumpAwake() > 1) continue;
                next = NextDueAwake();
            }
            else
            {
                _runQueue!.CheckSleepers(); // Debug builds: what the predicate queued woke whoever takes it
            }
            if (next > limit)
            {
                // Nothing more happens within the span: spend what is left of it and look once more.
                if (clock.Nanoseconds < limit)
                {
                    clock.AdvanceTo(limit);
                    PumpAwake();
                    continue;
                }
                return false;
            }
            clock.AdvanceTo(Math.Max(next, clock.Nanoseconds + 1));
            PumpAwake();
        }
    }

    /// <summary>
    /// Threaded mode: one thread per processor, each servicing its interrupts as they arrive and
    /// its pollers every <paramref name="pollInterval"/>. Stop with <see cref="StopThreads"/>. An
    /// exception that user code the datapath calls (a socket handler, a tap) throws on these
    /// threads, or on a TAP wire's reader, does not end them: the frames are counted as
    /// <c>handler-fault</c>, the thread runs on, and <see cref="StopThreads"/> throws it.
    /// </summary>
    public void StartThreads(TimeSpan? pollInterval = null)
    {
        // Under the lock Dispose stops the threads under: none start on a host being disposed.
        lock (_disposeLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            StartThreadsLocked(pollInterval);
        }
    }

    private void StartThreadsLocked(TimeSpan? pollInterval)
    {
        EnsureStarted();
        if (_threads is not null) throw new InvalidOperationException("threads are already running");
        var interval = pollInterval ?? TimeSpan.FromMilliseconds(1);
        _stop = new CancellationTokenSource();
        var token = _stop.Token;
        _drainTransmit ??= () => DrainTransmit(forApplication: true);
        Volatile.Write(ref _threaded, true);
        foreach (var nic in _nicArray)
        {
            // From now on the pool takes locks and any thread sends (the lock first: a thread that
            // still saw the deterministic mode's datapath as another's hands its frame over, and
            // the first send on its VNIC, or the first processor's loop, sends it). Frames other
            // threads handed over go first; what the rings cannot take yet, the first processor's
            // loop sends.
            nic.Device.Pool.Concurrent = true;
            foreach (var ring in nic.AllReceiveRings()) ring.Concurrent = true; // fed and serviced on different threads
            nic.Device.Threaded = true; // no interrupt moderation: its deadlines are the pump's
            nic.SendStaged();
            nic.Datapath = null;
            // The first processor drains the transmit rings: a queued frame wakes it, so a reply
            // leaves at once instead of at its next poll.
            nic.Device.TransmitQueued = WakeTransmit;
        }
        // IP and transport (and several workers) may count at once now.
        foreach (var stack in _stacks) stack.Counters.Shared = true;
        foreach (var vm in _vms)
        {
            vm.Stack.Counters.Shared = true; // its vCPU and applications' threads
            vm.Memory.Concurrent = true;     // the guest ring: filled and read on different threads
        }
        _completions.CompleteDirectly(true); // nobody pumps now: the waits a run left complete on the thread pool
        _threads = new List<Thread>();
        var cores = ThreadPinning.AllowedCpus();
        if (cores.Length == 0) cores = new[] { 0 };
        var pinned = 0;
        foreach (var processor in AllProcessors)
        {
            processor.Threaded = true;
            // Each processor's thread on a core of its own, round robin over the cores the process
            // may use (the host's processors may outnumber the machine's).
            var core = cores[pinned++ % cores.Length];
            var thread = new Thread(() =>
            {
                processor.PinnedCpu = ThreadPinning.PinCurrentThread(core);
                t_loopHost = this;
                try
                {
                    while (!token.IsCancellationRequested)
                    {
                        try
                        {
                            processor.Wait(interval, token);
                            while (processor.RunOnce() && !token.IsCancellationRequested) DrainOwed();
                            DrainOwed();
                            if (ReferenceEquals(processor, _processors[0]))
                            {
                                foreach (var nic in _nicArray)
                                {
                                    nic.SendStaged(); // handed over as the threads started
                                    nic.Device.Land();
                                }
                                DrainTransmit(); // and the cables' due frames
                            }
                        }
                        catch (Exception e)
                        {
                            // User code the step called threw (the frames are counted as
                            // handler-fault; the ring's interrupt was serviced, and raised again for
                            // what it still holds): kept for StopThreads, and the processor runs
                            // on, as the deterministic mode's host goes on after Pump throws.
                            ThreadFault(e);
                        }
                    }
                }
                finally
                {
                    t_loopHost = null;
                }
            })
            { IsBackground = true, Name = $"{Name} {processor}" };
            _threads.Add(thread);
            thread.Start();
        }
        // Real wires last: their frames find the processors running.
        lock (_taps)
        {
            foreach (var tap in _taps) tap.StartReading();
        }
    }

    /// <summary>
    /// Waits until every ring and inbound VSQ is empty (or <paramref name="timeout"/> passes), stops
    /// the threads, then finishes on the calling thread what they left in flight (a deterministic
    /// pump: frames taken off one ring and not yet in the next, guest rings not yet read, replies
    /// not yet on the wire), so the counters add up when it returns.
    /// </summary>
    /// <exception cref="AggregateException">User code the datapath called threw on the host's threads while they ran (the first 16 exceptions, and one this call's own finishing pump met; <see cref="ThreadFaults"/> counts them all). The host is stopped all the same; what the threads threw and this call did not throw stays for the next.</exception>
    public void StopThreads(TimeSpan? timeout = null)
    {
        // Under the lock Dispose and StartThreads take: a stop beside a Dispose or another stop
        // raced on the threads' list and the cancellation source (a NullReferenceException that
        // left a Dispose half done: found by a stress drive). The second finds them stopped.
        lock (_disposeLock) StopThreadsLocked(timeout);
    }

    private void StopThreadsLocked(TimeSpan? timeout)
    {
        if (_threads is null || _stop is null) return;
        // Real wires first: nothing new comes in while the host drains.
        TapWire[] taps;
        lock (_taps)
        {
            _stopping = true;
            taps = _taps.ToArray();
        }
        try
        {
            foreach (var tap in taps) tap.StopReading(); // (throws on a reader's own thread: the threads run on)
        }
        catch
        {
            lock (_taps) _stopping = false;
            throw;
        }
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        Exception? finishing = null;
        while (DateTime.UtcNow < deadline && !Quiet())
        {
            foreach (var processor in AllProcessors) processor.Wake();
            Thread.Sleep(1);
        }
        _stop.Cancel();
        foreach (var processor in AllProcessors) processor.Wake();
        foreach (var thread in _threads) thread.Join();
        foreach (var processor in AllProcessors) processor.Threaded = false;
        foreach (var nic in _nicArray)
        {
            foreach (var ring in nic.AllReceiveRings()) ring.Concurrent = false;
        }
        foreach (var stack in _stacks) stack.Counters.Shared = stack.Policy == SerializationPolicy.Concurrent;
        foreach (var vm in _vms)
        {
            vm.Stack.Counters.Shared = false;
            vm.Memory.Concurrent = false;
        }
        // An application's call that owed a drain may be running it still: wait for it to end,
        // and none starts after (the rings have one consumer).
        Volatile.Write(ref _threaded, false);
        while (Interlocked.CompareExchange(ref _draining, 1, 0) != 0) Thread.Yield();
        try
        {
            foreach (var nic in _nicArray)
            {
                nic.Device.TransmitQueued = null;
                nic.Device.DrainTransmitRings();
                // The deterministic mode again: other threads hand their frames over. The pool keeps
                // its lock: an application's thread that saw the threaded mode may still be inside
                // a send (the next pump claims the datapath for its own thread).
                nic.Datapath = _runQueue!.Rounds;
            }
        }
        finally
        {
            Interlocked.Exchange(ref _draining, 0);
        }
        _threads = null;
        if (!_disposed) _completions.CompleteDirectly(false);
        try
        {
            // The wait above looks at each place a frame can be in turn, while the frames move: one
            // taken off a ring by a processor and not yet in the next (a guest ring, a VSQ) is in
            // none of them, and the threads stop at their next step, not when all is done (at once
            // when the timeout has passed). What they left finishes here, on the deterministic
            // mode's datapath, this thread's: every processor looks, round after round until
            // nothing moves — a frame in a guest ring is answered, a reply queued goes to the wire.
            // On the system clock a processor still busy (a cost table) is waited for. Bounded by
            // what is left of the timeout (at least a second): applications on other threads may
            // keep handing frames over, and what is left then stays for the next pump.
            var atLeast = DateTime.UtcNow + TimeSpan.FromSeconds(1);
            var finishBy = deadline > atLeast ? deadline : atLeast;
            while (true)
            {
                _runQueue!.WakeAll();
                PumpAwake(finishBy);
                if (Time is VirtualClock || Quiet() || DateTime.UtcNow >= finishBy) break;
                Thread.Sleep(1); // busy processors on the system clock: they free up as it moves
            }
        }
        catch (Exception e) when (PendingThreadFaults > 0)
        {
            // User code threw in this pump too (with nothing thrown on the threads it goes on as
            // any pump's does): thrown below with theirs, none of them lost.
            finishing = e;
        }
        finally
        {
            // What the real wires still hold towards Linux (a delay line) goes now: nothing moves
            // after. (Those attached while the threads stopped too: they never started reading.)
            lock (_taps) taps = _taps.ToArray();
            foreach (var tap in taps) tap.FlushDelayed();
            // Moderation again only now: a frame landing in the finishing pump (off a hairpin)
            // interrupts at once, not at a deadline on a clock that pump does not move.
            foreach (var nic in _nicArray) nic.Device.Threaded = false;
            _stop.Dispose();
            _stop = null;
            lock (_taps) _stopping = false;
        }
        // The host is stopped and its counters add up: now what user code threw on its threads.
        if (TakeThreadFaults(finishing) is { } faults) throw faults;
    }

    /// <summary>
    /// Releases what the host holds outside its own memory: stops the threads if they run (as
    /// <see cref="StopThreads"/> does, so the counters add up) and unplugs every TAP wire, closing
    /// its device; every TCP connection ends as aborted with no RST sent (a pending read returns
    /// 0, <see cref="TcpConnection.Error"/> says <see cref="TcpError.Aborted"/>), and every UDP
    /// socket and TCP listener closes (a pending receive or accept throws
    /// <see cref="ObjectDisposedException"/>). The host stays readable (counters, reports) and runs on in the deterministic
    /// mode; it cannot start threads or take a TAP device again. Unlike <see cref="StopThreads"/>
    /// it does not throw what user code threw on the host's threads (a <c>using</c> would hide the
    /// test's own failure behind it): those frames are counted as <c>handler-fault</c> and the
    /// exceptions in <see cref="ThreadFaults"/> — call <see cref="StopThreads"/> first to have them thrown.
    /// </summary>
    /// <exception cref="InvalidOperationException">Called on one of the host's own threads (a processor's, or a TAP reader's: a handler), which stopping would wait for; nothing is released then.</exception>
    /// <exception cref="AggregateException">A TAP device failed to close (every other one is closed all the same).</exception>
    public void Dispose()
    {
        // Not from the host's own threads: stopping them would wait for the calling thread itself.
        if (t_loopHost == this) throw new InvalidOperationException($"host '{Name}' cannot be disposed from one of its own threads");
        lock (_disposeLock) // a second Dispose (another thread's) waits for the first, then returns
        {
            if (_disposed) return;
            try
            {
                StopThreads(); // (a TAP reader's own thread: it throws before anything stops, and the host is not disposed)
            }
            catch (AggregateException)
            {
                // Counted in ThreadFaults (and each frame as handler-fault); see the summary.
            }
            TapWire[] taps;
            lock (_taps)
            {
                _disposed = true;
                taps = _taps.ToArray();
            }
            // The machine is gone: what applications wait on returns (reads end, accepts and
            // datagram receives throw ObjectDisposedException), and no RST goes anywhere.
            foreach (var vns in _stacks) vns.Stack.Shutdown();
            foreach (var vm in _vms) vm.Stack.Shutdown();
            // A datagram sender waiting for outbound room (SendToAsync) looks again and finds its
            // socket closed: nobody would ever flush the queue it waited on (found by a stress drive).
            foreach (var vns in _stacks) vns.ReleaseWriters();
            foreach (var vm in _vms) vm.ReleaseWriters();
            _completions.CompleteDirectly(true); // those waits end now, not at a pump that never comes
            List<Exception>? failures = null;
            foreach (var tap in taps)
            {
                try
                {
                    tap.Dispose(); // removes itself from _taps
                }
                catch (Exception e)
                {
                    (failures ??= new()).Add(e); // the others still close
                }
            }
            if (failures is not null) throw new AggregateException($"closing host '{Name}''s TAP devices failed", failures);
        }
    }

    private readonly Lock _disposeLock = new();
    private volatile bool _disposed;

    private bool _stopping; // StopThreads has begun (guarded by _taps): a TAP attached now does not start reading

    // Exceptions user code threw on the host's threads (a handler, a tap), for StopThreads: the
    // first MaxKeptFaults of those not yet thrown, how many those were, and how many in all.
    private readonly List<Exception> _threadFaults = new();
    private long _pendingThreadFaults;
    private long _threadFaultCount;
    private const int MaxKeptFaults = 16;

    private void ThreadFault(Exception e)
    {
        lock (_threadFaults)
        {
            _threadFaultCount++;
            _pendingThreadFaults++;
            if (_threadFaults.Count < MaxKeptFaults) _threadFaults.Add(e);
        }
    }

    /// <summary>Exceptions user code the datapath called (socket handlers, taps) has thrown on the host's threads in the threaded mode, since the host was made; <see cref="StopThreads"/> throws them (the first 16 of each run).</summary>
    public long ThreadFaults
    {
        get { lock (_threadFaults) return _threadFaultCount; }
    }

    private long PendingThreadFaults
    {
        get { lock (_threadFaults) return _pendingThreadFaults; }
    }

    // What user code threw on the threads (and `also`, thrown by the finishing pump), as one
    // exception; null for nothing. The threads' are forgotten.
    private Exception? TakeThreadFaults(Exception? also = null)
    {
        lock (_threadFaults)
        {
            if (_pendingThreadFaults == 0) return also;
            var kept = also is null ? _threadFaults.ToArray() : _threadFaults.Append(also).ToArray();
            var message = $"{_pendingThreadFaults} exception(s) thrown on host '{Name}''s threads by code its datapath called"
                          + (_pendingThreadFaults > _threadFaults.Count ? $" (the first {_threadFaults.Count} kept)" : "")
                          + "; the frames they were called for are counted as handler-fault"
                          + (also is null ? "" : "; the last was thrown as StopThreads finished their work");
            _threadFaults.Clear();
            _pendingThreadFaults = 0;
            return new AggregateException(message, kept);
        }
    }

    // No frame waits in a ring, a processor's interrupts, a VSQ or a guest ring.
    private bool Quiet() =>
        !(_nics.Any(n => n.AllReceiveRings().Any(r => r.Count > 0)) || _processors.Any(p => p.HasPending)
          || _stacks.Any(s => s.Inbound.Count > 0) || _vms.Any(vm => vm.GuestRingCount > 0));

    /// <summary>The counters of every NIC and VNIC, in the report shape of README.md § A short tour.</summary>
    public TrafficReport Report(double seconds = 0) => Report(seconds, 0);

    /// <summary>
    /// <see cref="Report(double)"/> for a run whose host ran <paramref name="ranNanoseconds"/> of
    /// virtual time, which may be longer than the <paramref name="seconds"/> the report covers
    /// (frames carried before the end land after it; a replay drains its rings after the
    /// capture's last frame): busy shares are of the longer span, so none passes 100 %.
    /// </summary>
    internal TrafficReport Report(double seconds, long ranNanoseconds)
    {
        // Busy time counts what was done by now: a step (or an interrupt that preempted it) that
        // runs on past the clock is not done yet.
        var now = NowNanoseconds;
        var busySpan = Math.Max(seconds * 1e9, ranNanoseconds);
        // Frames above a VNIC's ring are read from the rings themselves, which only a quiet
        // datapath allows; while threads run they are left out (call Report after StopThreads).
        var guests = _vms.ToDictionary(vm => vm.Vnic); // each VNIC's guest, if it is a VM's: looked up, not scanned for (a 4,000-VNIC host)
        var waiting = _nics.ToDictionary(n => n, n => _threads is null
            ? n.WaitingAboveVnicRings()
            : (ByVnic: new Dictionary<Accounting.TrafficCounters, long>(ReferenceEqualityComparer.Instance), Pending: 0L));
        var nics = _nics.Select(nic => new NicTrafficReport(
            nic.Name,
            nic.Device.Counters.Received,
            nic.Device.Counters.Drops().Concat(nic.SoftwareRings.SelectMany(s => s.Counters.Drops())).GroupBy(d => d.Key).Select(g => new KeyValuePair<string, long>(g.Key, g.Sum(x => x.Value))).ToReportList(),
            _vnics.Where(v => v.Nic == nic).Select(v => new VnicTrafficReport(
                v.Name, v.Ring?.Name ?? "-", v.Counters.Received, v.Counters.Delivered, v.Counters.DeliveredBytes, v.Counters.Drops(),
                NetworkStackOf(v) is { } vns
                    ? new StackTrafficReport(vns.Counters.Received, vns.Counters.Delivered, vns.Counters.Answered, vns.Counters.Sent, vns.Counters.Drops(), vns.Counters.SynQueueOverflows,
                        vns.Counters.FragmentsJoined, vns.Counters.FragmentsHeld, vns.Counters.SynCookiesSent, vns.Counters.SynCookiesAccepted, vns.Inbound.Count, vns.Counters.SendDrops(), vns.Counters.ParameterProblemsSent, vns.Counters.ConnectionsTimedOut)
                    : null,
                v.Latency.Count > 0
                    ? new LatencyReport(v.Latency.Percentile(0.5) / 1e3, v.Latency.Percentile(0.99) / 1e3, v.Latency.Max / 1e3)
                    : null,
                (v.Ring?.Count ?? 0) + waiting[nic].ByVnic.GetValueOrDefault(v.Counters) + v.FlowQueued, // in its ring, still above it (software rings), or in its flows' queues
                NetworkStackOf(v) is { } stack
                    ? new SerializationQueueReport(stack.InboundHighWater, stack.Backlogs, stack.PollingSwitches, stack.InboundQueued, stack.OutboundHighWater, stack.OutboundQueued, stack.BlockedSends)
                    : null,
                !_costs.IsFree && guests.GetValueOrDefault(v) is { } guest
                    ? new GuestTrafficReport(seconds > 0 ? guest.Vcpu.BusyBy(now) / busySpan : 0, guest.VirtualInterrupts, guest.GuestRingHighWater, guest.Interface.Blocked)
                    : null,
                v.Flows.Count > 0
                    ? v.Flows.Select(f => new FlowTrafficReport(f.Name, f.Counters.Received, f.Counters.Delivered, f.Counters.DeliveredBytes, f.Counters.Drops(), f.Queued)).ToReportList()
                    : null,
                // A VM's guest stack drops too (a socket nobody reads fills): in the report, not only in its counters (found by a new user's drive).
                guests.GetValueOrDefault(v) is { } vm
                    ? new StackTrafficReport(vm.Counters.Received, vm.Counters.Delivered, vm.Counters.Answered, vm.Counters.Sent, vm.Counters.Drops(), vm.Counters.SynQueueOverflows,
                        vm.Counters.FragmentsJoined, vm.Counters.FragmentsHeld, vm.Counters.SynCookiesSent, vm.Counters.SynCookiesAccepted, _threads is null ? vm.GuestRingCount : 0, vm.Counters.SendDrops(), vm.Counters.ParameterProblemsSent, vm.Counters.ConnectionsTimedOut)
                    : null)).ToReportList(),
            new WireTrafficReport(nic.Device.Link.Offered, nic.Device.Link.Carried, nic.Device.Link.Dropped),
            nic.Device.Counters.Replicated + nic.SoftwareRings.Sum(s => s.Counters.Replicated),
            waiting[nic].Pending)).ToReportList();
        // Processors are reported when the cost model is on (their busy time means something then).
        var cpus = _costs.IsFree ? null : _processors.Select(p => new ProcessorTrafficReport(p.Id,
            seconds > 0 ? p.BusyBy(now) / busySpan : 0, p.HardwareInterrupts, p.SoftwareInterrupts, p.Polls)).ToReportList();
        return new TrafficReport(_nics.Sum(n => n.Device.Counters.Received), nics, seconds, cpus);
    }

    private Vnic CreateVnic(VnicRole role, VnicSettings settings)
    {
        EnsureNotStarted();
        if (_vnicByName.ContainsKey(settings.Name)) throw new ArgumentException($"a VNIC named '{settings.Name}' already exists");
        if (settings.Macs.Count == 0) throw new ArgumentException($"VNIC '{settings.Name}' needs at least one MAC");
        if (settings.Vlan is < 0 or > 4094) throw new ArgumentException($"VNIC '{settings.Name}': VLAN {settings.Vlan} is outside 1..4094");
        var nic = Nic(settings.Nic);
        var processor = _processors[(settings.Cpu ?? _vnics.Count) % _processors.Length];
        var vnic = new Vnic(_vnics.Count, role, settings, nic, processor);
        _vnics.Add(vnic);
        _vnicByName.Add(vnic.Name, vnic);
        return vnic;
    }

    private void EnsureNotStarted()
    {
        if (Started) throw new InvalidOperationException($"host '{Name}' is already started");
    }

    private void EnsureStarted()
    {
        if (!Started) throw new InvalidOperationException($"host '{Name}' is not started");
    }
}
