using NicBypass.Runtime.Virtualization;

namespace NicBypass.Runtime.Tests;

/// <summary>
/// The runtime's public surface is what users and generated code touch; everything else is
/// internal plumbing. A type appearing here or leaving is a deliberate API change: update the
/// list and docs/architecture.md together.
/// </summary>
public class PublicSurfaceTests
{
    private static readonly string[] Expected =
    {
        // building (HostBuilder and its settings; IMacLookup/IFieldLookup and FieldCheck are what generated lookups implement and bake)
        "HostBuilder", "VnicSettings", "SimNicSettings", "StackSettings", "StackProtocols", "SerializationPolicy", "VnicRole",
        "PacketTransform", "ClassifierMatch", "IMacLookup", "IFieldLookup", "FieldCheck", "FieldCheckOptions", "FieldVerdict", "SimNicModel", "SimNicModels", "ClassifierFullException", "FlowSettings",
        // running: the host, its NICs, VNICs, VMs and stacks, wires and time
        "NetworkHost", "HostNic", "SimulatedNic", "IWire", "SimulatedCable", "TapDevice", "TapWire", "TapDeviceException", "VirtualClock", "Vnic", "VirtualMachine", "GuestInterface",
        "VirtualNetworkStack", "NetworkStack", "Flow", "UdpSocket", "DatagramHandler", "TcpListener", "TcpConnection", "TcpState", "TcpError",
        "TcpException", "CongestionControl", "NetworkAddress", "NetworkEndpoint", "SendStatus", "FrameHandler", "EthernetHeader", "PacketDescriptor",
        // testing: ready-made frames and captures (README.md § Use it in a project)
        "Frames", "TcpSegmentFlags", "VnicCapture", "RecordingWire",
        // observing: counters, reports, the hardware information, rings and processors as read-only views
        "TrafficCounters", "DropReason", "DropReasons", "StackCounters", "StackDropReason", "StackDropReasons", "TrafficReport",
        "NicTrafficReport", "VnicTrafficReport", "StackTrafficReport", "SynCookieMode", "HardwareInfo", "ReceiveRingInfo", "TransmitRingInfo",
        "ClassifierInfo", "LinkCounters", "WireTrafficReport", "CostTable", "ProcessorTrafficReport", "SerializationQueueReport", "GuestTrafficReport", "FlowTrafficReport", "MsiVector", "LatencyHistogram", "LatencyReport", "ReceiveRing", "HardwareReceiveRing", "SoftwareReceiveRing", "SoftwareRing", "TransmitRing", "Processor",
    };

    [Fact]
    public void Only_what_users_and_generated_code_touch_is_public()
    {
        var actual = typeof(NetworkHost).Assembly.GetExportedTypes().Select(t => t.Name).Order().ToArray();
        Assert.Equal(Expected.Order().ToArray(), actual);
    }

    [Fact]
    public void Wiring_is_not_on_the_public_surface()
    {
        var wiring = new[] { "Deliver", "BeginBatch", "EndBatch", "Poll", "Program", "BindHardwareRing", "BindSoftwareRing", "Attach", "EnsureCanCarry", "Tick", "RaiseInterrupt", "RunOnce" };
        foreach (var type in new[] { typeof(VirtualNetworkStack), typeof(VirtualMachine), typeof(HostNic), typeof(Vnic), typeof(NetworkHost), typeof(Stacks.NetworkStack), typeof(Processor), typeof(GuestInterface), typeof(Rings.SoftwareRing) })
        {
            var exposed = type.GetMethods().Select(m => m.Name).Intersect(wiring).ToList();
            Assert.True(exposed.Count == 0, $"{type.Name} exposes {string.Join(", ", exposed)}");
        }
        // A software ring takes batches from its hardware ring only.
        Assert.DoesNotContain(typeof(Rings.SoftwareRing).GetMethods(), m => m.Name == "Receive");
    }
}
