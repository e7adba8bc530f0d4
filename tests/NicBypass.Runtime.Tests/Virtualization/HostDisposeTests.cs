using NicBypass.Runtime.Stacks;

namespace NicBypass.Runtime.Tests;

/// <summary>What waits on a host's stacks when the host is disposed, or a socket closed: it returns, never hangs.</summary>
public class HostDisposeTests
{
    [Fact]
    public async Task Disposing_the_host_ends_a_pending_read_as_aborted_without_a_reset()
    {
        var harness = new StackHarness();
        var (client, server) = harness.Connect();
        var read = server.ReadAsync(new byte[100]);
        Assert.False(read.IsCompleted);
        var frames = harness.Cable.Frames;

        harness.Host.Dispose();

        Assert.Equal(0, await read.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(TcpError.Aborted, server.Error);
        Assert.Equal((TcpState.Closed, TcpState.Closed), (client.State, server.State));
        harness.Host.Pump();
        Assert.Equal(frames, harness.Cable.Frames); // no RST: the machine is gone, not an application
    }

    [Fact]
    public async Task Disposing_the_host_ends_pending_accepts_and_receives_with_ObjectDisposedException()
    {
        var harness = new StackHarness();
        var listener = harness.Db.Stack.ListenTcp(5432);
        var socket = harness.Db.Stack.BindUdp(5353);
        var accept = listener.AcceptAsync();
        var receive = socket.ReceiveAsync(new byte[100]);

        harness.Host.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => accept.WaitAsync(TimeSpan.FromSeconds(10)));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => receive.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void Stopping_a_listener_resets_the_connections_nobody_accepted_yet()
    {
        // They stayed established for ever, their data acknowledged, and a new listener on the
        // port never saw them; Linux resets them when a listening socket closes (found by a new
        // user's drive).
        var harness = new StackHarness();
        var listener = harness.Db.Stack.ListenTcp(5432);
        var client = harness.Web.Stack.ConnectTcp(NetworkEndpoint.Parse("10.0.0.3", 5432));
        Assert.True(harness.RunUntil(() => listener.Pending == 1, seconds: 5));

        listener.Stop();

        Assert.True(harness.RunUntil(() => client.State == TcpState.Closed, seconds: 5));
        Assert.Equal(TcpError.Reset, client.Error);
        Assert.False(listener.TryAccept(out _));
        Assert.Equal(0, listener.Pending);
        Assert.Equal(0, harness.Db.Stack.ConnectionCount);
    }

    [Fact]
    public async Task A_datagram_send_waiting_for_outbound_room_fails_when_the_host_is_disposed()
    {
        // It waited for ever: nobody flushes the outbound queue of a disposed host (found by a
        // stress drive).
        var harness = new StackHarness(topology: StackHarness.Topology.Replace("ports 80 53 }", "ports 80 53; outbound-bandwidth 100K }"));
        var socket = harness.Web.Stack.BindUdp(53);
        var to = NetworkEndpoint.Parse("10.0.0.3", 5353);
        var receiver = harness.Db.Stack.BindUdp(5353);
        socket.TrySendTo(to, new byte[1]); // the neighbour resolved first (a parked datagram is never pushed back)
        Assert.True(harness.RunUntil(() => receiver.Pending == 1, seconds: 5));
        for (var i = 0; i < 1000 && socket.TrySendTo(to, new byte[1000]) != SendStatus.Blocked; i++) { }
        Assert.Equal(SendStatus.Blocked, socket.TrySendTo(to, new byte[1000]));
        var pending = socket.SendToAsync(to, new byte[1000]);
        Assert.False(pending.IsCompleted);

        harness.Host.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => pending.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void A_reset_the_full_output_refused_waits_and_reaches_the_peer()
    {
        // An abort's RST went as a reply: refused by a full outbound queue it was dropped, and the
        // peer stayed established for ever (found by a stress drive).
        var harness = new StackHarness(topology: StackHarness.Topology.Replace("ports 80 53 }", "ports 80 53; outbound-bandwidth 100K }"));
        var (client, server) = harness.Connect();
        var socket = harness.Web.Stack.BindUdp(53);
        var to = NetworkEndpoint.Parse("10.0.0.3", 5353);
        for (var i = 0; i < 1000 && socket.TrySendTo(to, new byte[100]) != SendStatus.Blocked; i++) { }
        var resets = harness.Web.Stack.Counters.ResetsSent;

        client.Abort();

        Assert.True(harness.RunUntil(() => server.State == TcpState.Closed, seconds: 10), $"server {server.State}");
        Assert.Equal(TcpError.Reset, server.Error);
        Assert.Equal(resets + 1, harness.Web.Stack.Counters.ResetsSent);
    }

    [Fact]
    public void A_closed_udp_socket_sends_nothing()
    {
        var harness = new StackHarness();
        var socket = harness.Db.Stack.BindUdp(5353);
        socket.Close();
        var reused = harness.Db.Stack.BindUdp(5353); // its port bound again by another socket

        Assert.Throws<ObjectDisposedException>(() => socket.TrySendTo(NetworkEndpoint.Parse("10.0.0.1", 53), new byte[] { 1 }));
        Assert.Contains(reused.TrySendTo(NetworkEndpoint.Parse("10.0.0.1", 53), new byte[] { 1 }), new[] { SendStatus.Sent, SendStatus.Queued }); // (queued: resolving the neighbour)
    }

    [Fact]
    public async Task Closing_a_socket_or_stopping_a_listener_ends_what_waits_on_it()
    {
        var harness = new StackHarness();
        var listener = harness.Db.Stack.ListenTcp(5432);
        var socket = harness.Db.Stack.BindUdp(5353);
        var accept = listener.AcceptAsync();
        var receive = socket.ReceiveAsync(new byte[100]);

        listener.Stop();
        socket.Close();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => accept.WaitAsync(TimeSpan.FromSeconds(10)));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => receive.WaitAsync(TimeSpan.FromSeconds(10)));
    }
}
