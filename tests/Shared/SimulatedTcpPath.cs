using NicBypass.Dsl.Text;
using NicBypass.Hosting;
using NicBypass.Runtime;
using NicBypass.Runtime.Devices;
using NicBypass.Runtime.Stacks;
using NicBypass.Runtime.Virtualization;

namespace NicBypass.Tests.Shared;

/// <summary>
/// The simulated TCP path the project measures (`SimulatedTcpPathBenchmarks`, the Linux tests'
/// comparison with veth, docs/benchmarks.md): a VM and a container on one simnic-10g NIC, joined
/// by a hairpin cable, deterministic on virtual time. One copy, so every measurement is of the
/// same path (compiled into each project that uses it).
/// </summary>
internal static class SimulatedTcpPath
{
    public const string Topology = """
        host h {
            cpus 2
            nic e0 { model simnic-10g; rx-rings 2; ring-size 1024 }
            vm client on e0 { mac 02:00:00:00:00:01; ip 10.0.0.1 }
            container server on e0 { mac 02:00:00:00:00:02; ip 10.0.0.2; protocols tcp; ports 80 }
        }
        """;

    /// <summary>The host, its hairpin at 10 Gbit/s (<paramref name="rated"/>) or ideal, and a connection VM → container port 80, established.</summary>
    public static (NetworkHost Host, VirtualClock Clock, TcpConnection Client, TcpConnection Server) Connect(bool rated)
    {
        var clock = new VirtualClock();
        var (compilation, host) = HostLoader.Load(new[] { new SourceFile("h.nicdsl", Topology) }, time: clock);
        if (host is null) throw new InvalidOperationException(string.Join("\n", compilation.Diagnostics));
        var cable = SimulatedCable.Hairpin(host.Nic("e0").Device);
        host.AddCable(rated ? cable.WithRate(10_000_000_000, clock) : cable);
        var listener = host.NetworkStack("server").Stack.ListenTcp(80);
        var client = host.VirtualMachine("client").Stack.ConnectTcp(NetworkEndpoint.Parse("10.0.0.2", 80));
        TcpConnection? server = null;
        if (!host.RunUntil(() => listener.TryAccept(out server), TimeSpan.FromSeconds(1))) throw new InvalidOperationException("the handshake did not complete within a second of virtual time");
        return (host, clock, client, server!);
    }
}
