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

    private string Topology()
    {
        var path = Path.Combine(_folder, "peer.nicdsl");
        File.WriteAllText(path, TapPeer.Topology);
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
        var run = Task.Run(() => ns.Run(() => Cli("run", Topology(), "--tap", $"e0={TapPeer.Tap}", "--seconds", "8", "--capture", captures, "--format", "json")));

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
        Assert.Contains("running host 'peer'", error);
        Assert.Contains("echo on c1 tcp/7, c1 udp/7", error);
        using var report = JsonDocument.Parse(output);
        var seconds = report.RootElement.GetProperty("seconds").GetDouble();
        Assert.InRange(seconds, 7.9, 15);
        var vnics = report.RootElement.GetProperty("nics")[0].GetProperty("vnics").EnumerateArray().ToDictionary(v => v.GetProperty("name").GetString()!);
        Assert.True(vnics["vm1"].GetProperty("delivered").GetInt64() > 0);
        Assert.True(vnics["c1"].GetProperty("delivered").GetInt64() >= 5);
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

        (exit, _, error) = Cli("run", topology, "--tap", "e0=nb0", "--host", "nope");
        Assert.Equal(1, exit);
        Assert.Contains("no host named 'nope'; the file declares peer", error);
    }
}
