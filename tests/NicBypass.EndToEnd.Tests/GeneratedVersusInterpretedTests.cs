using NicBypass.Dsl.Text;
using NicBypass.Hosting;
using NicBypass.Runtime;
using NicBypass.Runtime.Devices;
using NicBypass.Runtime.Stacks;
using NicBypass.Runtime.Virtualization;

namespace NicBypass.EndToEnd.Tests;

/// <summary>
/// One semantics, two engines: the host the generator emitted at build time and the host the
/// interpreter builds at run time from the same .nicdsl file get the same traffic and must end
/// with every counter equal.
/// </summary>
public class GeneratedVersusInterpretedTests
{
    public static TheoryData<string> Samples => new() { "QuickStart/web01.nicdsl", "Oversubscribed/edge.nicdsl", "MultiNic/lab.nicdsl", "Bandwidth/limits.nicdsl", "Stacks/services.nicdsl" };

    private static NetworkHost Generated(string sample, TimeProvider time) => sample switch
    {
        "QuickStart/web01.nicdsl" => new Web01(time).Host,
        "Oversubscribed/edge.nicdsl" => new Edge(time).Host,
        "MultiNic/lab.nicdsl" => new Lab(time).Host,
        "Bandwidth/limits.nicdsl" => new Limits(time).Host,
        "Stacks/services.nicdsl" => new Services(time).Host,
        _ => throw new ArgumentException(sample),
    };

    internal static NetworkHost Interpreted(string sample, TimeProvider time)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "samples", sample);
        var (compilation, host) = HostLoader.Load(new[] { new SourceFile(path, File.ReadAllText(path)) }, time: time);
        Assert.True(host is not null, string.Join("\n", compilation.Diagnostics));
        return host!;
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void The_same_traffic_gives_identical_counters(string sample)
    {
        var generatedClock = new VirtualClock();
        var interpretedClock = new VirtualClock();
        var generated = Generated(sample, generatedClock);
        var interpreted = Interpreted(sample, interpretedClock);
        var options = new SimulationOptions(Seconds: 0.02, FrameSize: 300, Seed: 7);

        var a = TrafficSimulation.Run(generated, generatedClock, options);
        var b = TrafficSimulation.Run(interpreted, interpretedClock, options);

        Assert.True(a.Frames > 1000, $"only {a.Frames} frames");
        Assert.Equal(CounterSnapshot.Of(interpreted), CounterSnapshot.Of(generated));
        Assert.Equal(b.Frames, a.Frames);
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void The_same_traffic_under_the_cost_model_gives_identical_counters_busy_times_and_latencies(string sample)
    {
        var generatedClock = new VirtualClock();
        var interpretedClock = new VirtualClock();
        var generated = Generated(sample, generatedClock);
        var interpreted = Interpreted(sample, interpretedClock);
        generated.Costs = interpreted.Costs = CostTable.Default;
        var options = new SimulationOptions(Seconds: 0.01, FrameSize: 300, Seed: 7);

        TrafficSimulation.Run(generated, generatedClock, options);
        TrafficSimulation.Run(interpreted, interpretedClock, options);

        Assert.True(generated.Processors.Sum(p => p.BusyNanoseconds) > 0);
        Assert.Equal(CounterSnapshot.Of(interpreted), CounterSnapshot.Of(generated));
    }

    [Fact]
    public void A_tcp_and_udp_exchange_through_generated_and_interpreted_hosts_leaves_identical_counters()
    {
        var generatedClock = new VirtualClock();
        var interpretedClock = new VirtualClock();
        var generated = Exchange(new Services(generatedClock).Host, generatedClock);
        var interpreted = Exchange(Interpreted("Stacks/services.nicdsl", interpretedClock), interpretedClock);

        Assert.Contains(generated, line => line.StartsWith("vns web", StringComparison.Ordinal));
        Assert.Equal(interpreted, generated);
    }

    // The VM fetches 300 KB from the web container over TCP and asks the DNS service over UDP,
    // through a hairpin switch port; returns every counter afterwards.
    private static List<string> Exchange(NetworkHost host, VirtualClock clock)
    {
        SimulatedCable.Hairpin(host.Nics[0].Device, lossRate: 0.02, seed: 3);
        var client = host.VirtualMachine("client").Stack;
        var listener = host.NetworkStack("web").Stack.ListenTcp(80);
        var dns = host.NetworkStack("dns").Stack.BindUdp(53);
        var resolver = client.BindUdp();
        var connection = client.ConnectTcp(NetworkEndpoint.Parse("10.1.0.10", 80));
        TcpConnection? server = null;
        var body = new byte[300_000];
        new Random(5).NextBytes(body);
        var buffer = new byte[4096];
        int sent = 0, received = 0, queries = 0, answers = 0;
        for (var ms = 0; ms < 30_000 && (received < body.Length || answers < 10); ms++)
        {
            if (server is null) listener.TryAccept(out server);
            if (server is not null && sent < body.Length) sent += server.Send(body.AsSpan(sent));
            if (queries < 10 && ms % 10 == 0 && resolver.TrySendTo(NetworkEndpoint.Parse("fd01::20", 53), new byte[40]) != SendStatus.Blocked) queries++;
            while (dns.TryReceive(buffer, out var from, out var length)) dns.TrySendTo(from, buffer.AsSpan(0, length));
            while (resolver.TryReceive(buffer, out _, out _)) answers++;
            int n;
            while ((n = connection.Read(buffer)) > 0)
            {
                Assert.True(body.AsSpan(received, n).SequenceEqual(buffer.AsSpan(0, n)), "the byte stream arrived intact");
                received += n;
            }
            host.Pump();
            clock.Advance(TimeSpan.FromMilliseconds(1));
        }
        Assert.Equal(body.Length, received);
        Assert.True(answers >= 9, $"{answers} of 10 DNS answers (UDP has no retransmission; the cable loses 2%)");
        return CounterSnapshot.Of(host);
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void The_generated_placement_is_the_planned_one(string sample)
    {
        var generated = Generated(sample, new VirtualClock());
        var interpreted = Interpreted(sample, new VirtualClock());

        Assert.Equal(interpreted.Vnics.Select(v => (v.Name, v.Ring!.Name)), generated.Vnics.Select(v => (v.Name, v.Ring!.Name)));
    }

    [Fact]
    public void The_generated_classifier_is_loaded_and_agrees_with_the_rules()
    {
        var edge = new Edge(new VirtualClock());

        // LoadLookup checks the specialised lookup against every rule; a wrong one would have thrown.
        Assert.Equal(7, edge.E1000g0.Info.Classifier.Program.Rules.Count);
        Assert.Equal(new[] { ("e1000g0", "hrr0", "db"), ("e1000g0", "sr0/srr0", "web") }, Edge.Placement.Take(2));
    }
}
