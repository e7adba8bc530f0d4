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
