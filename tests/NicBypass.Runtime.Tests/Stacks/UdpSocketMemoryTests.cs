using NicBypass.Runtime.Stacks;

namespace NicBypass.Runtime.Tests;

/// <summary>A UDP socket's queue costs memory only once something waits in it.</summary>
public class UdpSocketMemoryTests
{
    [Fact]
    public void A_socket_read_in_place_never_allocates_its_queue_and_a_queued_datagram_still_waits_to_be_read()
    {
        var harness = new StackHarness();
        var before = GC.GetAllocatedBytesForCurrentThread();
        var inPlace = harness.Db.Stack.BindUdp(5353);
        // The queue (hundreds of MTU-sized slots) is not allocated when the socket is made: a
        // simulation binding 667 sockets read in place used to allocate 258 MB.
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 4096, $"{GC.GetAllocatedBytesForCurrentThread() - before} bytes to bind");
        var seen = 0;
        inPlace.Handler = (_, payload) => seen += payload.Length;
        var queued = harness.Db.Stack.BindUdp(5432);

        harness.Web.Stack.AddNeighbor(NetworkAddress.Parse("10.0.0.3"), 0x02_00_00_00_00_03);
        var sender = harness.Web.Stack.BindUdp();
        sender.TrySendTo(NetworkEndpoint.Parse("10.0.0.3", 5353), new byte[100]);
        sender.TrySendTo(NetworkEndpoint.Parse("10.0.0.3", 5432), new byte[200]);
        Assert.True(harness.RunUntil(() => seen == 100 && queued.Pending == 1, seconds: 1));
        var buffer = new byte[512];
        Assert.True(queued.TryReceive(buffer, out _, out var length));
        Assert.Equal(200, length);
        Assert.Equal(0, inPlace.Pending);
    }
}
