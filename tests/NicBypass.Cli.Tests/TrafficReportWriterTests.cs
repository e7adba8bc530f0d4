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
}
