using NicBypass.Runtime.Virtualization;

namespace NicBypass.Runtime.Tests;

/// <summary>MSI for real (docs/runtime.md): ring → vector → the processor the host assigned the vector to.</summary>
public class MsiTests
{
    private const string SharedVector = """
        host h {
            cpus 3
            nic e0 { model simnic-10g; rx-rings 2; msi 1 }
            vm a on e0 { mac 02:00:00:00:00:01; ip 10.0.0.1; cpu 1 }
            vm b on e0 { mac 02:00:00:00:00:02; ip 10.0.0.2; cpu 2 }
        }
        """;

    [Fact]
    public void Rings_sharing_a_vector_share_one_interrupt_on_the_vectors_processor()
    {
        var (host, _) = TestHost.Build(SharedVector);
        var nic = host.Nic("e0");
        var vector = Assert.Single(nic.Vectors);
        Assert.Equal(1, vector.Processor.Id); // from the cpu of the VNIC first bound on it

        nic.Device.Receive(TestFrames.Udp("02:00:00:00:00:01", "10.0.0.1", 9, new byte[8]));
        nic.Device.Receive(TestFrames.Udp("02:00:00:00:00:02", "10.0.0.2", 9, new byte[8]));
        host.Pump();

        Assert.Equal(1, vector.Interrupts);                 // one interrupt, one handler pass for both rings
        Assert.Equal(1, host.Processors[1].HardwareInterrupts);
        Assert.Equal(0, host.Processors[2].HardwareInterrupts); // b's processor is not interrupted
        Assert.Equal(1, host.Vnic("a").Counters.Delivered);
        Assert.Equal(1, host.Vnic("b").Counters.Delivered);
    }

    [Fact]
    public void Reassigning_a_vector_moves_its_interrupts()
    {
        var (host, _) = TestHost.Build(SharedVector);
        var nic = host.Nic("e0");

        nic.AssignVector(0, 2);
        nic.Device.Receive(TestFrames.Udp("02:00:00:00:00:01", "10.0.0.1", 9, new byte[8]));
        host.Pump();

        Assert.Equal(0, host.Processors[1].HardwareInterrupts);
        Assert.Equal(1, host.Processors[2].HardwareInterrupts);
        Assert.Equal(1, host.Vnic("a").Counters.Delivered);
        Assert.Throws<ArgumentOutOfRangeException>(() => nic.AssignVector(0, 3));
        Assert.Throws<ArgumentException>(() => nic.AssignVector(5, 0));
    }

    [Fact]
    public void With_a_vector_per_ring_each_vm_is_interrupted_on_its_own_processor()
    {
        var (host, _) = TestHost.Build(SharedVector.Replace("msi 1", "msi 2"));

        host.Nic("e0").Device.Receive(TestFrames.Udp("02:00:00:00:00:02", "10.0.0.2", 9, new byte[8]));
        host.Pump();

        Assert.Equal(2, host.Nic("e0").Vectors.Count);
        Assert.Equal(1, host.Processors[2].HardwareInterrupts);
        Assert.Equal(0, host.Processors[1].HardwareInterrupts);
    }
}
