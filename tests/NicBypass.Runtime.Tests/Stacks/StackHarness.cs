using NicBypass.Runtime;
using NicBypass.Runtime.Devices;
using NicBypass.Runtime.Stacks;
using NicBypass.Runtime.Virtualization;

namespace NicBypass.Runtime.Tests;

/// <summary>
/// A host with two NICs joined by a (lossy) simulated cable: a container on e0, and a VM and a
/// second container on e1. Everything a stack sends crosses the cable and comes back in through
/// the other NIC's classifier, rings and VNICs — the whole datapath, on virtual time.
/// </summary>
internal sealed class StackHarness
{
    public const string Topology = """
        host t {
            cpus 2
            nic e0 { model simnic-10g; rx-rings 2; tx-rings 1; ring-size 256 }
            nic e1 { model simnic-10g; rx-rings 2; tx-rings 1; ring-size 256 }
            container web on e0 { mac 02:00:00:00:00:01; ip 10.0.0.1; ip fd00::1; protocols tcp udp; ports 80 53 }
            vm guest on e1 { mac 02:00:00:00:00:02; ip 10.0.0.2; ip fd00::2 }
            container db on e1 { mac 02:00:00:00:00:03; ip 10.0.0.3; ip fd00::3; protocols tcp udp; ports 5432 5353 }
        }
        """;

    public StackHarness(double loss = 0, int seed = 1, string topology = Topology)
    {
        (Host, _) = TestHost.Build(topology, Clock);
        Cable = SimulatedCable.Connect(Host.Nic("e0").Device, Host.Nic("e1").Device, loss, seed);
    }

    public VirtualClock Clock { get; } = new();

    public NetworkHost Host { get; }

    public SimulatedCable Cable { get; }

    public VirtualNetworkStack Web => Host.NetworkStack("web");

    public VirtualNetworkStack Db => Host.NetworkStack("db");

    public VirtualMachine Guest => Host.VirtualMachine("guest");

    /// <summary>Pumps and moves virtual time from event to event until <paramref name="done"/> (or the time limit).</summary>
    public bool RunUntil(Func<bool> done, double seconds = 60) => Host.RunUntil(done, TimeSpan.FromSeconds(seconds));

    /// <summary>web connects to db's port 5432; runs until both ends are established and the handshake's frames have landed.</summary>
    public (TcpConnection Client, TcpConnection Server) Connect()
    {
        var listener = Db.Stack.ListenTcp(5432);
        var client = Web.Stack.ConnectTcp(NetworkEndpoint.Parse("10.0.0.3", 5432));
        TcpConnection? server = null;
        Assert.True(RunUntil(() => listener.TryAccept(out server)), "the handshake completes");
        Assert.True(RunUntil(() => client.State == TcpState.Established));
        Host.Pump();
        return (client, server!);
    }

    /// <summary>Sends <paramref name="data"/> from <paramref name="client"/> (it must fit its buffer) and runs until <paramref name="server"/> has read it all; what it read.</summary>
    public byte[] SendAndReceive(TcpConnection client, TcpConnection server, byte[] data, double seconds = 5)
    {
        Assert.Equal(data.Length, client.Send(data));
        var received = new MemoryStream();
        var buffer = new byte[4096];
        Assert.True(RunUntil(() =>
        {
            int n;
            while ((n = server.Read(buffer)) > 0) received.Write(buffer, 0, n);
            return received.Length == data.Length;
        }, seconds), $"{received.Length} of {data.Length} bytes arrived");
        return received.ToArray();
    }

    /// <summary>Every stack's counters add up: received = delivered + answered + dropped (+ IP fragments joined into datagrams or held).</summary>
    public void AssertBalanced() => AssertBalanced(Host);

    /// <summary>The host's counters add up (<see cref="TestHost.AssertBalanced"/>), and every stack's: each frame received was delivered, answered, dropped or held as a fragment.</summary>
    public static void AssertBalanced(NetworkHost host)
    {
        host.AssertBalanced();
        foreach (var stack in host.NetworkStacks.Select(s => (s.Name, s.Counters)).Concat(host.VirtualMachines.Select(v => (v.Name, v.Counters))))
        {
            var c = stack.Counters;
            Assert.True(c.Received == c.Delivered + c.Answered + c.DroppedTotal + c.FragmentsJoined + c.FragmentsHeld,
                $"{stack.Name}: received {c.Received} != delivered {c.Delivered} + answered {c.Answered} + dropped {c.DroppedTotal} + fragments joined {c.FragmentsJoined} + held {c.FragmentsHeld}");
        }
    }

    /// <summary>Threaded mode: sends <paramref name="data"/> from the application's thread while reading it at the other end; returns what arrived.</summary>
    public static async Task<byte[]> TransferAsync(TcpConnection client, TcpConnection server, byte[] data, TimeSpan timeout)
    {
        var sending = client.SendAsync(data);
        var received = new MemoryStream();
        var buffer = new byte[16384];
        while (received.Length < data.Length)
        {
            var n = await server.ReadAsync(buffer).WaitAsync(timeout);
            Assert.True(n > 0, "the stream ended early");
            received.Write(buffer, 0, n);
        }
        await sending.WaitAsync(timeout);
        return received.ToArray();
    }

    public static byte[] Pattern(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }
}
