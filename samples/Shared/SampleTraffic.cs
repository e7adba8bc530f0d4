using System.Globalization;
using System.Net;
using NicBypass.Runtime;
using NicBypass.Runtime.Packets;
using NicBypass.Runtime.Stacks;
using NicBypass.Runtime.Virtualization;

namespace NicBypass.Samples;

/// <summary>What the samples share: frames to send and the tables they print.</summary>
public static class SampleTraffic
{
    /// <summary>
    /// Sends <paramref name="count"/> frames of <paramref name="size"/> bytes to every VNIC (built
    /// with the package's <see cref="Frames"/>, in the VNIC's VLAN), plus an ARP broadcast on every
    /// NIC each round; with a <paramref name="clock"/>, one round per millisecond of virtual time
    /// (so allocations see a steady rate, not one burst).
    /// </summary>
    public static void SendToEveryVnic(NetworkHost host, int count, int size = 512, VirtualClock? clock = null)
    {
        var frames = host.Vnics.Select(v => FrameFor(host, v, size)).ToArray();
        var broadcast = Frames.ArpRequest("02:aa:00:00:00:01", "10.255.255.1", "10.255.255.254");
        for (var i = 0; i < count; i++)
        {
            for (var v = 0; v < frames.Length; v++) host.Vnics[v].Nic.Device.Receive(frames[v]);
            foreach (var nic in host.Nics) nic.Device.Receive(broadcast);
            host.Pump();
            clock?.Advance(TimeSpan.FromMilliseconds(1));
        }
        host.Pump();
    }

    // A datagram (or, to a TCP-only service, a data segment) from the peer to the VNIC's first
    // address and declared port; to a VNIC with no static address (ip dhcp), a DHCP-style broadcast datagram at its MAC.
    private static byte[] FrameFor(NetworkHost host, Vnic vnic, int size)
    {
        const ulong peer = 0x02AA_0000_0001UL;
        if (vnic.Ips.FirstOrDefault() is not { } address)
        {
            return Frames.Udp(peer, vnic.Macs[0], IPEndPoint.Parse("10.255.255.1:67"), IPEndPoint.Parse("255.255.255.255:68"), new byte[Math.Max(0, size - 42)], vnic.Vlan);
        }
        var v6 = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;
        var source = new IPEndPoint(IPAddress.Parse(v6 ? "fd00:ffff::1" : "10.255.255.1"), 40000);
        var settings = host.NetworkStackOf(vnic)?.Stack.Settings;
        var destination = new IPEndPoint(address, settings?.Ports is { Count: > 0 } ports ? ports[0] : 9);
        var headers = 14 + (v6 ? 40 : 20);
        if (settings is not null && (settings.Protocols & StackProtocols.Udp) == 0)
        {
            return Frames.Tcp(peer, vnic.Macs[0], source, destination, TcpSegmentFlags.Ack | TcpSegmentFlags.Psh, 1, 1, new byte[Math.Max(0, size - headers - 20)], vnic.Vlan);
        }
        return Frames.Udp(peer, vnic.Macs[0], source, destination, new byte[Math.Max(0, size - headers - 8)], vnic.Vlan);
    }

    public static void PrintPlacement(IEnumerable<(string Nic, string Ring, string Vnic)> placement, TextWriter output)
    {
        output.WriteLine("placement:");
        foreach (var (nic, ring, vnic) in placement) output.WriteLine($"  {nic,-8} {ring,-12} {vnic}");
    }

    public static void PrintDeliveries(NetworkHost host, TextWriter output)
    {
        var culture = CultureInfo.InvariantCulture;
        output.WriteLine("deliveries:");
        output.WriteLine($"  {"VNIC",-10} {"RING",-12} {"RECEIVED",10} {"DELIVERED",10} {"BYTES",12}  DROPPED");
        foreach (var nic in host.Report().Nics)
        {
            foreach (var vnic in nic.Vnics)
            {
                var drops = vnic.Dropped.Count == 0 ? "-" : string.Join(", ", vnic.Dropped.Select(d => $"{d.Key} {d.Value}"));
                output.WriteLine(string.Format(culture, "  {0,-10} {1,-12} {2,10:N0} {3,10:N0} {4,12:N0}  {5}", vnic.Name, vnic.Ring, vnic.Received, vnic.Delivered, vnic.DeliveredBytes, drops));
            }
        }
    }
}
