using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using NicBypass.Runtime.Stacks;
using NicBypass.Runtime.Virtualization;
using NicBypass.Tests.Shared;

namespace NicBypass.Benchmarks;

/// <summary>
/// Issue 15's comparison, one command (`--veth-comparison [ROUNDS]`, as root, with iperf3 and
/// iproute2): rounds that alternate Linux's own TCP over a veth pair between two network
/// namespaces — iperf3, 2 GB, once with both ends pinned to one core (<c>taskset -c 1</c>) and once
/// free to use both — with the simulated TCP path (<see cref="SimulatedTcpPath"/>, 10 Gbit/s
/// hairpin, deterministic mode: 30 transfers of 20 MB after 8 warm-ups, their median). Each row
/// gives the cores each side kept busy (iperf3's own accounting for its sender and receiver; this
/// process's processor time over wall time for the simulation), and the ratios. The simulation
/// runs on one thread, so Linux on one core is the like-for-like figure; unpinned Linux is given
/// beside it. Namespaces and links are named after this process and removed even on failure.
/// </summary>
internal static class VethComparison
{
    private const int Transfer = 20 * 1024 * 1024;

    public static void Run(int rounds)
    {
        Console.WriteLine("| round | Linux, one core (sender+receiver busy) | Linux, unpinned (busy) | simulated path (cores) | ratio to one core | ratio to unpinned |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|");
        for (var round = 1; round <= rounds; round++)
        {
            var pinned = Iperf3(pin: true);
            var free = Iperf3(pin: false);
            var (simulated, cores) = Simulated();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {round} | {pinned.Gbps:0.00} Gbit/s ({pinned.Sender:0}%+{pinned.Receiver:0}%) | {free.Gbps:0.00} Gbit/s ({free.Sender:0}%+{free.Receiver:0}%) | {simulated:0.00} Gbit/s ({cores:0.00}) | {simulated / pinned.Gbps:0.00}× | {simulated / free.Gbps:0.00}× |"));
        }
    }

    // The simulated path's median rate over 30 transfers (after 8 warm-ups), and the cores this process kept busy meanwhile.
    private static (double Gbps, double Cores) Simulated()
    {
        var (host, _, client, server) = SimulatedTcpPath.Connect(rated: true);
        using var _ = host;
        var data = new byte[128 * 1024];
        new Random(1).NextBytes(data);
        var buffer = new byte[256 * 1024];
        var rates = new List<double>();
        var process = Process.GetCurrentProcess();
        var cpu = TimeSpan.Zero;
        var wall = new Stopwatch();
        for (var run = 0; run < 38; run++)
        {
            if (run == 8)
            {
                process.Refresh();
                cpu = process.TotalProcessorTime;
                wall.Start();
            }
            var watch = Stopwatch.StartNew();
            if (!Move(host, client, server!, data, buffer)) throw new InvalidOperationException("a transfer did not finish within 10 s of virtual time");
            if (run >= 8) rates.Add(Transfer * 8 / watch.Elapsed.TotalSeconds / 1e9);
        }
        process.Refresh();
        var cores = (process.TotalProcessorTime - cpu).TotalSeconds / wall.Elapsed.TotalSeconds;
        rates.Sort();
        return (rates[rates.Count / 2], cores);
    }

    private static bool Move(NetworkHost host, TcpConnection client, TcpConnection server, byte[] data, byte[] buffer)
    {
        long sent = 0, got = 0;
        return host.RunUntil(() =>
        {
            while (sent < Transfer)
            {
                var offset = (int)(sent % data.Length);
                var n = client.Send(data.AsSpan(offset, (int)Math.Min(data.Length - offset, Transfer - sent)));
                if (n == 0) break;
                sent += n;
            }
            int r;
            while ((r = server.Read(buffer)) > 0) got += r;
            return got == Transfer;
        }, TimeSpan.FromSeconds(10));
    }

    // iperf3 over a fresh veth pair between two fresh namespaces: the receiver's rate and both ends' processor use.
    private static (double Gbps, double Sender, double Receiver) Iperf3(bool pin)
    {
        var tag = $"{Environment.ProcessId}{(pin ? "p" : "u")}";
        string a = "nbva" + tag, b = "nbvb" + tag;
        try
        {
            Shell($"ip netns add {a} && ip netns add {b}");
            Shell($"ip link add va{tag} netns {a} type veth peer name vb{tag} netns {b}");
            Shell($"ip -n {a} addr add 10.77.0.1/24 dev va{tag} && ip -n {b} addr add 10.77.0.2/24 dev vb{tag}");
            Shell($"ip -n {a} link set va{tag} up && ip -n {b} link set vb{tag} up && ip -n {a} link set lo up && ip -n {b} link set lo up");
            var taskset = pin ? "taskset -c 1 " : "";
            Shell($"ip netns exec {b} {taskset}iperf3 -s -1 -D");
            Thread.Sleep(500);
            var json = Shell($"ip netns exec {a} {taskset}iperf3 -c 10.77.0.2 -n 2G -J");
            using var document = JsonDocument.Parse(json);
            var end = document.RootElement.GetProperty("end");
            var cpu = end.GetProperty("cpu_utilization_percent");
            return (end.GetProperty("sum_received").GetProperty("bits_per_second").GetDouble() / 1e9,
                cpu.GetProperty("host_total").GetDouble(), cpu.GetProperty("remote_total").GetDouble());
        }
        finally
        {
            Shell($"ip netns del {a}; ip netns del {b}", check: false);
        }
    }

    private static string Shell(string command, bool check = true)
    {
        var start = new ProcessStartInfo("/bin/sh", ["-c", command]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(120_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"`{command}` ran past two minutes");
        }
        if (check && process.ExitCode != 0) throw new InvalidOperationException($"`{command}` failed ({process.ExitCode}): {error.Result.Trim()}");
        return output.Result;
    }
}
