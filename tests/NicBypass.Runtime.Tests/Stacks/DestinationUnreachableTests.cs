using System.Buffers.Binary;
using NicBypass.Runtime.Stacks;

namespace NicBypass.Runtime.Tests;

/// <summary>
/// An ICMP destination unreachable about a SYN of ours — a firewall's REJECT, a router with no way
/// on — fails the connect at once (refused, or unreachable), as Linux's connect() does; it used to
/// wait out every SYN retransmission. Only for the SYN in flight (RFC 5927), only while connecting.
/// </summary>
public class DestinationUnreachableTests
{
    [Theory]
    [InlineData(3, TcpError.Refused)]     // port unreachable (iptables REJECT's default)
    [InlineData(2, TcpError.Refused)]     // protocol unreachable
    [InlineData(1, TcpError.Unreachable)] // host unreachable
    [InlineData(13, TcpError.Unreachable)] // administratively prohibited
    public void A_connect_whose_syn_is_answered_unreachable_fails_at_once(byte code, TcpError error)
    {
        var (host, clock, wire, web) = HandMadePeer.Container(new StackSettings(StackProtocols.Tcp, new[] { 80 }));
        web.Stack.AddNeighbor(NetworkAddress.Parse("192.168.10.9"), 0x02AA_0000_0009UL);
        var connection = web.Stack.ConnectTcp(NetworkEndpoint.Parse("192.168.10.9", 443));
        host.Pump();
        var syn = Assert.Single(wire.Frames);
        var delivered = web.Stack.Counters.Delivered;

        host.Nic("e0").Device.Receive(RouterMessages.Unreachable(syn, code));
        host.Pump();

        Assert.Equal((TcpState.Closed, error), (connection.State, connection.Error));
        Assert.Equal(delivered + 1, web.Stack.Counters.Delivered);
        Assert.True(connection.Connected.IsFaulted);
        Assert.Contains(error == TcpError.Refused ? "ICMP port or protocol unreachable" : "a router said so", connection.Connected.Exception!.InnerException!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_code_past_those_linux_knows_changes_nothing()
    {
        var (host, _, wire, web) = HandMadePeer.Container(new StackSettings(StackProtocols.Tcp, new[] { 80 }));
        web.Stack.AddNeighbor(NetworkAddress.Parse("192.168.10.9"), 0x02AA_0000_0009UL);
        var connection = web.Stack.ConnectTcp(NetworkEndpoint.Parse("192.168.10.9", 443));
        host.Pump();

        host.Nic("e0").Device.Receive(RouterMessages.Unreachable(Assert.Single(wire.Frames), 16));
        host.Pump();

        Assert.Equal(TcpState.SynSent, connection.State);
    }

    [Theory]
    [InlineData(4, TcpError.Refused)]     // port unreachable
    [InlineData(3, TcpError.Unreachable)] // address unreachable
    public void Over_ipv6_too(byte code, TcpError error)
    {
        var (host, _, wire, web) = HandMadePeer.Container(new StackSettings(StackProtocols.Tcp, new[] { 80 }), "fd00::20");
        web.Stack.AddNeighbor(NetworkAddress.Parse("fd00::9"), 0x02AA_0000_0009UL);
        var connection = web.Stack.ConnectTcp(NetworkEndpoint.Parse("fd00::9", 443));
        host.Pump();
        var syn = Assert.Single(wire.Frames);
        var icmp = new byte[8 + 40 + 20];
        icmp[0] = 1;
        icmp[1] = code;
        syn.AsSpan(14, 40 + 20).CopyTo(icmp.AsSpan(8));

        host.Nic("e0").Device.Receive(TestFrames.IcmpV6(0x02AA_0000_00FEUL, HandMadePeer.Mac, "fd00::fe", "fd00::20", 64, icmp));
        host.Pump();

        Assert.Equal((TcpState.Closed, error), (connection.State, connection.Error));
    }

    [Fact]
    public void One_quoting_another_sequence_number_or_about_an_open_connection_is_not_taken()
    {
        var (host, _, wire, web) = HandMadePeer.Container(new StackSettings(StackProtocols.Tcp, new[] { 80 }));
        web.Stack.AddNeighbor(NetworkAddress.Parse("192.168.10.9"), 0x02AA_0000_0009UL);
        var connection = web.Stack.ConnectTcp(NetworkEndpoint.Parse("192.168.10.9", 443));
        host.Pump();
        var forged = Assert.Single(wire.Frames).ToArray();
        BinaryPrimitives.WriteUInt32BigEndian(forged.AsSpan(14 + 20 + 4), BinaryPrimitives.ReadUInt32BigEndian(forged.AsSpan(14 + 20 + 4)) + 1); // a blind guess
        var unsupported = web.Stack.Counters.Dropped(StackDropReason.Unsupported);

        host.Nic("e0").Device.Receive(RouterMessages.Unreachable(forged, 3));
        host.Pump();

        Assert.Equal(TcpState.SynSent, connection.State);
        Assert.Equal(unsupported + 1, web.Stack.Counters.Dropped(StackDropReason.Unsupported));

        var c = HandMadePeer.Establish(); // an open connection: Linux keeps it going
        c.Wire.Frames.Clear();
        c.Connection.Send(new byte[100]);
        c.Host.Pump();
        c.Send(RouterMessages.Unreachable(c.Wire.Frames.Last(), 3));
        Assert.Equal(TcpState.Established, c.Connection.State);
    }
}
