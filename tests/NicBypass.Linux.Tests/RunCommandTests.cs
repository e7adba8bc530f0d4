using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text.Json;
using NicBypass.Cli;

namespace NicBypass.Linux.Tests;

/// <summary><c>nicbypass run</c> (README.md § Real peers) with a TAP device in a namespace of the test's own.</summary>
[Collection(LinuxCollection.Name)]
public class RunCommandTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("nicbypass-run-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string Topology(string text = TapPeer.Topology)
    {
        var path = Path.Combine(_folder, "peer.nicdsl");
        File.WriteAllText(path, text);
        return path;
    }

    private static (int Exit, string Output, string Error) Cli(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = NicBypassCli.Run(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Run_serves_linux_for_the_seconds_asked_then_reports_and_leaves_per_vnic_captures()
    {
        using var ns = NetNamespace.Create();
        // A persistent TAP made beforehand, addressed on the Linux side: run attaches to it.
        ns.Ip($"tuntap add dev {TapPeer.Tap} mode tap");
        ns.Ip($"addr add {TapPeer.LinuxIp}/24 dev {TapPeer.Tap}");
        var captures = Path.Combine(_folder, "captures");
        // A tenant with `ip dhcp` too, which finds no DHCP server here: the report says so.
        var topology = Topology(TapPeer.Topology.Replace("    container c1", "    vm d1 on e0 { mac 02:00:00:00:77:09; ip dhcp }\n    container c1"));
        var run = Task.Run(() => ns.Run(() => Cli("run", topology, "--tap", $"e0={TapPeer.Tap}", "--seconds", "8", "--capture", captures, "--format", "json")));

        // While it runs: Linux pings the VM and sends the container datagrams to echo.
        var pinged = false;
        var echoed = 0;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(6); // run starts up (compiles the topology, JITs) inside its 8 s
        using var udp = ns.Run(() => new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp));
        udp.ReceiveTimeout = 200;
        while (DateTime.UtcNow < deadline && (!pinged || echoed < 5))
        {
            pinged |= ns.Run(() =>
            {
                using var ping = new Ping();
                try
                {
                    return ping.Send(TapPeer.Vm, 200).Status == IPStatus.Success;
                }
                catch (PingException)
                {
                    Thread.Sleep(50); // the link is not up yet (run sets it up when it opens the device)
                    return false;
                }
            });
            try
            {
                udp.SendTo(new byte[] { 1, 2, 3 }, new IPEndPoint(TapPeer.Container, 7));
                var buffer = new byte[64];
                if (udp.Receive(buffer) == 3) echoed++;
            }
            catch (SocketException)
            {
                // not up yet, or a datagram lost while the neighbour resolves
            }
        }
        var (exit, output, error) = await run.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(exit == 0, error);
        Assert.True(pinged, "Linux's ping of the VM was answered");
        Assert.True(echoed >= 5, $"{echoed} datagrams echoed");
        Assert.Contains($"running host 'peer': e0 ↔ {TapPeer.Tap} (tap);", error); // made beforehand: not "created"
        Assert.Contains("echo on c1 tcp/7, c1 udp/7", error);
        using var report = JsonDocument.Parse(output);
        var seconds = report.RootElement.GetProperty("seconds").GetDouble();
        Assert.InRange(seconds, 7.9, 15);
        var vnics = report.RootElement.GetProperty("nics")[0].GetProperty("vnics").EnumerateArray().ToDictionary(v => v.GetProperty("name").GetString()!);
        Assert.True(vnics["vm1"].GetProperty("delivered").GetInt64() > 0);
        Assert.True(vnics["c1"].GetProperty("delivered").GetInt64() >= 5);
        // run's own fields: the TAP's counts, and what the `ip dhcp` tenant learned (nothing).
        var tap = Assert.Single(report.RootElement.GetProperty("taps").EnumerateArray());
        Assert.Equal(("e0", TapPeer.Tap), (tap.GetProperty("nic").GetString(), tap.GetProperty("device").GetString()));
        Assert.True(tap.GetProperty("framesIn").GetInt64() >= 5 && tap.GetProperty("framesOut").GetInt64() >= 5, tap.ToString());
        Assert.Equal(0, tap.GetProperty("linuxRefused").GetInt64());
        var lease = Assert.Single(report.RootElement.GetProperty("leases").EnumerateArray());
        Assert.Equal("d1", lease.GetProperty("vnic").GetString());
        Assert.Equal(JsonValueKind.Null, lease.GetProperty("dhcp").ValueKind);
        Assert.Empty(lease.GetProperty("slaac").GetProperty("addresses").EnumerateArray());
        Assert.Equal(JsonValueKind.Null, lease.GetProperty("slaac").GetProperty("router").ValueKind); // the key is there, null: no router advertised
        Assert.False(report.RootElement.TryGetProperty("cpus", out _)); // real time: no cost model charges the processors
        // Each VNIC's capture holds what it received: a pcap header and at least one record.
        foreach (var vnic in new[] { "vm1", "c1" })
        {
            var file = new FileInfo(Path.Combine(captures, vnic + ".pcap"));
            Assert.True(file.Exists && file.Length > 24 + 16, $"{file.FullName}: {(file.Exists ? file.Length + " bytes" : "missing")}");
        }
    }

    [Fact]
    public void Run_refuses_a_tap_it_cannot_use_with_a_clear_error()
    {
        var topology = Topology();

        var (exit, _, error) = Cli("run", topology, "--tap", "e9=nb0", "--seconds", "1");
        Assert.Equal(1, exit);
        Assert.Contains("host 'peer' has no NIC 'e9'; its NICs are e0", error);

        (exit, _, error) = Cli("run", topology, "--tap", "e0", "--seconds", "1");
        Assert.Equal(1, exit);
        Assert.Contains("write NIC=IFNAME", error);

        (exit, _, error) = Cli("run", topology, "--tap", "e0=a-name-longer-than-15", "--seconds", "1");
        Assert.Equal(1, exit);
        Assert.Contains("--tap e0=a-name-longer-than-15: TAP device", error);

        // One device for two NICs: said so (it read "another process has the device open").
        (exit, _, error) = Cli("run", topology, "--tap", "e0=nb0", "--tap", "e1=nb0", "--seconds", "1");
        Assert.Equal(1, exit);
        Assert.Contains("error: --tap: TAP device 'nb0' is given to 2 NICs (e0, e1)", error);

        // One impairment of a kind a NIC (the last of two won, silently).
        (exit, _, error) = Cli("run", topology, "--tap", "e0=nb0", "--loss", "e0=100%", "--loss", "e0=0%", "--seconds", "1");
        Assert.Equal(1, exit);
        Assert.Contains("error: --loss: NIC 'e0' is given 2 values; give one", error);

        (exit, _, error) = Cli("run", topology, "--tap", "e0=nb0", "--host", "nope");
        Assert.Equal(1, exit);
        Assert.Contains("no host named 'nope'; the file declares peer", error);
    }

    [Theory]
    [InlineData("--delay", "e0", "write NIC=TIME, e.g. e0=20ms")]
    [InlineData("--delay", "e1=20ms", "NIC 'e1' has no --tap")]
    [InlineData("--delay", "e0=20", "'20' needs a unit: write 20ms or 20us (a time from 0 to 10 s)")] // (it said "not a time from 0 to 10 s"; 20s is past 10 s: review)
    [InlineData("--delay", "e0=5", "'5' needs a unit: write 5ms, 5us or 5s (a time from 0 to 10 s)")]
    [InlineData("--delay", "e0=20 s", "'20 s' is not a time from 0 to 10 s")]
    [InlineData("--jitter", "e0=11s", "'11s' is not a time from 0 to 10 s")]
    [InlineData("--jitter", "e0=-1ms", "'-1ms' is not a time")]
    [InlineData("--loss", "e0=150%", "'150%' is not a share from 0 to 100%")]
    [InlineData("--reorder", "e0=often", "'often' is not a share")]
    [InlineData("--loss", "e0", "write NIC=SHARE, e.g. e0=1%")]
    [InlineData("--loss", "e0=1", "'1' is ambiguous: netem reads a bare number as a percentage (1%), and as a fraction it is 100%; write the percentage with %")]
    [InlineData("--reorder", "e0=0.5", "'0.5' is ambiguous: netem reads a bare number as a percentage (0.5%), and as a fraction it is 50%; write the percentage with %")]
    [InlineData("--loss", "e0=5", "'5' is ambiguous: netem reads a bare number as a percentage (5%); write the percentage with %")]
    [InlineData("--loss", "e0=150", "'150' is not a share from 0 to 100%")]
    [InlineData("--jitter", "e0=5ms", "")] // checked below: jitter without a delay
    [InlineData("--reorder", "e0=50%", "")] // and reordering without one (it held frames for the reader's timeout, uncounted: found by a new user's drive)
    public void Run_refuses_an_impairment_it_cannot_apply_before_opening_anything(string option, string value, string message)
    {
        var (exit, _, error) = Cli("run", Topology(), "--tap", "e0=nb0", option, value, "--seconds", "1");
        Assert.Equal(1, exit);
        Assert.Contains(message.Length > 0 ? $"error: {option} '{value}': {message}"
            : option == "--jitter" ? "error: --jitter e0: jitter varies a delay; give --delay e0=TIME too"
            : "error: --reorder e0: reordering sends some frames ahead of delayed ones; give --delay e0=TIME too", error);
    }

    [Fact]
    public async Task Run_with_a_delay_on_the_tap_shows_it_in_linuxs_round_trip_and_counts_it_in_the_report()
    {
        using var ns = NetNamespace.Create();
        ns.Ip($"tuntap add dev {TapPeer.Tap} mode tap");
        ns.Ip($"addr add {TapPeer.LinuxIp}/24 dev {TapPeer.Tap}");
        var run = Task.Run(() => ns.Run(() => Cli("run", Topology(), "--tap", $"e0={TapPeer.Tap}", "--seconds", "6", "--delay", "e0=15ms", "--loss", "e0=0%")));

        var rtts = new List<long>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (DateTime.UtcNow < deadline && rtts.Count < 3)
        {
            var rtt = ns.Run(() =>
            {
                using var ping = new Ping();
                try
                {
                    var reply = ping.Send(TapPeer.Vm, 500);
                    return reply.Status == IPStatus.Success ? reply.RoundtripTime : -1;
                }
                catch (PingException)
                {
                    Thread.Sleep(50); // the link is not up yet
                    return -1;
                }
            });
            if (rtt >= 0) rtts.Add(rtt);
        }
        var (exit, output, error) = await run.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(exit == 0, error);
        Assert.True(rtts.Count >= 3, $"{rtts.Count} pings answered");
        // The first answered ping may have waited for neighbour discovery on top; each is 15 ms each way at least.
        Assert.All(rtts, rtt => Assert.True(rtt >= 30, $"round trip {rtt} ms with 15 ms each way"));
        Assert.Matches(@"tap e0 ↔ nbtap0: [\d,]+ frames in, [\d,]+ out, 0 Linux refused; impaired: 0 lost, 0 reordered, [1-9][\d,]* delayed \(0 lost to a full delay line\); offload: [\d,]+ super-frames from Linux, [\d,]+ to Linux", output);
    }
}
