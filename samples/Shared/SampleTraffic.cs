using System.Buffers.Binary;
using System.Globalization;
using NicBypass.Runtime;
using NicBypass.Runtime.Packets;
using NicBypass.Runtime.Virtualization;

namespace NicBypass.Samples;

/// <summary>What the samples share: frames to send and the tables they print.</summary>
public static class SampleTraffic
{
    /// <summary>
    /// Sends <paramref name="count"/> frames of <paramref name="size"/> bytes to every VNIC (tagged
    /// with its VLAN), plus a broadcast each round; with a <paramref name="clock"/>, one round per
    /// millisecond of virtual time (so allocations see a steady rate, not one burst).
    /// </summary>
    public static void SendToEveryVnic(NetworkHost host, int count, int size = 512, VirtualClock? clock = null)
    {
        var frames = host.Vnics.Select(v => Frame(v.Macs[0], v.Vlan, size)).ToArray();
        var broadcast = Frame(0xFFFF_FFFF_FFFFUL, 0, size);
        for (var i = 0; i < count; i++)
        {
            for (var v = 0; v < frames.Length; v++) host.Vnics[v].Nic.Device.Receive(frames[v]);
            foreach (var nic in host.Nics) nic.Device.Receive(broadcast);
            host.Pump();
            clock?.Advance(TimeSpan.FromMilliseconds(1));
        }
        host.Pump();
    }

    /// <summary>
    /// Offers every VNIC with an allocation twice that rate for <paramref name="seconds"/> of
    /// virtual time, frames evenly spaced, running the host every millisecond.
    /// </summary>
    public static void OfferTwiceTheAllocation(NetworkHost host, VirtualClock clock, double seconds, int frameSize)
    {
        var streams = host.Vnics.Where(v => v.Settings.Bandwidth is not null)
            .Select(v => (Vnic: v, Frame: Frame(v.Macs[0], v.Vlan, frameSize), Interval: 8e9 * frameSize / (2.0 * v.Settings.Bandwidth!.Value), Next: 0.0))
            .ToArray();
        var end = seconds * 1e9;
        for (var now = 0.0; now < end; now += 1_000_000)
        {
            for (var i = 0; i < streams.Length; i++)
            {
                while (streams[i].Next < now + 1_000_000 && streams[i].Next < end)
                {
                    clock.AdvanceTo(Math.Max(clock.Nanoseconds, (long)streams[i].Next));
                    streams[i].Vnic.Nic.Device.Receive(streams[i].Frame);
                    streams[i].Next += streams[i].Interval;
                }
            }
            clock.AdvanceTo(Math.Max(clock.Nanoseconds, (long)Math.Min(now + 1_000_000, end)));
            host.Pump();
        }
    }

    public static byte[] Frame(ulong destination, int vlan, int size)
    {
        var frame = new byte[size + (vlan == 0 ? 0 : 4)];
        EthernetHeader.WriteMac(frame, destination);
        EthernetHeader.WriteMac(frame.AsSpan(6), 0x02AA_0000_0001UL);
        var offset = 12;
        if (vlan != 0)
        {
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), EthernetHeader.Vlan8021Q);
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(14), (ushort)vlan);
            offset = 16;
        }
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(offset), 0x88B5);
        return frame;
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
