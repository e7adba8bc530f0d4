using System.Net;
using System.Net.Sockets;

namespace NicBypass.Linux.Tests;

/// <summary>
/// Linux ↔ Linux for comparison: two namespaces of the test's own joined by a veth pair
/// (10.78.0.1 on the left, 10.78.0.2 on the right), an echo server on the right's port 7 and a
/// client socket on the left — the same byte stream NicBypass's containers echo over the TAP.
/// </summary>
internal sealed class VethPair : IDisposable
{
    public static readonly IPEndPoint Server = new(IPAddress.Parse("10.78.0.2"), 7);

    private readonly Socket _listener;
    private readonly Task _echo;

    private VethPair(NetNamespace left, NetNamespace right)
    {
        Left = left;
        Right = right;
        NetNamespace.Tool("ip", $"link add nbva netns {left.Name} type veth peer name nbvb netns {right.Name}");
        left.Ip("addr add 10.78.0.1/24 dev nbva");
        right.Ip("addr add 10.78.0.2/24 dev nbvb");
        left.Ip("link set nbva up");
        right.Ip("link set nbvb up");
        _listener = right.ListenTcp(Server);
        _echo = NetNamespace.EchoOnce(_listener);
    }

    public NetNamespace Left { get; }

    public NetNamespace Right { get; }

    /// <summary>Makes the pair; <paramref name="leftQdisc"/> (tc's words after "root") shapes what the left sends.</summary>
    public static VethPair Create(string? leftQdisc = null)
    {
        var left = NetNamespace.Create();
        var right = NetNamespace.Create();
        try
        {
            var pair = new VethPair(left, right);
            if (leftQdisc is not null) left.Tc($"qdisc add dev nbva root {leftQdisc}");
            return pair;
        }
        catch
        {
            left.Dispose();
            right.Dispose();
            throw;
        }
    }

    /// <summary>A client socket on the left, connected to the echo server.</summary>
    public Socket Connect() => Left.ConnectTcp(Server, TimeSpan.FromSeconds(30));

    public void Dispose()
    {
        _listener.Dispose();
        Left.Dispose();
        Right.Dispose();
        _echo.ContinueWith(_ => { }, TaskScheduler.Default).Wait(TimeSpan.FromSeconds(5));
    }
}
