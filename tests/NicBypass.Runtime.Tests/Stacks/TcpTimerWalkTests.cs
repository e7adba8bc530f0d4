using NicBypass.Runtime.Stacks;

namespace NicBypass.Runtime.Tests;

/// <summary>
/// The stacks' timer walk (NetworkStack.Tick): a bulk transfer arms a retransmission timer on
/// nearly every ACK, and the stack walks its connections only when one of their timers may be due.
/// </summary>
public class TcpTimerWalkTests
{
    [Fact]
    public void A_bulk_tcp_transfer_allocates_nothing_once_warm()
    {
        // The walk used to enumerate the connection table on every tick (a boxed enumerator
        // each time), and every stack ticks as its processor runs.
        var harness = new StackHarness();
        var (client, server) = harness.Connect();
        var chunk = StackHarness.Pattern(16 * 1024, 3);
        var buffer = new byte[64 * 1024];
        long read = 0, sent = 0, target = 0;
        // One delegate for every round: the test's own closures would allocate otherwise.
        Func<bool> step = () =>
        {
            while (sent < target)
            {
                var n = client.Send(chunk.AsSpan(0, (int)Math.Min(chunk.Length, target - sent)));
                if (n == 0) break;
                sent += n;
            }
            int got;
            while ((got = server.Read(buffer)) > 0) read += got;
            return read == target;
        };

        void Round()
        {
            target = sent + 256 * 1024;
            Assert.True(harness.RunUntil(step, seconds: 10));
        }

        for (var warm = 0; warm < 5; warm++) Round();
        var windows = new long[10];
        for (var w = 0; w < windows.Length; w++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            Round();
            windows[w] = GC.GetAllocatedBytesForCurrentThread() - before;
        }

        Assert.Contains(0L, windows);
        Assert.Equal(0, client.Retransmissions);
    }

    [Fact]
    public void A_neighbour_waiting_seconds_for_its_probe_does_not_make_every_poll_tick()
    {
        // db learned web's MAC from web's ARP request (stale, RFC 4861) and used it: it probes it
        // five seconds on. Until then its worker, polling after every frame, must not enter the VSQ
        // to run timers that are not due (it did on every poll: a lock and a walk per frame).
        var harness = new StackHarness();
        var (client, server) = harness.Connect();
        var before = harness.Db.TimerPasses;

        harness.SendAndReceive(client, server, StackHarness.Pattern(200 * 1024, 5));

        var passes = harness.Db.TimerPasses - before;
        Assert.True(passes < 10, $"{passes} timer passes for 200 KB");
        Assert.True(harness.Clock.Nanoseconds < 5_000_000_000, "before the probe is due");
    }

    [Fact]
    public void Acknowledged_data_confirms_the_neighbour_and_calls_its_probe_off()
    {
        // RFC 4861 7.3.1: a TCP ACK for new data is proof the neighbour is reachable. db uses its
        // stale entry for web (the SYN-ACK went by it: a probe is due five seconds on); once web
        // acknowledges data from db, the entry is reachable and the probe is called off.
        var harness = new StackHarness();
        var (client, server) = harness.Connect();
        Assert.True(harness.Db.Stack.NeighborsResolving, "the stale entry in use waits for its probe");

        harness.SendAndReceive(server, client, StackHarness.Pattern(20 * 1024, 7)); // db → web: web's ACKs come back

        Assert.False(harness.Db.Stack.NeighborsResolving);
        var frames = harness.Cable.Frames;
        Assert.False(harness.RunUntil(() => false, seconds: 10)); // ten quiet seconds: nothing probes web
        Assert.Equal(frames, harness.Cable.Frames);
    }
}
