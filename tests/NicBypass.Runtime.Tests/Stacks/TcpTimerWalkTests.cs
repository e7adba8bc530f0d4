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
}
