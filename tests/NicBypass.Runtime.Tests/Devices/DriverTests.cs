using NicBypass.Runtime.Classification;
using NicBypass.Runtime.Devices;
using NicBypass.Runtime.Virtualization;

namespace NicBypass.Runtime.Tests;

public class DriverTests
{
    private sealed class RecordingAdvertisement : IHardwareAdvertisement
    {
        public List<string> Calls { get; } = new();

        public void Link(long speedBitsPerSecond, int maxFrameLength) => Calls.Add("link");

        public void ReceiveRing(ReceiveRingInfo ring) => Calls.Add("rx" + ring.Index);

        public void TransmitRing(TransmitRingInfo ring) => Calls.Add("tx" + ring.Index);

        public void Classifier(ClassifierInfo classifier) => Calls.Add("classifier");
    }

    private static INicDriver Driver(SimNicModel model, int rx = 2, int tx = 2, int msi = 2) =>
        SimNicModels.CreateDriver(new SimulatedNic("n", model, new SimNicSettings(rx, tx, 64, 1500, msi)));

    [Fact]
    public void Two_different_drivers_advertise_in_the_same_format_and_order()
    {
        var basic = Driver(SimNicModels.SimNic1G);
        var flow = Driver(SimNicModels.SimNic10G);
        Assert.IsType<SimNicBasicDriver>(basic);
        Assert.IsType<SimNicFlowDriver>(flow);

        var a = new RecordingAdvertisement();
        var b = new RecordingAdvertisement();
        basic.Advertise(a);
        flow.Advertise(b);

        Assert.Equal(new[] { "link", "rx0", "rx1", "tx0", "tx1", "classifier" }, a.Calls);
        Assert.Equal(a.Calls, b.Calls);

        var infoA = HardwareInfo.Query(basic);
        var infoB = HardwareInfo.Query(flow);
        Assert.Equal(typeof(HardwareInfo), infoA.GetType());
        Assert.Equal((2, 2, 64, 1518), (infoA.ReceiveRings.Count, infoA.TransmitRings.Count, infoA.ReceiveRings[0].Capacity, infoA.MaxFrameLength));
        Assert.Equal((2, 2, 64, 1518), (infoB.ReceiveRings.Count, infoB.TransmitRings.Count, infoB.ReceiveRings[0].Capacity, infoB.MaxFrameLength));
        Assert.Equal((ClassifierMatch.DestinationMac, 16), (infoA.Classifier.Fields, infoA.Classifier.Entries));
        Assert.Equal((ClassifierMatch.DestinationMac | ClassifierMatch.DestinationIp, 128), (infoB.Classifier.Fields, infoB.Classifier.Entries));
        Assert.Equal(("simnic-basic", "simnic-flow"), (infoA.Driver, infoB.Driver));
        Assert.Equal((1_000_000_000L, 10_000_000_000L), (infoA.LinkSpeedBitsPerSecond, infoB.LinkSpeedBitsPerSecond));
    }

    [Fact]
    public void Each_hardware_receive_ring_advertises_poll_interrupt_and_msi_controls()
    {
        var nic = new SimulatedNic("n", SimNicModels.SimNic100G, new SimNicSettings(RxRings: 4, MsiVectors: 2));
        var info = HardwareInfo.Query(new SimNicFlowDriver(nic));

        Assert.Equal(new[] { 0, 1, 0, 1 }, info.ReceiveRings.Select(r => r.MsiVector));
        Assert.All(info.ReceiveRings, r => Assert.Equal(2, r.MsiLevels));

        info.ReceiveRings[2].Interrupts(false);
        Assert.False(nic.ReceiveRings[2].InterruptsEnabled);
        info.ReceiveRings[2].Interrupts(true);
        Assert.True(nic.ReceiveRings[2].InterruptsEnabled);
        info.ReceiveRings[3].AssignMsi(0);
        Assert.Equal(0, nic.ReceiveRings[3].MsiVector);
        Assert.Throws<ArgumentOutOfRangeException>(() => info.ReceiveRings[3].AssignMsi(2));
    }

    [Fact]
    public void An_advertisement_out_of_the_standard_order_is_rejected()
    {
        var collector = new HardwareInfoCollector();
        collector.Link(1, 1518);

        var error = Assert.Throws<InvalidOperationException>(() => collector.Classifier(new ClassifierInfo(ClassifierMatch.DestinationMac, 1, new PacketClassifier("c", ClassifierMatch.DestinationMac, 1))));
        Assert.Contains("out of order", error.Message);
    }

    [Fact]
    public void A_driver_refuses_a_part_it_does_not_drive()
    {
        var nic = new SimulatedNic("n", SimNicModels.SimNic10G, new SimNicSettings(1));

        Assert.Throws<ArgumentException>(() => new SimNicBasicDriver(nic));
    }

    [Fact]
    public void The_host_keeps_its_own_copy_of_each_nics_hardware_information()
    {
        var host = new NetworkHost("h");
        var a = host.AddNic("a", SimNicModels.SimNic1G, new SimNicSettings(1));
        var b = host.AddNic("b", SimNicModels.SimNic100G, new SimNicSettings(8, 4));

        Assert.Equal(("simnic-1g", 1), (a.Info.Model, a.Info.ReceiveRings.Count));
        Assert.Equal(("simnic-100g", 8, 4), (b.Info.Model, b.Info.ReceiveRings.Count, b.Info.TransmitRings.Count));
        Assert.NotSame(a.Info, b.Info);
    }

    [Fact]
    public void A_plan_the_hardware_cannot_carry_fails_with_a_clear_message()
    {
        var host = new NetworkHost("h");
        var nic = host.AddNic("e0", SimNicModels.SimNic1G, new SimNicSettings(2));

        var error = Assert.Throws<InvalidOperationException>(() => nic.EnsureCanCarry(4, 1, 20, ClassifierMatch.DestinationMac | ClassifierMatch.Vlan));

        Assert.Contains("NIC 'e0' (simnic-1g, driver simnic-basic) cannot carry the plan", error.Message);
        Assert.Contains("uses 4 receive rings but the driver advertises 2", error.Message);
        Assert.Contains("needs 20 classifier entries but the driver advertises 16", error.Message);
        Assert.Contains("matches only DestinationMac", error.Message);
    }

    [Theory]
    [InlineData(3, 1, 1500)]
    [InlineData(1, 3, 1500)]
    [InlineData(1, 1, 9000)]
    public void A_device_rejects_settings_its_model_cannot_have(int rx, int tx, int mtu) =>
        Assert.Throws<ArgumentException>(() => new SimulatedNic("n", SimNicModels.SimNic1G, new SimNicSettings(rx, tx, 64, mtu)));
}

public class PoolBudgetTests
{
    [Fact]
    public void A_host_with_thousands_of_software_rings_gets_a_pool_within_the_memory_budget()
    {
        var build = new HostBuilder("big");
        var nic = build.AddNic("e0", "simnic-100g", new SimNicSettings(1, RingSize: 65536));
        var vnics = Enumerable.Range(0, 300).Select(i => build.AddVirtualMachine(new VnicSettings("v" + i, "e0", new[] { 0x020000000000UL + (ulong)i + 1 })).Vnic).ToList();
        build.BindSoftwareRing("e0", null, 0, "sr0", vnics.Count);
        for (var i = 0; i < vnics.Count; i++)
        {
            build.BindSoftwareReceiveRing("e0", "sr0", i, vnics[i].Name);
            build.Program("e0", "sr0", vnics[i].Macs[0], 0, i, vnics[i].Name);
            build.Program("e0", null, vnics[i].Macs[0], 0, 0, vnics[i].Name);
        }

        build.Start(); // 301 rings of 65,536 descriptors would need 19.7 million slots

        Assert.Equal(NetworkHost.MaxPoolBytes / nic.Device.SlotSize, nic.Device.Pool.RegularCount);
        Assert.Equal(nic.Device.Pool.RegularCount, nic.Device.Pool.SlotCount); // no loan slots past the budget
    }
}
