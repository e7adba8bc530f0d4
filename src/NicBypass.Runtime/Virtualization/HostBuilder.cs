using System.Net;
using NicBypass.Runtime.Classification;
using NicBypass.Runtime.Devices;
using NicBypass.Runtime.Packets;
using NicBypass.Runtime.Rings;
using NicBypass.Runtime.Stacks;

namespace NicBypass.Runtime.Virtualization;

/// <summary>
/// Builds a <see cref="NetworkHost"/> step by step: the one narrow API through which both the
/// interpreted host and generated host classes wire a host (a generated host cannot see the
/// runtime's internals). Each method is one step of the seed's set-up, in this order:
/// <list type="number">
/// <item><see cref="AddNic"/>: discover and register a NIC, and take a copy of its driver's hardware information;</item>
/// <item><see cref="AddVirtualMachine"/>, <see cref="AddNetworkStack"/>: VNICs and what is behind them;</item>
/// <item><see cref="CheckHardware"/>: what the driver advertised can carry the plan;</item>
/// <item><see cref="BindHardwareRing"/>, <see cref="BindSoftwareRing"/>, <see cref="BindSoftwareReceiveRing"/>: rings to VNICs;</item>
/// <item><see cref="Program"/>, <see cref="LoadLookup"/>: the hardware classifier (through the driver's API) and software classifiers;</item>
/// <item><see cref="Poll"/>: polling mode for the VNICs whose allocation polling enforces;</item>
/// <item><see cref="Start"/>: check the wiring, enable the NICs.</item>
/// </list>
/// Objects are named as in the .nicdsl file; a wrong name or order fails with a clear message.
/// </summary>
public sealed class HostBuilder
{
    private bool _started;

    /// <param name="name">The host's name.</param>
    /// <param name="cpus">Processors; interrupts and polling run on them.</param>
    /// <param name="time">The clock (a <see cref="VirtualClock"/> in tests); the system clock by default.</param>
    public HostBuilder(string name, int cpus = 1, TimeProvider? time = null) => Host = new NetworkHost(name, cpus, time);

    /// <summary>The host being built; ready for traffic after <see cref="Start"/>.</summary>
    public NetworkHost Host { get; }

    /// <summary>Discovers a simulated NIC of <paramref name="model"/> (a name from <see cref="SimNicModels"/>), attaches its driver and registers it.</summary>
    public HostNic AddNic(string name, string model, SimNicSettings settings)
    {
        EnsureBuilding();
        return Host.AddNic(name, SimNicModels.Get(model), settings);
    }

    /// <summary>Adds a VM: its VNIC, the interface (with <paramref name="transform"/>) and the VM with its guest stack.</summary>
    public VirtualMachine AddVirtualMachine(VnicSettings settings, PacketTransform transform = PacketTransform.None)
    {
        EnsureBuilding();
        return Host.AddVirtualMachine(settings, transform);
    }

    /// <summary>Adds a container or service: its VNIC and the virtual network stack behind it.</summary>
    public VirtualNetworkStack AddNetworkStack(VnicRole role, VnicSettings settings, StackSettings stack)
    {
        EnsureBuilding();
        return Host.AddNetworkStack(role, settings, stack);
    }

    /// <summary>Fails with a clear message when what NIC <paramref name="nic"/>'s driver advertised cannot carry a plan that needs these resources.</summary>
    public void CheckHardware(string nic, int receiveRings, int transmitRings, int classifierEntries, ClassifierMatch fields)
    {
        EnsureBuilding();
        Host.Nic(nic).EnsureCanCarry(receiveRings, transmitRings, classifierEntries, fields);
    }

    /// <summary>Binds hardware receive ring <paramref name="ring"/> of <paramref name="nic"/> to VNIC <paramref name="vnic"/>.</summary>
    public void BindHardwareRing(string nic, int ring, string vnic)
    {
        EnsureBuilding();
        Host.Nic(nic).BindHardwareRing(ring, Host.Vnic(vnic));
    }

    /// <summary>
    /// Stacks software ring <paramref name="id"/> with <paramref name="rings"/> software receive
    /// rings on hardware receive ring <paramref name="ring"/> of <paramref name="nic"/> (when
    /// <paramref name="parent"/> is null) or on software receive ring <paramref name="ring"/> of
    /// software ring <paramref name="parent"/>.
    /// </summary>
    public void BindSoftwareRing(string nic, string? parent, int ring, string id, int rings)
    {
        EnsureBuilding();
        var host = Host.Nic(nic);
        if (host.SoftwareRings.Any(s => s.Id == id)) throw new ArgumentException($"NIC '{nic}' already has a software ring '{id}'", nameof(id));
        if (parent is null) host.BindSoftwareRing(ring, id, rings);
        else host.BindSoftwareRing(SoftwareRing(host, parent), ring, id, rings);
    }

    /// <summary>Binds software receive ring <paramref name="ring"/> of software ring <paramref name="softwareRing"/> to VNIC <paramref name="vnic"/>.</summary>
    public void BindSoftwareReceiveRing(string nic, string softwareRing, int ring, string vnic)
    {
        EnsureBuilding();
        var host = Host.Nic(nic);
        host.BindSoftwareReceiveRing(SoftwareRing(host, softwareRing), ring, Host.Vnic(vnic));
    }

    /// <summary>
    /// Programs one classifier rule: NIC <paramref name="nic"/>'s hardware classifier through its
    /// driver's API (when <paramref name="softwareRing"/> is null) or that software ring's
    /// classifier. Frames to <paramref name="mac"/> in <paramref name="vlan"/>, to
    /// <paramref name="ips"/> (none: any) and to <paramref name="ports"/> of
    /// <paramref name="protocols"/> (none: any) go to ring <paramref name="ring"/> on their way to
    /// <paramref name="vnic"/>, and so do the group frames of its multicast groups. The classifier
    /// matches the fields its model advertises; the VNIC checks the rest in software.
    /// </summary>
    public void Program(string nic, string? softwareRing, ulong mac, int vlan, int ring, string vnic,
        IReadOnlyList<IPAddress>? ips = null, IReadOnlyList<int>? ports = null, StackProtocols protocols = StackProtocols.None)
    {
        EnsureBuilding();
        var target = Host.Vnic(vnic);
        var rule = new ClassifierRule(mac, vlan, ring, target.Counters, ips ?? Array.Empty<IPAddress>(), ports ?? Array.Empty<int>(), protocols,
            SlaacClient.Groups(mac, target.Settings.Dhcp, target.Settings.Multicast, target.Settings.Ips), target.Flows);
        var host = Host.Nic(nic);
        HostNic.Program(softwareRing is null ? host.Info.Classifier.Program : SoftwareRing(host, softwareRing).Classifier, rule, target);
    }

    /// <summary>
    /// <see cref="Program"/> with the addresses VNIC <paramref name="vnic"/> declares and, for a
    /// container or service, the ports its stack declares and the protocols they are for: what a
    /// classifier entry holds unless the plan says otherwise.
    /// </summary>
    public void ProgramAsDeclared(string nic, string? softwareRing, ulong mac, int vlan, int ring, string vnic)
    {
        EnsureBuilding();
        var target = Host.Vnic(vnic);
        var stack = Host.NetworkStackOf(target)?.Settings;
        // `ip dhcp`: classified on the MAC alone — its address is learned, and its DHCP client's
        // answers come to port 68 (unicast once it renews), which it did not declare.
        var dhcp = target.Settings.Dhcp;
        var ports = dhcp ? Array.Empty<int>() : stack?.Ports ?? Array.Empty<int>();
        Program(nic, softwareRing, mac, vlan, ring, vnic, dhcp ? null : target.Settings.Ips, ports, ports.Count > 0 ? stack!.Protocols : StackProtocols.None);
    }

    /// <summary>
    /// Adds flow <paramref name="settings"/> to VNIC <paramref name="vnic"/> (flowadm's add-flow):
    /// its frames get their own counters and allocation; <c>Bandwidth: 0</c> blocks them. Before
    /// <see cref="Program"/>, so the hardware classifier can drop a blocked flow it can match.
    /// </summary>
    public Flow AddFlow(string vnic, FlowSettings settings)
    {
        EnsureBuilding();
        return Host.AddFlow(Host.Vnic(vnic), settings);
    }

    /// <summary>
    /// Crossbow's fallback when the hardware classifier cannot hold every VNIC: NIC
    /// <paramref name="nic"/>'s hardware classifier sends what it does not match to hardware
    /// receive ring <paramref name="ring"/>, whose software ring classifies it (and counts it).
    /// </summary>
    public void ClassifyInSoftware(string nic, int ring)
    {
        EnsureBuilding();
        Host.Nic(nic).ClassifyInSoftware(ring);
    }

    /// <summary>Replaces a classifier's generic lookup with one specialised to its rules (checked against them).</summary>
    public void LoadLookup(string nic, string? softwareRing, IMacLookup lookup)
    {
        EnsureBuilding();
        var host = Host.Nic(nic);
        if (softwareRing is null) host.Info.Classifier.Program.LoadLookup(lookup);
        else SoftwareRing(host, softwareRing).Classifier.LoadLookup(lookup);
    }

    /// <summary>Puts VNIC <paramref name="vnic"/>'s ring in polling mode (its allocation enforced by the rate of polling).</summary>
    public void Poll(string vnic)
    {
        EnsureBuilding();
        Host.Poll(Host.Vnic(vnic));
    }

    /// <summary>Checks the wiring and enables the NICs; returns the host, ready for traffic.</summary>
    public NetworkHost Start()
    {
        EnsureBuilding();
        Host.Start();
        _started = true;
        return Host;
    }

    /// <summary>Parses IPv4 and IPv6 addresses written as text (the form generated code uses).</summary>
    public IPAddress[] Addresses(params string[] addresses) => Array.ConvertAll(addresses, IPAddress.Parse);

    private static SoftwareRing SoftwareRing(HostNic nic, string id) =>
        nic.SoftwareRings.FirstOrDefault(s => s.Id == id) ?? throw new ArgumentException($"NIC '{nic.Name}' has no software ring '{id}'", nameof(id));

    private void EnsureBuilding()
    {
        if (_started) throw new InvalidOperationException($"host '{Host.Name}' is already started: build steps come before Start");
    }
}
