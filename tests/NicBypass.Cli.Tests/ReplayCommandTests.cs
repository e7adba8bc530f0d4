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

    [Fact]
    public void Replay_counts_per_vnic_equal_an_independent_count_of_the_same_frames()
    {
        var (capture, sent) = BuildCapture(2000, 11);
        var topology = CliRunner.TempFile(Topology);
        var capturePath = CliRunner.TempFile("", "capture.pcap");
        File.WriteAllBytes(capturePath, capture);
        var outDir = Path.Combine(Path.GetDirectoryName(capturePath)!, "out");

        var (exit, output, error) = CliRunner.Run("replay", topology, capturePath, "--out", outDir, "--format", "json");

        Assert.Equal(0, exit);
        Assert.Equal("", error);
        using var json = JsonDocument.Parse(output);
        Assert.Equal(2000, json.RootElement.GetProperty("frames").GetInt64());
        Assert.Equal(0.001999, json.RootElement.GetProperty("seconds").GetDouble(), 6);
        var nic = json.RootElement.GetProperty("nics")[0];
        Assert.Equal(2000, nic.GetProperty("received").GetInt64());

        // Oracle: unicast to the VNIC's MAC in its VLAN, plus every broadcast in its VLAN.
        var vnics = new[] { ("a", "02-00-00-00-00-0A", 0), ("b", "02-00-00-00-00-0B", 0), ("c", "02-00-00-00-00-0C", 3) };
        foreach (var (name, mac, vlan) in vnics)
        {
            var expected = sent.Count(s => (s.Mac == mac || s.Mac == "FF-FF-FF-FF-FF-FF") && s.Vlan == vlan);
            var vnic = nic.GetProperty("vnics").EnumerateArray().Single(v => v.GetProperty("name").GetString() == name);
            Assert.Equal(expected, vnic.GetProperty("received").GetInt64());
            Assert.Equal(expected, vnic.GetProperty("delivered").GetInt64());

            // The per-VNIC capture holds exactly those frames, in order, VLAN tag removed.
            var written = CaptureReader.Read(File.OpenRead(Path.Combine(outDir, name + ".pcap"))).Select(f => f.Data).ToList();
            var expectedFrames = sent.Where(s => (s.Mac == mac || s.Mac == "FF-FF-FF-FF-FF-FF") && s.Vlan == vlan)
                .Select(s => s.Vlan == 0 ? s.Frame : s.Frame.Take(12).Concat(s.Frame.Skip(16)).ToArray()).ToList();
            Assert.Equal(expectedFrames, written);
            Assert.Equal(expectedFrames.Sum(f => (long)f.Length), vnic.GetProperty("deliveredBytes").GetInt64());
        }
        // Everything no VNIC takes is a no-match: unknown MACs, wrong VLANs, broadcasts in a VLAN with no VNIC.
        var unmatched = sent.Count(s => !vnics.Any(v => (s.Mac == v.Item2 || s.Mac == "FF-FF-FF-FF-FF-FF") && s.Vlan == v.Item3));
        Assert.Equal(unmatched, nic.GetProperty("dropped").GetProperty("no-match").GetInt64());
    }

    [Fact]
    public void The_text_report_lists_every_vnic()
    {
        var (capture, _) = BuildCapture(50, 3);
        var capturePath = CliRunner.TempFile("", "c.pcap");
        File.WriteAllBytes(capturePath, capture);

        var (exit, output, _) = CliRunner.Run("replay", CliRunner.TempFile(Topology), capturePath);

        Assert.Equal(0, exit);
        Assert.StartsWith("replayed 50 frames over 0.000049 s\n\nNIC e0: received 50, dropped no-match ", output);
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

        Assert.Equal(1, exit);
        Assert.Contains("bad.pcap: error: pcap: frame 5 at byte", error);
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
    public void A_topology_with_errors_is_reported_like_check()
    {
        var (exit, _, error) = CliRunner.Run("replay", CliRunner.TempFile("host h { nic e0 { model nope; rx-rings 1 } }"), "/nonexistent.pcap");

        Assert.Equal(1, exit);
        Assert.Contains("error NB0025", error);
    }
}
