using System.Text.Json;
using NicBypass.Cli.Output;
using NicBypass.Dsl.Text;
using NicBypass.Hosting;
using NicBypass.Runtime;
using NicBypass.Runtime.Packets;

namespace NicBypass.Cli.Tests;

/// <summary>The report's stack fields that only a live listener produces (run, and tests against real peers).</summary>
public class TrafficReportWriterTests
{
    [Fact]
    public void A_syn_flood_past_the_queue_shows_its_syn_cookies_in_both_reports()
    {
        const string topology = """
            host h {
                nic e0 { model simnic-10g; rx-rings 2 }
                container web on e0 { mac 02:00:00:00:00:0a; ip 10.0.0.10; protocols tcp; ports 80 }
            }
            """;
        var (_, host) = HostLoader.Load([new SourceFile("h.nicdsl", topology)], time: new VirtualClock());
        var web = host!.NetworkStack("web");
        web.Stack.ListenTcp(80);
        var flood = web.Settings.SynBacklog + 40;
        for (var i = 0; i < flood; i++)
        {
            host.Nic("e0").Device.Receive(Frames.TcpSyn("02:aa:00:00:00:01", "02:00:00:00:00:0a", $"10.1.{i / 250}.{i % 250 + 1}:40000", "10.0.0.10:80"));
            if (i % 32 == 0) host.Pump();
        }
        host.Pump();
        var report = host.Report();

        var json = new StringWriter();
        TrafficReportWriter.WriteJson(report, json);
        var stack = JsonDocument.Parse(json.ToString()).RootElement.GetProperty("nics")[0].GetProperty("vnics")[0].GetProperty("stack");
        Assert.Equal(40, stack.GetProperty("synCookiesSent").GetInt64());
        Assert.False(stack.TryGetProperty("synCookiesAccepted", out _)); // none came back: shown only when not zero
        Assert.Equal(40, stack.GetProperty("answered").GetInt64());
        var text = new StringWriter();
        TrafficReportWriter.WriteText(report, "simulated", text);
        Assert.Contains("SYN cookies sent 40, 0 came back as connections", text.ToString());
    }

    [Fact]
    public void A_vms_guest_stack_line_counts_the_fragments_it_joined_so_it_adds_up()
    {
        // A fragmented ping to a VM: its guest stack received three frames, answered one datagram
        // and joined two fragments into it. The VM's line left the joined ones out (a real-peer
        // drive: 86 received, 34 accounted for); the VNS line always had them.
        const string topology = """
            host h {
                nic e0 { model simnic-10g; rx-rings 2 }
                vm guest on e0 { mac 02:00:00:00:00:0b; ip 10.0.0.11/24 }
            }
            """;
        var (_, host) = HostLoader.Load([new SourceFile("h.nicdsl", topology)], time: new VirtualClock());
        var ping = Frames.EchoRequest(0x02AA_0000_0001UL, 0x0200_0000_000BUL, System.Net.IPAddress.Parse("10.0.0.1"), System.Net.IPAddress.Parse("10.0.0.11"), 7, 1, dataLength: 3000);
        foreach (var piece in Fragments(ping, 1480)) host!.Nic("e0").Device.Receive(piece);
        host!.Pump();

        var text = new StringWriter();
        TrafficReportWriter.WriteText(host.Report(), "simulated", text);

        Assert.Contains("guest stack received 3, to sockets 0, answered 1, sent", text.ToString());
        Assert.Contains("IP fragments joined 2 (all but each datagram's last), waiting for the rest 0", text.ToString());
    }

    [Fact]
    public void The_parameter_problems_a_stack_sent_show_in_both_reports()
    {
        // A ping whose record route points before its first slot: dropped as malformed and
        // answered with a Parameter Problem — which the report did not show (a real-peer drive).
        const string topology = """
            host h {
                nic e0 { model simnic-10g; rx-rings 2 }
                container web on e0 { mac 02:00:00:00:00:0a; ip 10.0.0.10/24; protocols udp; ports 53 }
            }
            """;
        var (_, host) = HostLoader.Load([new SourceFile("h.nicdsl", topology)], time: new VirtualClock());
        var ping = Frames.EchoRequest(0x02AA_0000_0001UL, 0x0200_0000_000AUL, System.Net.IPAddress.Parse("10.0.0.1"), System.Net.IPAddress.Parse("10.0.0.10"));
        host!.Nic("e0").Device.Receive(Frames.WithIpv4Options(ping, [7, 7, 3, 0, 0, 0, 0, 0]));
        host.Pump();
        var report = host.Report();

        var json = new StringWriter();
        TrafficReportWriter.WriteJson(report, json);
        var stack = JsonDocument.Parse(json.ToString()).RootElement.GetProperty("nics")[0].GetProperty("vnics")[0].GetProperty("stack");
        Assert.Equal(1, stack.GetProperty("parameterProblemsSent").GetInt64());
        Assert.Equal(1, stack.GetProperty("dropped").GetProperty("malformed").GetInt64());
        var text = new StringWriter();
        TrafficReportWriter.WriteText(report, "simulated", text);
        Assert.Contains("parameter problems sent 1 (about packets dropped)", text.ToString());
    }

    [Fact]
    public void A_connect_nobody_answers_shows_as_a_connection_given_up_in_both_reports()
    {
        // Its SYN goes seven times into a cable that loses everything, then the connect fails as
        // timed out: the report said nothing of it (a handshake given up left no trace).
        const string topology = """
            host h {
                nic e0 { model simnic-10g; rx-rings 2 }
                container a on e0 { mac 02:00:00:00:00:01; ip 10.0.0.1/24; protocols tcp; ports 80 }
                container b on e0 { mac 02:00:00:00:00:02; ip 10.0.0.2/24; protocols tcp; ports 80 }
            }
            """;
        var (_, loaded) = HostLoader.Load([new SourceFile("h.nicdsl", topology)], time: new VirtualClock());
        var host = loaded!;
        var cable = host.AddCable(NicBypass.Runtime.Devices.SimulatedCable.Hairpin(host.Nic("e0").Device));
        host.NetworkStack("a").Stack.SendEchoRequest(NicBypass.Runtime.Stacks.NetworkAddress.Parse("10.0.0.2"), 1, 1); // neighbours learned
        Assert.True(host.RunUntil(() => host.NetworkStack("a").Counters.EchoRepliesReceived == 1, TimeSpan.FromSeconds(1)));
        cable.LossRate = 1.0; // then the peer is gone
        var client = host.NetworkStack("a").Stack.ConnectTcp(NicBypass.Runtime.Stacks.NetworkEndpoint.Parse("10.0.0.2", 80));
        Assert.True(host.RunUntil(() => client.State == NicBypass.Runtime.Stacks.TcpState.Closed, TimeSpan.FromSeconds(600)));
        Assert.Equal(NicBypass.Runtime.Stacks.TcpError.TimedOut, client.Error);
        var report = host.Report();

        var json = new StringWriter();
        TrafficReportWriter.WriteJson(report, json);
        var stack = JsonDocument.Parse(json.ToString()).RootElement.GetProperty("nics")[0].GetProperty("vnics")[0].GetProperty("stack");
        Assert.Equal(1, stack.GetProperty("connectionsTimedOut").GetInt64());
        var text = new StringWriter();
        TrafficReportWriter.WriteText(report, "simulated", text);
        Assert.Contains("TCP connections given up on a timeout 1 (handshakes included)", text.ToString());
    }

    // An IPv4 frame's data in fragments of `each` bytes (a multiple of 8), option-less headers.
    private static IEnumerable<byte[]> Fragments(byte[] frame, int each)
    {
        var data = frame.AsSpan(34).ToArray();
        for (var start = 0; start < data.Length; start += each)
        {
            var length = Math.Min(each, data.Length - start);
            var piece = new byte[34 + length];
            frame.AsSpan(0, 34).CopyTo(piece);
            data.AsSpan(start, length).CopyTo(piece.AsSpan(34));
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(piece.AsSpan(16), (ushort)(20 + length));
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(piece.AsSpan(20), (ushort)((start + length < data.Length ? 0x2000 : 0) | start / 8));
            piece[24] = piece[25] = 0;
            var checksum = InternetChecksum.Compute(piece.AsSpan(14, 20));
            piece[24] = (byte)(checksum >> 8);
            piece[25] = (byte)checksum;
            yield return piece;
        }
    }
}
