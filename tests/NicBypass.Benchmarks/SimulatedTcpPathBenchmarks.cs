using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using NicBypass.Dsl.Text;
using NicBypass.Hosting;
using NicBypass.Runtime;
using NicBypass.Runtime.Devices;
using NicBypass.Runtime.Stacks;
using NicBypass.Runtime.Virtualization;

using NicBypass.Tests.Shared;

namespace NicBypass.Benchmarks;

/// <summary>
/// The simulated TCP path (issue 15's figure, docs/benchmarks.md): 4 MiB from a VM to a
/// container's TCP socket on one connection, deterministic mode, sent from a 128 KiB buffer as
/// iperf3 sends and read as it arrives, over a hairpin. Baseline: an ideal hairpin (a frame lands
/// as it is sent, so frames arrive in bursts and a pump moves many); against it, the 10 Gbit/s
/// hairpin the project's figure uses (each frame lands at its own time on the wire: an event a
/// frame, an ACK for every second segment). The connection is set up once; each invocation moves
/// the next 4 MiB on it.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Throughput, launchCount: 1, warmupCount: 5, iterationCount: 15)]
public class SimulatedTcpPathBenchmarks
{
    private const int Bytes = 4 * 1024 * 1024;

    private readonly byte[] _data = new byte[128 * 1024];
    private readonly byte[] _buffer = new byte[256 * 1024];
    private (NetworkHost Host, TcpConnection Client, TcpConnection Server) _ideal, _rated;

    [GlobalSetup]
    public void Setup()
    {
        new Random(1).NextBytes(_data);
        _ideal = Connect(rated: false);
        _rated = Connect(rated: true);
    }

    private static (NetworkHost, TcpConnection, TcpConnection) Connect(bool rated)
    {
        var (host, _, client, server) = SimulatedTcpPath.Connect(rated);
        return (host, client, server);
    }

    [Benchmark(Baseline = true, Description = "4 MiB VM → container, ideal hairpin")]
    public long Ideal() => Transfer(_ideal);

    [Benchmark(Description = "4 MiB VM → container, 10 Gbit/s hairpin")]
    public long Rated() => Transfer(_rated);

    private long Transfer((NetworkHost Host, TcpConnection Client, TcpConnection Server) path)
    {
        long sent = 0, got = 0;
        var done = path.Host.RunUntil(() =>
        {
            while (sent < Bytes)
            {
                var offset = (int)(sent % _data.Length);
                var n = path.Client.Send(_data.AsSpan(offset, (int)Math.Min(_data.Length - offset, Bytes - sent)));
                if (n == 0) break;
                sent += n;
            }
            int r;
            while ((r = path.Server.Read(_buffer)) > 0) got += r;
            return got == Bytes;
        }, TimeSpan.FromSeconds(10));
        if (!done) throw new InvalidOperationException($"{got} of {Bytes} bytes");
        return got;
    }
}
