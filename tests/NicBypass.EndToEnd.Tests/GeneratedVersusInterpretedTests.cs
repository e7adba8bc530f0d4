using NicBypass.Dsl.Text;
using NicBypass.Hosting;
using NicBypass.Runtime;
using NicBypass.Runtime.Virtualization;

namespace NicBypass.EndToEnd.Tests;

/// <summary>
/// One semantics, two engines: the host the generator emitted at build time and the host the
/// interpreter builds at run time from the same .nicdsl file get the same traffic and must end
/// with every counter equal.
/// </summary>
public class GeneratedVersusInterpretedTests
{
    public static TheoryData<string> Samples => new() { "QuickStart/web01.nicdsl", "Oversubscribed/edge.nicdsl", "MultiNic/lab.nicdsl", "Bandwidth/limits.nicdsl" };

    private static NetworkHost Generated(string sample, TimeProvider time) => sample switch
    {
        "QuickStart/web01.nicdsl" => new Web01(time).Host,
        "Oversubscribed/edge.nicdsl" => new Edge(time).Host,
        "MultiNic/lab.nicdsl" => new Lab(time).Host,
        "Bandwidth/limits.nicdsl" => new Limits(time).Host,
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
