using NicBypass.Runtime.Packets;
using System.Net;
using System.Net.NetworkInformation;
using System.Text.Json;
using NicBypass.Cli.Captures;
using PacketDotNet;

namespace NicBypass.Cli.Tests;

public class ReplayCommandTests
{
    private const string Topology = """
        host h {
            nic e0 { model simnic-10g; rx-rings 2; soft-ring-width 2 }
            vm a on e0 { mac 02:00:00:00:00:0a; ip 10.0.0.10 }
            vm b on e0 { mac 02:00:00:00:00:0b; ip 10.0.0.11 }
            container c on e0 { mac 02:00:00:00:00:0c; ip 10.0.0.12; vlan 3 }
        }
        """;

    private static readonly string[] Macs = { "02-00-00-00-00-0A", "02-00-00-00-00-0B", "02-00-00-00-00-0C", "02-00-00-00-00-99", "FF-FF-FF-FF-FF-FF" };

    // Frames built with PacketDotNet; the test's own count of them is the oracle.
    private static (byte[] Capture, List<(string Mac, int Vlan, byte[] Frame)> Sent) BuildCapture(int count, int seed)
    {
        var random = new Random(seed);
        var sent = new List<(string, int, byte[])>();
        var stream = new MemoryStream();
        using (var writer = new PcapWriter(stream))
        {
            for (var i = 0; i < count; i++)
            {
                var mac = Macs[random.Next(Macs.Length)];
                var vlan = random.Next(4) == 0 ? 3 : 0;
                var udp = new UdpPacket((ushort)random.Next(1024, 65535), 9) { PayloadData = new byte[random.Next(0, 200)] };
                var ip = new IPv4Packet(IPAddress.Parse("10.0.0.1"), IPAddress.Parse("10.0.0.10")) { PayloadPacket = udp };
                var ether = new EthernetPacket(PhysicalAddress.Parse("02-AA-00-00-00-01"), PhysicalAddress.Parse(mac), EthernetType.IPv4) { PayloadPacket = ip };
                ether.UpdateCalculatedValues();
                var frame = ether.Bytes;
                if (vlan != 0)
                {
                    var tagged = new byte[frame.Length + 4];
                    frame.AsSpan(0, 12).CopyTo(tagged);
                    tagged[12] = 0x81;
                    tagged[15] = (byte)vlan;
                    frame.AsSpan(12).CopyTo(tagged.AsSpan(16));
                    frame = tagged;
                }
                writer.Write(1_000_000_000L + i * 1000L, frame);
                sent.Add((mac, vlan, frame));
            }
        }
        return (stream.ToArray(), sent);
    }

    private const string ClassificationTopology = """
        host h {
            nic e0 { model MODEL; rx-rings 2; soft-ring-width 2 }
            vm a on e0 { mac 02:00:00:00:00:0a; ip 10.0.0.10; ip fd00::a; multicast 224.0.0.251 }
            vm b on e0 { mac 02:00:00:00:00:0b; ip 10.0.0.11 }
            container c on e0 { mac 02:00:00:00:00:0c; ip 10.0.0.12; vlan 3; protocols udp; ports 53 }
        }
        """;

    private static readonly (string Name, string Mac, string Ip, int Vlan, bool Ports)[] Targets =
    {
        ("a", "02-00-00-00-00-0A", "10.0.0.10", 0, false),
        ("b", "02-00-00-00-00-0B", "10.0.0.11", 0, false),
        ("c", "02-00-00-00-00-0C", "10.0.0.12", 3, true),
    };

    // One frame of each kind the classifier decides on (docs/architecture.md § Classification as advertised), built with PacketDotNet,
    // and the test's own model of where it goes on a model matching IPs, VLANs and ports or not:
    // (VNICs that count it received, those of them that deliver it; no-match at the NIC).
    private static (byte[] Frame, string[] Received, string[] Delivered, bool NicNoMatch) Frame(int kind, int target, int vlan, bool hwIp, bool hwVlanPort)
    {
        var t = Targets[target];
        EthernetPacket Udp(string mac, string ip, ushort port, string? to = null)
        {
            var udp = new UdpPacket(40000, port) { PayloadData = new byte[20] };
            var packet = new IPv4Packet(IPAddress.Parse("10.0.0.1"), IPAddress.Parse(ip)) { PayloadPacket = udp };
            var ether = new EthernetPacket(PhysicalAddress.Parse("02-AA-00-00-00-01"), PhysicalAddress.Parse(mac), EthernetType.IPv4) { PayloadPacket = packet };
            ether.UpdateCalculatedValues();
            return ether;
        }
        byte[] Tagged(EthernetPacket ether, int id) => id < 0 ? ether.Bytes : TagOf(ether.Bytes, id);
        // A unicast frame to `t`: which of its fields are wrong decides where it is dropped.
        (byte[], string[], string[], bool) Unicast(byte[] frame, bool wrongIp, bool wrongPort, bool wrongVlan)
        {
            if (!wrongIp && !wrongPort && !wrongVlan) return (frame, new[] { t.Name }, new[] { t.Name }, false);
            if (wrongIp && hwIp || (wrongPort || wrongVlan) && hwVlanPort) return (frame, Array.Empty<string>(), Array.Empty<string>(), true);
            return (frame, new[] { t.Name }, Array.Empty<string>(), false); // received, then dropped by the software check
        }
        // A group frame in VLAN `vlan` to the `members` of its group.
        (byte[], string[], string[], bool) Group(byte[] frame, string[] members)
        {
            var inVlan = members.Where(m => Targets.Single(x => x.Name == m).Vlan == vlan).ToArray();
            var received = hwVlanPort ? inVlan : members;
            return (frame, received, inVlan, received.Length == 0);
        }
        var own = t.Vlan == 0 ? -1 : t.Vlan;
        switch (kind)
        {
            case 0: return Unicast(Tagged(Udp(t.Mac, t.Ip, 53), own), false, false, false);
            case 1: return Unicast(Tagged(Udp(t.Mac, "10.0.0.99", 53), own), true, false, false);
            case 2: return Unicast(Tagged(Udp(t.Mac, t.Ip, 9999), own), false, t.Ports, false);
            case 3:
            {
                var icmp = new byte[16];
                icmp[0] = 8; // echo request
                var packet = new IPv4Packet(IPAddress.Parse("10.0.0.1"), IPAddress.Parse(t.Ip)) { Protocol = PacketDotNet.ProtocolType.Icmp, PayloadData = icmp };
                var ether = new EthernetPacket(PhysicalAddress.Parse("02-AA-00-00-00-01"), PhysicalAddress.Parse(t.Mac), EthernetType.IPv4) { PayloadPacket = packet };
                ether.UpdateCalculatedValues();
                return Unicast(Tagged(ether, own), false, false, false); // ICMP carries no ports: it passes a port check
            }
            case 4:
            {
                var arp = new ArpPacket(ArpOperation.Request, PhysicalAddress.Parse("00-00-00-00-00-00"), IPAddress.Parse("10.0.0.11"),
                    PhysicalAddress.Parse("02-AA-00-00-00-01"), IPAddress.Parse("10.0.0.1"));
                var ether = new EthernetPacket(PhysicalAddress.Parse("02-AA-00-00-00-01"), PhysicalAddress.Parse("FF-FF-FF-FF-FF-FF"), EthernetType.Arp) { PayloadPacket = arp };
                return Group(Tagged(ether, vlan == 0 ? -1 : vlan), new[] { "a", "b", "c" });
            }
            case 5:
            {
                // A priority tag (VID 0) belongs to the untagged VNICs.
                var u = Targets[target % 2];
                t = u;
                return Unicast(TagOf(Udp(u.Mac, u.Ip, 53).Bytes, 0), false, false, false);
            }
            case 6: return Group(Tagged(Udp("01-00-5E-00-00-FB", "224.0.0.251", 5353), vlan == 0 ? -1 : vlan), new[] { "a" });
            case 7: return Group(Udp("01-00-5E-00-00-FC", "224.0.0.252", 5353).Bytes, Array.Empty<string>());
            case 8: return (Udp("02-00-00-00-00-99", "10.0.0.99", 53).Bytes, Array.Empty<string>(), Array.Empty<string>(), true);
            default: return Unicast(Tagged(Udp(t.Mac, t.Ip, 53), t.Vlan == 0 ? 3 : -1), false, false, true);
        }
    }

    private static byte[] TagOf(byte[] frame, int vlan)
    {
        var tagged = new byte[frame.Length + 4];
        frame.AsSpan(0, 12).CopyTo(tagged);
        tagged[12] = 0x81;
        tagged[14] = (byte)(vlan >> 8);
        tagged[15] = (byte)vlan;
        frame.AsSpan(12).CopyTo(tagged.AsSpan(16));
        return tagged;
    }

    [Fact]
    public void Replay_reports_a_stacks_ip_fragments_joined_and_held()
    {
        const string topology = """
            host h {
                nic e0 { model simnic-10g; rx-rings 2 }
                container web on e0 { mac 02:00:00:00:00:0a; ip 10.0.0.10; protocols udp; ports 53 }
            }
            """;
        // A 4,000-byte ping in three fragments (answered, in fragments), and the first fragment of another.
        var ping = Frames.EchoRequest("02:aa:00:00:00:01", "02:00:00:00:00:0a", "10.0.0.1", "10.0.0.10", id: 3, dataLength: 4000);
        var data = ping.AsSpan(14 + 20).ToArray();
        var stream = new MemoryStream();
        using (var writer = new PcapWriter(stream))
        {
            var pieces = new[] { (0, 1480, 7), (1480, 2960, 7), (2960, data.Length, 7), (0, 1480, 8) };
            for (var i = 0; i < pieces.Length; i++)
            {
                var (start, end, id) = pieces[i];
                var fragment = new byte[14 + 20 + end - start];
                ping.AsSpan(0, 14 + 20).CopyTo(fragment);
                System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(fragment.AsSpan(14 + 2), (ushort)(20 + end - start));
                System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(fragment.AsSpan(14 + 4), (ushort)id);
                System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(fragment.AsSpan(14 + 6), (ushort)((end < data.Length ? 0x2000 : 0) | start >> 3));
                System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(fragment.AsSpan(14 + 10), 0);
                System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(fragment.AsSpan(14 + 10), InternetChecksum.Compute(fragment.AsSpan(14, 20)));
                data.AsSpan(start, end - start).CopyTo(fragment.AsSpan(14 + 20));
                writer.Write(1_000_000_000L + i * 100_000L, fragment);
            }
        }
        var capturePath = CliRunner.TempFile("", "fragments.pcap");
        File.WriteAllBytes(capturePath, stream.ToArray());

        var (exit, output, _) = CliRunner.Run("replay", CliRunner.TempFile(topology), capturePath, "--format", "json");
        var (_, text, _) = CliRunner.Run("replay", CliRunner.TempFile(topology), capturePath);

        Assert.Equal(0, exit);
        using var json = JsonDocument.Parse(output);
        var stack = json.RootElement.GetProperty("nics")[0].GetProperty("vnics")[0].GetProperty("stack");
        Assert.Equal(4, stack.GetProperty("received").GetInt64());
        Assert.Equal(1, stack.GetProperty("answered").GetInt64());
        Assert.Equal(2, stack.GetProperty("fragmentsJoined").GetInt64());
        Assert.Equal(1, stack.GetProperty("fragmentsHeld").GetInt64());
        Assert.Equal(3, stack.GetProperty("sent").GetInt64()); // the echo reply, in three fragments
        Assert.Contains("IP fragments joined 2 (all but each datagram's last), waiting for the rest 1", text);
    }

    [Fact]
    public void Replay_reports_each_flow_with_its_counters_as_the_contract_says()
    {
        const string topology = """
            host h {
                nic e0 { model simnic-100g; rx-rings 2 }
                container web on e0 { mac 02:00:00:00:00:0a; ip 10.0.0.10; protocols tcp udp; ports 53 80 }
                flow dns on web { transport udp; local-port 53; bandwidth 0 }
                flow other on web { transport tcp; remote-port 7 }
            }
            """;
        var stream = new MemoryStream();
        using (var writer = new PcapWriter(stream))
        {
            for (var i = 0; i < 10; i++)
            {
                var udp = new UdpPacket((ushort)(i < 4 ? 7 : 40000), 53) { PayloadData = new byte[10] };
                var ip = new IPv4Packet(IPAddress.Parse("10.0.0.1"), IPAddress.Parse("10.0.0.10")) { PayloadPacket = udp };
                var ether = new EthernetPacket(PhysicalAddress.Parse("02-AA-00-00-00-01"), PhysicalAddress.Parse("02-00-00-00-00-0A"), EthernetType.IPv4) { PayloadPacket = ip };
                ether.UpdateCalculatedValues();
                writer.Write(1_000_000_000L + i * 1000L, ether.Bytes);
            }
        }
        var capturePath = CliRunner.TempFile("", "flows.pcap");
        File.WriteAllBytes(capturePath, stream.ToArray());

        var (exit, output, _) = CliRunner.Run("replay", CliRunner.TempFile(topology), capturePath, "--format", "json");

        Assert.Equal(0, exit);
        using var json = JsonDocument.Parse(output);
        ReportJson.AssertAddsUp(json.RootElement);
        var vnic = json.RootElement.GetProperty("nics")[0].GetProperty("vnics")[0];
        var flows = vnic.GetProperty("flows").EnumerateArray().ToDictionary(f => f.GetProperty("name").GetString()!);
        // Every datagram is to port 53: dns (first) takes all ten and blocks them in hardware; 'other' gets none.
        Assert.Equal(10, flows["dns"].GetProperty("received").GetInt64());
        Assert.Equal(0, flows["dns"].GetProperty("delivered").GetInt64());
        Assert.Equal(10, flows["dns"].GetProperty("dropped").GetProperty("blocked").GetInt64());
        Assert.Equal(0, flows["other"].GetProperty("received").GetInt64());
        Assert.Equal(10, vnic.GetProperty("dropped").GetProperty("blocked").GetInt64());

        var (_, plan, _) = CliRunner.Run("plan", CliRunner.TempFile(topology));
        Assert.Contains("FLOW dns on web: udp local-port 53; blocked in hardware; priority medium", plan);
        var (_, planJson, _) = CliRunner.Run("plan", CliRunner.TempFile(topology), "--format", "json");
        using var planDocument = JsonDocument.Parse(planJson);
        Assert.Equal(2, planDocument.RootElement.GetProperty("hosts")[0].GetProperty("flows").GetArrayLength());
    }

    /// <summary>
    /// Wrong IP, wrong port, ICMP, ARP, priority tags, multicast groups joined and not, unknown
    /// MACs and wrong VLANs, replayed on each model: the counts equal the test's own model of
    /// what each model's hardware matches and what the VNICs check in software.
    /// </summary>
    [Theory]
    [InlineData("simnic-1g")]
    [InlineData("simnic-10g")]
    [InlineData("simnic-100g")]
    public void Replay_counts_per_vnic_equal_an_independent_count_of_the_same_frames(string model)
    {
        var random = new Random(11);
        var sent = new List<(byte[] Frame, string[] Received, string[] Delivered, bool NicNoMatch)>();
        var stream = new MemoryStream();
        using (var writer = new PcapWriter(stream))
        {
            for (var i = 0; i < 2000; i++)
            {
                var frame = Frame(random.Next(10), random.Next(3), random.Next(2) == 0 ? 0 : 3, model != "simnic-1g", model == "simnic-100g");
                writer.Write(1_000_000_000L + i * 1000L, frame.Frame);
                sent.Add(frame);
            }
        }
        var topology = CliRunner.TempFile(ClassificationTopology.Replace("MODEL", model));
        var capturePath = CliRunner.TempFile("", "capture.pcap");
        File.WriteAllBytes(capturePath, stream.ToArray());
        var outDir = Path.Combine(Path.GetDirectoryName(capturePath)!, "out");

        var (exit, output, error) = CliRunner.Run("replay", topology, capturePath, "--out", outDir, "--format", "json");

        Assert.Equal(0, exit);
        Assert.Equal("", error);
        using var json = JsonDocument.Parse(output);
        Assert.Equal(2000, json.RootElement.GetProperty("frames").GetInt64());
        Assert.Equal(0.001999, json.RootElement.GetProperty("seconds").GetDouble(), 6);
        var nic = json.RootElement.GetProperty("nics")[0];
        Assert.Equal(2000, nic.GetProperty("received").GetInt64());
        Assert.Equal(sent.Count(s => s.NicNoMatch), nic.GetProperty("dropped").GetProperty("no-match").GetInt64());
        foreach (var t in Targets)
        {
            var vnic = nic.GetProperty("vnics").EnumerateArray().Single(v => v.GetProperty("name").GetString() == t.Name);
            Assert.Equal(sent.Count(s => s.Received.Contains(t.Name)), vnic.GetProperty("received").GetInt64());
            Assert.Equal(sent.Count(s => s.Delivered.Contains(t.Name)), vnic.GetProperty("delivered").GetInt64());
            var softwareDrops = vnic.GetProperty("dropped").TryGetProperty("no-match", out var n) ? n.GetInt64() : 0;
            Assert.Equal(sent.Count(s => s.Received.Contains(t.Name) && !s.Delivered.Contains(t.Name)), softwareDrops);

            // The per-VNIC capture holds exactly those frames, in order, VLAN tag (or priority tag) removed.
            var written = CaptureReader.Read(File.OpenRead(Path.Combine(outDir, t.Name + ".pcap"))).Select(f => f.Data).ToList();
            var expectedFrames = sent.Where(s => s.Delivered.Contains(t.Name))
                .Select(s => s.Frame[12] == 0x81 ? s.Frame.Take(12).Concat(s.Frame.Skip(16)).ToArray() : s.Frame).ToList();
            Assert.Equal(expectedFrames, written);
            Assert.Equal(expectedFrames.Sum(f => (long)f.Length), vnic.GetProperty("deliveredBytes").GetInt64());
        }
    }

    // 64-byte frames to VM a, `spacing` ns apart on the capture's clock.
    private static string SmallFrames(int count, long spacing) => FramesAt(Enumerable.Range(0, count).Select(i => 1_000_000_000L + i * spacing));

    [Fact]
    public void Frames_enter_the_wire_at_their_capture_times_and_a_burst_faster_than_the_link_is_dropped_there()
    {
        // 64-byte frames 10 ns apart: a 10G link carries one every 67.2 ns (with preamble, gap and FCS).
        var capture = SmallFrames(2000, 10);

        var (exit, output, error) = CliRunner.Run("replay", CliRunner.TempFile(Topology), capture, "--format", "json");

        Assert.Equal(0, exit);
        Assert.Equal("", error);
        using var json = JsonDocument.Parse(output);
        var nic = json.RootElement.GetProperty("nics")[0];
        var wire = nic.GetProperty("wire");
        Assert.Equal(2000, wire.GetProperty("offered").GetInt64());
        Assert.True(wire.GetProperty("dropped").GetInt64() > 0, output);
        Assert.Equal(2000, wire.GetProperty("carried").GetInt64() + wire.GetProperty("dropped").GetInt64());
        Assert.Equal(wire.GetProperty("carried").GetInt64(), nic.GetProperty("received").GetInt64());
    }

    [Fact]
    public void A_burst_at_the_line_rate_faster_than_the_processor_fills_the_ring_and_paced_it_does_not()
    {
        // 5,000 64-byte frames at the 10G line rate (67.2 ns apart) to VM a on a 16-descriptor
        // ring: the link carries them all, but its processor, under the cost model, takes longer
        // than that a frame — the ring fills, each drop counted. Paced, each frame waits for the
        // one before to be taken: none is dropped, and the processor's busy time shows.
        const string small = """
            host h {
                cpus 2
                nic e0 { model simnic-10g; rx-rings 2; ring-size 16 }
                vm a on e0 { mac 02:00:00:00:00:0a; ip 10.0.0.10 }
            }
            """;
        var capture = SmallFrames(5000, 68);
        var topology = CliRunner.TempFile(small);

        var (exit, output, error) = CliRunner.Run("replay", topology, capture, "--format", "json");
        Assert.Equal(0, exit);
        Assert.Equal("", error);
        using (var json = JsonDocument.Parse(output))
        {
            var nic = json.RootElement.GetProperty("nics")[0];
            Assert.Equal(0, nic.GetProperty("wire").GetProperty("dropped").GetInt64());
            var a = nic.GetProperty("vnics")[0];
            Assert.True(a.GetProperty("dropped").TryGetProperty("ring-full", out var full) && full.GetInt64() > 0, output);
            Assert.True(json.RootElement.GetProperty("cpus").EnumerateArray().Any(c => c.GetProperty("busy").GetDouble() > 0), output); // (a share of the drain after the burst too)
        }

        (exit, output, error) = CliRunner.Run("replay", topology, capture, "--pace", "--format", "json");
        Assert.Equal(0, exit);
        using (var json = JsonDocument.Parse(output))
        {
            var a = json.RootElement.GetProperty("nics")[0].GetProperty("vnics")[0];
            Assert.Equal(5000, a.GetProperty("delivered").GetInt64());
            Assert.Empty(a.GetProperty("dropped").EnumerateObject());
            Assert.True(json.RootElement.GetProperty("seconds").GetDouble() > 5000 * 68e-9, output); // time moved for the busy processor
        }
    }

    // Frames of `size` bytes (64 unless said) to VM a at the given capture times (ns).
    private static string FramesAt(IEnumerable<long> times, int size = 64)
    {
        var stream = new MemoryStream();
        using (var writer = new PcapWriter(stream))
        {
            foreach (var time in times)
            {
                var frame = new byte[size];
                EthernetHeader.WriteMac(frame, Frames.Mac("02:00:00:00:00:0a"));
                EthernetHeader.WriteMac(frame.AsSpan(6), Frames.Mac("02:aa:00:00:00:01"));
                frame[12] = 0x88;
                frame[13] = 0xB5;
                writer.Write(time, frame);
            }
        }
        var path = CliRunner.TempFile("", "times.pcap");
        File.WriteAllBytes(path, stream.ToArray());
        return path;
    }

    [Theory]
    [InlineData(new[] { 0L, 10_000, 5_000, 20_000 }, 0.00002)] // a 5 µs step back (two interfaces' frames): no time added
    [InlineData(new[] { 0L, 10L * 86_400_000_000_000 }, 3600)] // ten days apart: the gap is cut to an hour
    public void Small_reorderings_add_no_time_and_a_gap_is_at_most_an_hour(long[] times, double seconds)
    {
        var (exit, output, error) = CliRunner.Run("replay", CliRunner.TempFile(Topology), FramesAt(times.Select(t => 1_000_000_000L + t)), "--format", "json");

        Assert.True(exit == 0, error);
        using var json = JsonDocument.Parse(output);
        Assert.Equal(seconds, json.RootElement.GetProperty("seconds").GetDouble(), 9);
        Assert.Equal(times.Length, json.RootElement.GetProperty("nics")[0].GetProperty("wire").GetProperty("carried").GetInt64());
    }

    [Fact]
    public void After_the_captures_clock_steps_back_the_frames_keep_their_spacing_instead_of_piling_up()
    {
        // Two captures merged (mergecap -a): two frames at 2 s, then 2,000 frames from 1 s on,
        // 10 µs apart — well within a 10G link. Time does not go back, and the frames after the
        // step keep their spacing: none is a burst the link must drop.
        var capture = FramesAt(new[] { 2_000_000_000L, 2_000_010_000L }.Concat(Enumerable.Range(0, 2000).Select(i => 1_000_000_000L + i * 10_000L)));

        var (exit, output, error) = CliRunner.Run("replay", CliRunner.TempFile(Topology), capture, "--format", "json");

        Assert.True(exit == 0, error);
        using var json = JsonDocument.Parse(output);
        var wire = json.RootElement.GetProperty("nics")[0].GetProperty("wire");
        Assert.Equal((2002L, 2002L, 0L), (wire.GetProperty("offered").GetInt64(), wire.GetProperty("carried").GetInt64(), wire.GetProperty("dropped").GetInt64()));
        // The span: 10 µs, the step (no time), then 1,999 gaps of 10 µs.
        Assert.Equal(0.02, json.RootElement.GetProperty("seconds").GetDouble(), 9);
    }

    [Fact]
    public void Paced_the_same_burst_is_taken_whole()
    {
        var capture = SmallFrames(2000, 10);

        var (exit, output, _) = CliRunner.Run("replay", CliRunner.TempFile(Topology), capture, "--pace", "--format", "json");

        Assert.Equal(0, exit);
        using var json = JsonDocument.Parse(output);
        var nic = json.RootElement.GetProperty("nics")[0];
        Assert.Equal(2000, nic.GetProperty("received").GetInt64());
        var a = nic.GetProperty("vnics").EnumerateArray().Single(v => v.GetProperty("name").GetString() == "a");
        Assert.Equal(2000, a.GetProperty("delivered").GetInt64());
    }

    [Fact]
    public void Paced_frames_enter_no_faster_than_the_link_carries_them()
    {
        // Full-size frames into a 1G NIC, whose processor takes each far sooner than the link
        // carries the next: paced, 1,000 of them entered in 1.3 ms — 9.6 Gbit/s on a 1G link
        // (found by a new user's drive). The link carries one every (1,514 + 24) × 8 ns.
        const string topology = """
            host h {
                nic e0 { model simnic-1g; rx-rings 1 }
                vm a on e0 { mac 02:00:00:00:00:0a; ip 10.0.0.10 }
            }
            """;
        var capture = FramesAt(Enumerable.Range(0, 1000).Select(i => 1_000_000_000L + i), size: 1514);

        var (exit, output, _) = CliRunner.Run("replay", CliRunner.TempFile(topology), capture, "--pace", "--format", "json");

        Assert.Equal(0, exit);
        using var json = JsonDocument.Parse(output);
        Assert.Equal(1000, json.RootElement.GetProperty("nics")[0].GetProperty("vnics")[0].GetProperty("delivered").GetInt64());
        Assert.InRange(json.RootElement.GetProperty("seconds").GetDouble(), 0.9999 * 999 * 1538 * 8e-9, 1000 * 1538 * 8e-9 + 1e-4);
    }

    // A classic pcap whose header's link-type field is `field`, holding `frames` as they are
    // (each frame's original length its own, or `originals[i]` where given: cut by a snaplen).
    private static string RawPcap(uint field, params byte[][] frames) => RawPcap(field, frames, null);

    private static string RawPcap(uint field, byte[][] frames, int[]? originals)
    {
        var bytes = new List<byte>();
        void U32(uint value) => bytes.AddRange(BitConverter.GetBytes(value));
        U32(0xA1B2C3D4);
        bytes.AddRange(new byte[] { 2, 0, 4, 0 });
        U32(0);
        U32(0);
        U32(65535);
        U32(field);
        for (var i = 0; i < frames.Length; i++)
        {
            U32(1 + (uint)i);
            U32(0);
            U32((uint)frames[i].Length);
            U32((uint)(originals?[i] ?? frames[i].Length));
            bytes.AddRange(frames[i]);
        }
        var path = Path.Combine(Path.GetDirectoryName(CliRunner.TempFile(Topology))!, "raw.pcap");
        File.WriteAllBytes(path, bytes.ToArray());
        return path;
    }

    private static byte[] FrameToA(int length)
    {
        var frame = new byte[length];
        EthernetHeader.WriteMac(frame, Frames.Mac("02:00:00:00:00:0a"));
        EthernetHeader.WriteMac(frame.AsSpan(6), Frames.Mac("02:aa:00:00:00:01"));
        frame[12] = 0x88;
        frame[13] = 0xB5;
        return frame;
    }

    [Fact]
    public void Frames_a_snaplen_cut_are_replayed_as_captured_with_a_note_and_those_oversize_on_the_wire_are_counted_oversize()
    {
        // A frame of 4,000 bytes cut to 96 by the capture was classified and delivered as a short
        // frame; tshark knows it was 4,000 (found by a new user checking replay against tshark).
        var capture = RawPcap(1, new[] { FrameToA(96), FrameToA(96), FrameToA(96) }, new[] { 96, 1000, 4000 });

        var (exit, output, error) = CliRunner.Run("replay", CliRunner.TempFile(Topology), capture, "--format", "json");

        Assert.Equal(0, exit);
        Assert.Contains("note: 2 frames were cut short by the capture's snaplen and replayed as captured (shorter than on the wire); 1 of them longer on the wire than NIC 'e0' carries (1,518 bytes), counted as it would count them: oversize", error);
        using var json = JsonDocument.Parse(output);
        ReportJson.AssertAddsUp(json.RootElement);
        var nic = json.RootElement.GetProperty("nics")[0];
        Assert.Equal(1, nic.GetProperty("dropped").GetProperty("oversize").GetInt64());
        Assert.Equal(2, nic.GetProperty("vnics").EnumerateArray().Single(v => v.GetProperty("name").GetString() == "a").GetProperty("received").GetInt64());
    }

    [Fact]
    public void A_capture_with_no_ethernet_frame_is_an_error_not_an_empty_report()
    {
        // Raw IP (link type 101): nothing a NIC's wire carries. It replayed "0 frames", exit 0,
        // where trace calls the same file an error.
        var capture = RawPcap(101, new byte[] { 0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2 });

        var (exit, output, error) = CliRunner.Run("replay", CliRunner.TempFile(Topology), capture);

        Assert.Equal(2, exit);
        Assert.Equal("", output);
        Assert.Contains("no Ethernet frames to replay", error);
        Assert.Contains("its one frame is of link type 101", error);
    }

    [Fact]
    public void A_capture_that_says_its_frames_end_with_an_fcs_is_replayed_without_it()
    {
        // The link-type field's high bits: P (bit 26, libpcap's LT_FCS_LENGTH_PRESENT) and the
        // FCS's length in 16-bit words (2: four bytes), as LT_FCS_DATALINK_EXT writes them.
        // tcpdump reads it as Ethernet; it was skipped whole. The FCS is cut off each frame.
        var withFcs = FrameToA(104); // 100 bytes of frame and 4 of FCS
        var capture = RawPcap(1 | 0x0400_0000 | 2u << 28, withFcs, withFcs);

        var (exit, output, error) = CliRunner.Run("replay", CliRunner.TempFile(Topology), capture, "--format", "json");

        Assert.True(exit == 0, error);
        using var json = JsonDocument.Parse(output);
        var a = json.RootElement.GetProperty("nics")[0].GetProperty("vnics").EnumerateArray().Single(v => v.GetProperty("name").GetString() == "a");
        Assert.Equal(2, a.GetProperty("delivered").GetInt64());
        Assert.Equal(200, a.GetProperty("deliveredBytes").GetInt64());
    }

    [Fact]
    public void One_frame_is_one_frame()
    {
        var (exit, output, error) = CliRunner.Run("replay", CliRunner.TempFile(Topology), RawPcap(1, FrameToA(100)));

        Assert.True(exit == 0, error);
        Assert.StartsWith("replayed 1 frame over ", output, StringComparison.Ordinal); // "1 frames"
    }

    [Fact]
    public void Paced_a_bandwidth_limited_vnic_takes_every_frame_on_virtual_time_and_two_runs_agree()
    {
        // 200 frames of 1,000 bytes, 1 µs apart, to a container allocated 1 Mbit/s (polling: its
        // ring waits for credit). Paced, each frame enters when the one before was taken, so all
        // 200 arrive and the run takes their time at 1 Mbit/s on the virtual clock: 1.6 s. It ran
        // on the machine's clock: the credit came with wall time — 10 to 12 of 20,000 frames,
        // differently each run (found by a helper's drive).
        const string limited = """
            host p {
                nic e0 { model simnic-10g; rx-rings 2 }
                container a on e0 { mac 02:00:00:00:00:0a; ip 10.0.0.10; protocols udp; ports 9; bandwidth 1M }
            }
            """;
        var stream = new MemoryStream();
        using (var writer = new PcapWriter(stream))
        {
            for (var i = 0; i < 200; i++)
            {
                var frame = new byte[1000];
                EthernetHeader.WriteMac(frame, Frames.Mac("02:00:00:00:00:0a"));
                EthernetHeader.WriteMac(frame.AsSpan(6), Frames.Mac("02:aa:00:00:00:01"));
                frame[12] = 0x88;
                frame[13] = 0xB5;
                writer.Write(1_000_000_000L + i * 1_000L, frame);
            }
        }
        var topology = CliRunner.TempFile(limited);
        var capture = Path.Combine(Path.GetDirectoryName(topology)!, "limited.pcap");
        File.WriteAllBytes(capture, stream.ToArray());

        var runs = Enumerable.Range(0, 2).Select(_ => CliRunner.Run("replay", topology, capture, "--pace", "--format", "json")).ToList();

        Assert.All(runs, run => Assert.Equal(0, run.ExitCode));
        Assert.Equal(runs[0].Output, runs[1].Output);
        using var json = JsonDocument.Parse(runs[0].Output);
        var a = json.RootElement.GetProperty("nics")[0].GetProperty("vnics")[0];
        Assert.Equal(200, a.GetProperty("received").GetInt64());
        Assert.Equal(200, a.GetProperty("delivered").GetInt64());
        Assert.Equal(1.6, json.RootElement.GetProperty("seconds").GetDouble(), 0.05);
    }

    [Fact]
    public void A_vnics_capture_is_stamped_with_when_each_frame_was_delivered_on_the_captures_clock()
    {
        // Three frames a second apart: each is delivered a little after its capture time (the wire
        // and the datapath), never before, and the second apart is kept.
        var capture = SmallFrames(3, 1_000_000_000);
        var outDir = Path.Combine(Path.GetDirectoryName(capture)!, "stamped");

        var (exit, _, error) = CliRunner.Run("replay", CliRunner.TempFile(Topology), capture, "--out", outDir, "--format", "json");

        Assert.Equal(0, exit);
        Assert.Equal("", error);
        var stamps = CaptureReader.Read(File.OpenRead(Path.Combine(outDir, "a.pcap"))).Select(f => f.TimestampNanoseconds).ToList();
        Assert.Equal(3, stamps.Count);
        for (var i = 0; i < 3; i++)
        {
            var captured = 1_000_000_000L + i * 1_000_000_000L;
            Assert.InRange(stamps[i], captured + 1, captured + 1_000_000); // 64 bytes on 10G: 67 ns, then the datapath
        }
    }

    [Fact]
    public void The_text_report_lists_every_vnic()
    {
        var (capture, _) = BuildCapture(50, 3);
        var capturePath = CliRunner.TempFile("", "c.pcap");
        File.WriteAllBytes(capturePath, capture);

        var (exit, output, _) = CliRunner.Run("replay", CliRunner.TempFile(Topology), capturePath);

        Assert.Equal(0, exit);
        Assert.StartsWith("replayed 50 frames over 0.000049 s\ncpu0: busy ", output); // then each processor, as simulate's
        Assert.Contains("\n\nNIC e0: received 50, dropped no-match ", output);
        Assert.Contains("VNIC  RING      RECEIVED  DELIVERED  BYTES", output);
        Assert.Contains("\na     hrr0  ", output);
        Assert.Contains("\nc     sr0/srr1  ", output);
    }

    [Fact]
    public void A_damaged_capture_is_a_located_error_not_a_crash()
    {
        var (capture, _) = BuildCapture(5, 1);
        var capturePath = CliRunner.TempFile("", "bad.pcap");
        File.WriteAllBytes(capturePath, capture[..^7]);

        var (exit, _, error) = CliRunner.Run("replay", CliRunner.TempFile(Topology), capturePath);

        Assert.Equal(2, exit); // a bad capture, told apart from a bad topology (1)
        Assert.Contains("bad.pcap: error: pcap: frame 5 at byte", error);
    }

    [Fact]
    public void A_replay_that_fails_part_way_leaves_the_per_vnic_captures_of_an_earlier_run_as_they_were()
    {
        var (capture, _) = BuildCapture(50, 3);
        var good = CliRunner.TempFile("", "good.pcap");
        File.WriteAllBytes(good, capture);
        var damaged = Path.Combine(Path.GetDirectoryName(good)!, "damaged.pcap");
        File.WriteAllBytes(damaged, capture[..^7]);
        var outDir = Path.Combine(Path.GetDirectoryName(good)!, "out");
        var topology = CliRunner.TempFile(Topology);

        Assert.Equal(0, CliRunner.Run("replay", topology, good, "--out", outDir).ExitCode);
        var before = File.ReadAllBytes(Path.Combine(outDir, "a.pcap"));
        Assert.True(before.Length > 24, "the first run captured frames for a");

        Assert.Equal(2, CliRunner.Run("replay", topology, damaged, "--out", outDir).ExitCode);
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(outDir, "a.pcap"))); // it wrote a partial one over it
        Assert.Empty(Directory.GetFiles(outDir, "*.partial"));
    }

    [Fact]
    public void Captures_in_the_out_folder_this_replay_did_not_write_are_named_in_a_note()
    {
        // A replay with VNICs a and b, then one whose topology has only a: b.pcap stays, from the
        // first run, and the second says so instead of leaving it to pass for its own.
        var (capture, _) = BuildCapture(5, 1);
        var capturePath = CliRunner.TempFile("", "c.pcap");
        File.WriteAllBytes(capturePath, capture);
        var outDir = Path.Combine(Path.GetDirectoryName(capturePath)!, "out");
        Assert.Equal(0, CliRunner.Run("replay", CliRunner.TempFile(Topology), capturePath, "--out", outDir).ExitCode);
        Assert.True(File.Exists(Path.Combine(outDir, "b.pcap")));
        var onlyA = Topology.Replace("    vm b on e0 { mac 02:00:00:00:00:0b; ip 10.0.0.11 }\n", "");
        Assert.NotEqual(Topology, onlyA);

        var (exit, _, error) = CliRunner.Run("replay", CliRunner.TempFile(onlyA), capturePath, "--out", outDir);

        Assert.Equal(0, exit);
        Assert.Contains($"{outDir}: note: b.pcap is not from this replay (it wrote only a.pcap, c.pcap), left as it was", error);
    }

    [Fact]
    public void An_unknown_nic_is_named_with_the_ones_that_exist()
    {
        var (capture, _) = BuildCapture(1, 1);
        var capturePath = CliRunner.TempFile("", "c.pcap");
        File.WriteAllBytes(capturePath, capture);

        var (exit, _, error) = CliRunner.Run("replay", CliRunner.TempFile(Topology), capturePath, "--nic", "e9");

        Assert.Equal(1, exit);
        Assert.Contains("has no NIC named 'e9'; it has e0", error);
    }

    [Fact]
    public void A_capture_that_cannot_be_opened_is_a_capture_error_with_its_exit_code()
    {
        var topology = CliRunner.TempFile("host h { nic e0 { model simnic-1g; rx-rings 1 } vm a on e0 { mac 02:00:00:00:00:01 } }");

        var (exit, _, error) = CliRunner.Run("replay", topology, "/nonexistent.pcap");
        Assert.Equal(2, exit); // as a damaged capture: the capture is what is wrong, not the topology (1)
        Assert.StartsWith("/nonexistent.pcap: error: cannot read the capture:", error);

        var directory = Path.GetTempPath().TrimEnd('/');
        (exit, _, error) = CliRunner.Run("replay", topology, directory);
        Assert.Equal(2, exit);
        Assert.Equal($"{directory}: error: cannot read the capture: is a directory, not a capture file", error.Trim());
    }

    [Fact]
    public void An_output_directory_that_cannot_be_made_is_named_not_the_capture()
    {
        var topology = CliRunner.TempFile("host h { nic e0 { model simnic-1g; rx-rings 1 } vm a on e0 { mac 02:00:00:00:00:01 } }");
        var capture = Path.Combine(Path.GetTempPath(), $"nb-{Guid.NewGuid():N}.pcap");
        File.WriteAllBytes(capture, BuildCapture(3, 1).Capture);
        try
        {
            var (exit, _, error) = CliRunner.Run("replay", topology, capture, "--out", topology); // a file, not a directory

            // It said "The file '…' already exists" (found by a new user's drive).
            Assert.Equal(1, exit);
            Assert.Equal($"{topology}: error: is a file; --out names the folder the per-VNIC captures go in", error.Trim());
        }
        finally
        {
            File.Delete(capture);
        }
    }

    [Fact]
    public void A_topology_with_errors_is_reported_like_check()
    {
        var (exit, _, error) = CliRunner.Run("replay", CliRunner.TempFile("host h { nic e0 { model nope; rx-rings 1 } }"), "/nonexistent.pcap");

        Assert.Equal(1, exit);
        Assert.Contains("error NB0025", error);
    }
}
