using NicBypass.Runtime.Virtualization;

namespace NicBypass.Runtime.Tests;

/// <summary>
/// A memory-ordering litmus test: two steps raced against each other on two threads for many
/// rounds, each thread pinned to a core of its own (where the machine has two) and starting each
/// round after a random spin, so that the steps overlap at every offset. A store that a later
/// load on the same thread passes (x86 allows it) shows within a few thousand rounds.
/// </summary>
internal static class Litmus
{
    /// <summary>
    /// Runs <paramref name="rounds"/> rounds (at most a minute): <paramref name="prepare"/>, then
    /// <paramref name="first"/> and <paramref name="second"/> at once, then <paramref name="wrong"/>
    /// with both done. The rounds that ended wrong, and the rounds run.
    /// </summary>
    public static (int Wrong, int Rounds) Race(int rounds, Action prepare, Action first, Action second, Func<bool> wrong)
    {
        var go = 0;
        var done = 0;
        var failures = 0;
        var run = 0;
        Exception? thrown = null;
        var cores = ThreadPinning.AllowedCpus();
        var other = new Thread(() =>
        {
            if (cores.Length > 1) ThreadPinning.PinCurrentThread(cores[0]);
            var random = new Random(1);
            for (var round = 1; round <= rounds; round++)
            {
                try
                {
                    var spinner = new SpinWait();
                    int now;
                    while ((now = Volatile.Read(ref go)) != round)
                    {
                        if (now == int.MaxValue) return;
                        spinner.SpinOnce(sleep1Threshold: -1);
                    }
                    Thread.SpinWait(random.Next(64));
                    first();
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref thrown, e, null);
                }
                Volatile.Write(ref done, round); // the round ends either way
            }
        }) { IsBackground = true };
        var deadline = DateTime.UtcNow.AddMinutes(1);
        var self = new Thread(() =>
        {
            if (cores.Length > 1) ThreadPinning.PinCurrentThread(cores[1]);
            var random = new Random(2);
            try
            {
                for (var round = 1; round <= rounds && DateTime.UtcNow < deadline; round++)
                {
                    prepare();
                    Volatile.Write(ref go, round);
                    Thread.SpinWait(random.Next(64));
                    second();
                    var spinner = new SpinWait();
                    while (Volatile.Read(ref done) != round) spinner.SpinOnce(sleep1Threshold: -1);
                    if (wrong()) failures++;
                    run = round;
                }
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref thrown, e, null);
            }
            finally
            {
                Volatile.Write(ref go, int.MaxValue); // ends the other's wait should the deadline stop the rounds
            }
        }) { IsBackground = true };
        other.Start();
        self.Start();
        self.Join();
        if (!other.Join(TimeSpan.FromSeconds(10))) throw new TimeoutException("the litmus test's other thread did not finish");
        if (thrown is not null) throw new InvalidOperationException("a step threw", thrown);
        return (failures, run);
    }
}

/// <summary>Tests that race two spinning threads pinned to two cores: run alone, not beside others.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LitmusCollection
{
    public const string Name = "litmus";
}
