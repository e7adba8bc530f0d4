using NicBypass.Runtime.Packets;
using NicBypass.Runtime.Stacks;

namespace NicBypass.Runtime.Tests;

/// <summary>
/// A fuzzer over the whole receive path and both kinds of stack: every frame kind the stacks
/// understand (ARP, IPv4 and IPv6 with UDP, TCP, ICMP, neighbour discovery, VLAN tags, extension
/// headers), mangled at random (bytes flipped, zeroed, saturated, cut, grown), fed through a NIC
/// into a host with VMs and virtual network stacks that listen and hold sockets. No exception may
/// escape, and the counts must still add up. CI runs a bounded number with a fixed seed
/// (<c>NICBYPASS_FUZZ_FRAMES</c> and <c>NICBYPASS_FUZZ_SEED</c> run more by hand: see docs/architecture.md).
/// </summary>
public class ReceivePathFuzzTests
{
    private const string Topology = """
        host f {
            cpus 2
            nic e0 { model simnic-100g; rx-rings 4; ring-size 4096 }
            container web on e0 { mac 02:00:00:00:00:01; ip 192.168.10.20; ip fd00::20; protocols tcp udp; ports 80 53 }
            vm guest on e0 { mac 02:00:00:00:00:02; ip 192.168.10.30; ip fd00::30 }
            service dns on e0 { mac 02:00:00:00:00:03; ip 192.168.10.40; protocols udp; ports 53; vlan 7 }
        }
        """;

    [Fact]
    public void Mangled_frames_of_every_kind_never_throw_and_every_count_still_adds_up()
    {
        var frames = int.TryParse(Environment.GetEnvironmentVariable("NICBYPASS_FUZZ_FRAMES"), out var n) ? n : 1_000_000;
        var seed = int.TryParse(Environment.GetEnvironmentVariable("NICBYPASS_FUZZ_SEED"), out var s) ? s : 20261202;
        // Virtual time, one millisecond per 32 frames: timers (ARP and neighbour retries and
        // probes, TCP retransmissions, TIME-WAIT) fire, and a run is the same on every machine.
        var clock = new VirtualClock();
        var (host, wires) = TestHost.Build(Topology, clock);
        host.NetworkStack("web").Stack.ListenTcp(80);
        host.NetworkStack("web").Stack.BindUdp(53);
        host.NetworkStack("dns").Stack.BindUdp(53);
        var seeds = Seeds();
        var random = new Random(seed);
        var device = host.Nic("e0").Device;

        for (var i = 0; i < frames; i++)
        {
            var frame = Mangle((byte[])seeds[random.Next(seeds.Length)].Clone(), random);
            try
            {
                device.Receive(frame);
                if (i % 32 == 0) host.RunTo(clock.Nanoseconds + 1_000_000);
            }
            catch (Exception ex)
            {
                Assert.Fail($"frame {i} (seed {seed}) threw {ex.GetType().Name}: {ex.Message}\n{Convert.ToHexString(frame)}\n{ex.StackTrace}");
            }
            if (i % 4096 == 0) wires["e0"].Frames.Clear();
        }
        host.Pump();

        var report = host.Report();
        var nic = Assert.Single(report.Nics);
        Assert.Equal(frames, nic.Received);
        report.AssertAddsUp();
        foreach (var vns in host.NetworkStacks)
        {
            var c = vns.Counters;
            Assert.Equal(c.Received, c.Delivered + c.Answered + c.DroppedTotal + c.FragmentsJoined + c.FragmentsHeld);
        }
        Assert.True(host.NetworkStack("web").Stack.NeighborCount <= NeighborCache.MaxEntries);
        // The fuzzer reached the stacks, not just the classifier: most frames got in, and many were accepted.
        Assert.True(host.NetworkStack("web").Counters.Received > frames / 4, $"web's stack saw {host.NetworkStack("web").Counters.Received} of {frames}");
        Assert.True(host.NetworkStack("web").Counters.Delivered + host.NetworkStack("web").Counters.Answered > frames / 20);
        Assert.True(host.VirtualMachine("guest").Counters.Received > frames / 20);
    }

    private static byte[][] Seeds()
    {
        var web = "02:00:00:00:00:01";
        var udp = TestFrames.Udp(web, "192.168.10.20", 53, new byte[24]);
        return
        [
            udp,
            TestFrames.Udp(web, "fd00::20", 53, new byte[24]),
            TestFrames.Tcp(web, "192.168.10.20", 80, "192.168.10.1"),
            TestFrames.Tcp(web, "192.168.10.20", 80, "192.168.10.1", syn: false, ack: true, sequence: 5, acknowledgment: 9, payload: new byte[40]),
            TestFrames.Tcp(web, "192.168.10.20", 80, "192.168.10.1", syn: false, rst: true),
            TestFrames.Ping(web, "192.168.10.20"),
            TestFrames.Ping("02:00:00:00:00:02", "192.168.10.30"),
            TestFrames.Ping6("02:00:00:00:00:02", "fd00::30"),
            TestFrames.ArpRequest("192.168.10.20"),
            TestFrames.ArpReply("192.168.10.1", "02:aa:00:00:00:01", "192.168.10.20", web),
            TestFrames.NeighborSolicitation("fd00::20"),
            TestFrames.NeighborAdvertisement(web, "fd00::20", "fd00::1", "02:aa:00:00:00:01", solicited: true),
            TestFrames.Tag(TestFrames.Udp("02:00:00:00:00:03", "192.168.10.40", 53, new byte[8]), 7),
            TestFrames.Udp("ff:ff:ff:ff:ff:ff", "192.168.10.30", 7, new byte[8]),
            TestFrames.Tag(TestFrames.Tag(TestFrames.Udp("02:00:00:00:00:03", "192.168.10.40", 53, new byte[8]), 7), 20), // QinQ
            TestFrames.Tag(TestFrames.Ping(web, "192.168.10.20"), 0),                                                      // priority tag
            WithExtensionHeader(TestFrames.Ping6("02:00:00:00:00:02", "fd00::30"), 0, [58, 0, 1, 4, 0, 0, 0, 0]),          // hop-by-hop
            WithExtensionHeader(TestFrames.Udp(web, "fd00::20", 53, new byte[16]), 44, [17, 0, 0, 0, 0, 0, 0, 9]),         // atomic fragment
            WithExtensionHeader(TestFrames.Udp(web, "fd00::20", 53, new byte[16]), 43, [17, 0, 0, 0, 0, 0, 0, 0]),         // routing, 0 left
            Frames.TcpSyn("02:aa:00:00:00:01", web, "[fd00::1]:40000", "[fd00::20]:80"),
            Frames.Tcp("02:aa:00:00:00:01", web, "192.168.10.1:40000", "192.168.10.20:80", TcpSegmentFlags.Fin | TcpSegmentFlags.Ack, 7, 9),
        ];
    }

    // An IPv6 frame with one extension header (of type `type`, body `header`, whose first byte is
    // the next header) between the fixed header and the upper layer; checksums stay valid.
    private static byte[] WithExtensionHeader(byte[] frame, byte type, byte[] header)
    {
        var ip = EthernetHeader.Length;
        var length = System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(ip + 4));
        var result = new byte[frame.Length + header.Length];
        frame.AsSpan(0, ip + 40).CopyTo(result);
        header.CopyTo(result, ip + 40);
        frame.AsSpan(ip + 40).CopyTo(result.AsSpan(ip + 40 + header.Length));
        result[ip + 6] = type;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(result.AsSpan(ip + 4), (ushort)(length + header.Length));
        return result;
    }

    private static byte[] Mangle(byte[] frame, Random random)
    {
        var changes = random.Next(0, 5);
        for (var c = 0; c < changes && frame.Length > 0; c++)
        {
            var at = random.Next(frame.Length);
            switch (random.Next(6))
            {
                case 0: frame[at] = (byte)random.Next(256); break;
                case 1: frame[at] = 0; break;
                case 2: frame[at] = 0xFF; break;
                case 3: frame = frame[..at]; break;                                                      // cut
                case 4: frame = [.. frame, .. new byte[random.Next(1, 64)].Select(_ => (byte)random.Next(256))]; break; // grown
                default: frame[at] ^= (byte)(1 << random.Next(8)); break;
            }
        }
        // Mostly keep the destination MAC, so frames reach the stacks rather than dying at the classifier.
        return frame;
    }
}
