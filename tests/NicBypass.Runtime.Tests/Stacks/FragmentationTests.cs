using System.Net;
using NicBypass.Runtime.Devices;
using NicBypass.Runtime.Stacks;
using NicBypass.Runtime.Virtualization;

namespace NicBypass.Runtime.Tests;

/// <summary>
/// Datagrams longer than the MTU leave in IP fragments and arrive whole, across the whole
/// datapath (a cable between two NICs; containers behind their VSQs, a VM's guest stack).
/// </summary>
public class FragmentationTests
{
    [Theory]
    [InlineData("10.0.0.3", 20_000)]
    [InlineData("fd00::3", 20_000)]
    [InlineData("10.0.0.3", 65_507)] // the largest UDP over IPv4
    [InlineData("fd00::3", 65_527)]  // the largest UDP over IPv6 without jumbograms
    public void A_datagram_longer_than_the_mtu_crosses_in_fragments_and_arrives_whole(string to, int length)
    {
        var h = new StackHarness();
        var sender = h.Web.Stack.BindUdp(53);
        var receiver = h.Db.Stack.BindUdp(5353);
        var data = StackHarness.Pattern(length, 3);
        var buffer = new byte[65536];
        var got = 0;

        // The first datagram waits for the neighbour's MAC, whole, and leaves in fragments when it is known.
        Assert.Equal(SendStatus.Queued, sender.TrySendTo(NetworkEndpoint.Parse(to, 5353), data));
        Assert.True(h.RunUntil(() => receiver.TryReceive(buffer, out _, out got)));

        Assert.Equal(length, got);
        Assert.Equal(data, buffer[..got]);
        Assert.Equal(1, h.Web.Counters.DatagramsFragmented);
        Assert.Equal(1, h.Db.Counters.DatagramsReassembled);
        var each = to.Contains(':') ? 1500 - 48 : 1500 - 20;
        Assert.Equal((8 + length + each - 1) / each - 1, h.Db.Counters.FragmentsJoined);
        h.AssertBalanced();
    }

    [Fact]
    public void A_datagram_longer_than_ip_allows_is_refused_with_a_clear_error()
    {
        var h = new StackHarness();
        var socket = h.Web.Stack.BindUdp(53);

        var error = Assert.Throws<ArgumentException>(() => socket.TrySendTo(NetworkEndpoint.Parse("10.0.0.3", 5353), new byte[65_508]));

        Assert.Contains("65507", error.Message.Replace(",", ""));
    }

    [Theory]
    [InlineData("10.0.0.2")]
    [InlineData("fd00::2")]
    public void A_vm_answers_a_large_ping_and_echoes_a_large_datagram_in_fragments(string vm)
    {
        var h = new StackHarness();
        var address = NetworkAddress.Parse(vm);

        h.Web.Stack.SendEchoRequest(address, 1, 1, payloadLength: 8000);
        Assert.True(h.RunUntil(() => h.Web.Counters.EchoRepliesReceived == 1));

        // A VM's guest echoes UDP from an unprivileged port: one of web's ephemeral ones.
        var socket = h.Web.Stack.BindUdp(0);
        var data = StackHarness.Pattern(9000, 4);
        var buffer = new byte[65536];
        var got = 0;
        socket.TrySendTo(new NetworkEndpoint(address, 7), data);
        Assert.True(h.RunUntil(() => socket.TryReceive(buffer, out _, out got)));

        Assert.Equal(data, buffer[..got]);
        Assert.Equal(2, h.Guest.Counters.DatagramsReassembled);
        Assert.Equal(2, h.Guest.Counters.DatagramsFragmented);
        Assert.Equal(1, h.Guest.Counters.UdpEchoesSent);
        h.AssertBalanced();
    }

    [Fact]
    public void A_datagram_cut_short_by_a_full_output_drops_its_rest_and_one_not_begun_is_refused_whole()
    {
        // 1 Mbit/s of outbound allocation starts with 1,000 bits of credit: every fragment waits,
        // and the outbound VSQ holds four.
        var host = new NetworkHost("h", 2, new VirtualClock());
        var nic = host.AddNic("e0", SimNicModels.Get("simnic-100g"), new SimNicSettings(1, 1, 256, 1500));
        var vns = host.AddNetworkStack(VnicRole.Container,
            new VnicSettings("web", "e0", new[] { 0x02_00_00_00_00_01UL }, new[] { IPAddress.Parse("10.0.0.1") }, OutboundBandwidth: 1_000_000),
            new StackSettings(StackProtocols.Udp, OutboundCapacity: 4));
        nic.BindHardwareRing(0, vns.Vnic);
        nic.Program(0x02_00_00_00_00_01UL, 0, 0, vns.Vnic);
        host.Start();
        var peer = NetworkEndpoint.Parse("10.0.0.9", 9);
        vns.Stack.AddNeighbor(peer.Address, 0x02_00_00_00_00_09);
        var socket = vns.Stack.BindUdp();

        // Five fragments (6,008 bytes): four queue, the fifth is refused — the datagram cannot
        // arrive whole, its rest is dropped and counted, and the call does not ask for a retry.
        Assert.Equal(SendStatus.Queued, socket.TrySendTo(peer, new byte[6000]));
        Assert.Equal(4, vns.Counters.Sent);
        Assert.Equal(1, vns.Counters.SendDropped(StackDropReason.OutputBlocked));
        // Nothing of the next one can go: refused whole, nothing counted — the caller tries again.
        Assert.Equal(SendStatus.Blocked, socket.TrySendTo(peer, new byte[6000]));
        Assert.Equal(4, vns.Counters.Sent);
        Assert.Equal(1, vns.Counters.SendDroppedTotal);
        Assert.Equal(1, vns.Counters.DatagramsFragmented);
    }

    [Fact]
    public void A_datagram_parked_for_its_neighbour_is_counted_as_sent_once_when_it_leaves()
    {
        var h = new StackHarness();
        var socket = h.Web.Stack.BindUdp(53);
        var receiver = h.Db.Stack.BindUdp(5353);

        Assert.Equal(SendStatus.Queued, socket.TrySendTo(NetworkEndpoint.Parse("10.0.0.3", 5353), new byte[100]));
        Assert.Equal(1, h.Web.Counters.Sent); // the ARP request; the datagram waits for its answer
        Assert.True(h.RunUntil(() => receiver.Pending == 1));

        Assert.Equal(2, h.Web.Counters.Sent);
    }
}
