using System.Net;
using System.Net.Sockets;
using NicBypass.Dsl.Text;
using NicBypass.Hosting;
using NicBypass.Runtime.Devices;
using NicBypass.Runtime.Virtualization;

namespace NicBypass.Linux.Tests;

/// <summary>
/// A NicBypass host whose NIC e0 is a TAP device inside a namespace of the test's own, with the
/// Linux side at 10.77.0.254/24 and fd77::fe/64; the host runs threaded on the system clock with
/// echo servers on its containers' ports. Everything is taken down on dispose, in order.
/// </summary>
internal sealed class TapPeer : IAsyncDisposable
{
    public const string Topology = """
        host peer {
            cpus 2
            nic e0 { model simnic-10g; rx-rings 4; ring-size 1024 }
            vm vm1 on e0 { mac 02:00:00:00:77:01; ip 10.77.0.1/24; ip fd77::1; cpu 0 }
            container c1 on e0 { mac 02:00:00:00:77:02; ip 10.77.0.2/24; ip fd77::2; protocols tcp udp; ports 7 }
        }
        """;

    public static readonly IPAddress LinuxIp = IPAddress.Parse("10.77.0.254");
    public static readonly IPAddress Vm = IPAddress.Parse("10.77.0.1");
    public static readonly IPAddress Vm6 = IPAddress.Parse("fd77::1");
    public static readonly IPAddress Container = IPAddress.Parse("10.77.0.2");
    public static readonly IPAddress Container6 = IPAddress.Parse("fd77::2");
    public const string Tap = "nbtap0";

    private TapPeer(NetNamespace ns, NetworkHost host, TapWire wire, EchoServices? echo)
    {
        Namespace = ns;
        Host = host;
        Wire = wire;
        _echo = echo;
    }

    public NetNamespace Namespace { get; }

    public NetworkHost Host { get; }

    public TapWire Wire { get; }

    /// <summary>The echo servers (absent when the test is the application itself).</summary>
    public EchoServices Echo => _echo ?? throw new InvalidOperationException("started without echo servers");

    private readonly EchoServices? _echo;

    public static TapPeer Start(string topology = Topology, bool echo = true)
    {
        var ns = NetNamespace.Create();
        NetworkHost? host = null;
        TapWire? wire = null;
        try
        {
            var (compilation, built) = HostLoader.Load(new[] { new SourceFile("peer.nicdsl", topology) }, time: TimeProvider.System);
            Assert.True(built is not null, string.Join("\n", compilation.Diagnostics));
            host = built!;
            // Created inside the namespace: it lives there, and goes when its descriptor closes.
            var device = ns.Run(() => TapDevice.Open(Tap));
            wire = host.AttachTap("e0", device);
            ns.Ip($"addr add {LinuxIp}/24 dev {Tap}");
            ns.Ip($"-6 addr add fd77::fe/64 dev {Tap} nodad");
            host.StartThreads();
            return new TapPeer(ns, host, wire, echo ? EchoServices.Start(host) : null);
        }
        catch
        {
            host?.StopThreads();
            wire?.Dispose();
            ns.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Linux's ping of <paramref name="target"/> from the namespace (with <paramref name="data"/>
    /// as its payload, 32 bytes if none): up to five tries of 2 s each — the first may wait for
    /// neighbour discovery; the last reply.
    /// </summary>
    public System.Net.NetworkInformation.PingReply Ping(IPAddress target, byte[]? data = null) => Namespace.Run(() =>
    {
        using var ping = new System.Net.NetworkInformation.Ping();
        System.Net.NetworkInformation.PingReply? reply = null;
        for (var i = 0; i < 5 && reply?.Status != System.Net.NetworkInformation.IPStatus.Success; i++) reply = ping.Send(target, 2000, data ?? new byte[32]);
        return reply!;
    });

    /// <summary>A socket made inside the namespace (the Linux side), connected to <paramref name="to"/>.</summary>
    public Socket ConnectTcp(IPEndPoint to, TimeSpan timeout) => Namespace.ConnectTcp(to, timeout);

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_echo is not null) await _echo.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        }
        finally
        {
            try
            {
                Host.StopThreads(TimeSpan.FromSeconds(5)); // may throw what a handler threw: the namespace goes all the same
            }
            finally
            {
                Wire.Dispose();
                Namespace.Dispose();
            }
        }
    }
}
