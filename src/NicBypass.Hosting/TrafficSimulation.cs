using System.Buffers.Binary;
using NicBypass.Runtime;
using NicBypass.Runtime.Packets;
using NicBypass.Runtime.Virtualization;

namespace NicBypass.Hosting;

/// <summary>
/// Drives a host with synthetic traffic on virtual time: each VNIC's frames arrive evenly spaced
/// at its offered rate, all streams merged in time order; the host runs to idle every few frames,
/// so pollers see the virtual time advance as the frames arrive.
/// </summary>
public static class TrafficSimulation
{
    /// <summary>Runs the simulation; <paramref name="progress"/> gets the fraction of virtual time done.</summary>
    public static TrafficReport Run(NetworkHost host, VirtualClock clock, SimulationOptions options, Action<double>? progress = null)
    {
        if (options.Seconds <= 0) throw new ArgumentOutOfRangeException(nameof(options), "seconds must be positive");
        if (options.FrameSize < 60) throw new ArgumentOutOfRangeException(nameof(options), "frames are at least 60 bytes");
        var end = (long)(options.Seconds * 1e9);
        var streams = new List<Stream>();
        var random = new Random(options.Seed);
        foreach (var nic in host.Nics)
        {
            var vnics = host.Vnics.Where(v => v.Nic == nic).ToList();
            if (vnics.Count == 0) continue;
            var size = Math.Min(options.FrameSize, nic.Device.MaxFrameLength - 4);
            double total = 0;
            foreach (var vnic in vnics)
            {
                var rate = options.RateBitsPerSecond
                           ?? (vnic.Settings.Bandwidth is { } allocation ? 2 * allocation : nic.Device.LinkSpeedBitsPerSecond / vnics.Count);
                var interval = 8e9 * size / rate;
                total += 1e9 / interval;
                streams.Add(new Stream(nic, Frame(vnic, size), interval));
            }
            if (options.Mix)
            {
                // Noise: 1% of the NIC's frames, cycling unknown unicast, broadcast and a runt.
                var noise = new[] { Unknown(size, random), Broadcast(size), new byte[10] };
                streams.Add(new Stream(nic, noise, 1e9 / (total * 0.01)));
            }
        }

        var queue = new PriorityQueue<int, double>();
        for (var i = 0; i < streams.Count; i++) queue.Enqueue(i, streams[i].Interval * (i + 1) / (streams.Count + 1));
        var sinceProgress = 0L;
        var sincePump = 0;
        var lastPump = 0L;
        while (queue.TryDequeue(out var index, out var at))
        {
            if (at >= end) continue;
            clock.AdvanceTo((long)at);
            var stream = streams[index];
            stream.Nic.Device.Receive(stream.Next());
            queue.Enqueue(index, at + stream.Interval);
            // Run the host every 16 frames, and at least every millisecond of virtual time, so
            // pollers poll at a rate their allocation can follow (a limiter holds 1 ms of credit).
            if (++sincePump == 16 || (long)at - lastPump >= 1_000_000)
            {
                host.Pump();
                sincePump = 0;
                lastPump = (long)at;
            }
            if (progress is not null && (long)at - sinceProgress > end / 100)
            {
                sinceProgress = (long)at;
                progress(at / end);
            }
        }
        clock.AdvanceTo(Math.Max(clock.Nanoseconds, end));
        host.Pump();
        progress?.Invoke(1);
        return host.Report(options.Seconds);
    }

    private static byte[][] Frame(Vnic vnic, int size)
    {
        var frame = new byte[size];
        EthernetHeader.WriteMac(frame, vnic.Macs[0]);
        EthernetHeader.WriteMac(frame.AsSpan(6), 0x02AA_0000_0001UL);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), 0x88B5); // local experimental EtherType
        if (vnic.Vlan == 0) return new[] { frame };
        var tagged = new byte[size + 4];
        frame.AsSpan(0, 12).CopyTo(tagged);
        BinaryPrimitives.WriteUInt16BigEndian(tagged.AsSpan(12), EthernetHeader.Vlan8021Q);
        BinaryPrimitives.WriteUInt16BigEndian(tagged.AsSpan(14), (ushort)vnic.Vlan);
        frame.AsSpan(12).CopyTo(tagged.AsSpan(16));
        return new[] { tagged };
    }

    private static byte[] Unknown(int size, Random random)
    {
        var frame = new byte[size];
        EthernetHeader.WriteMac(frame, 0x0200_0000_0000UL | (ulong)random.NextInt64(1, 1L << 32) << 8 | 0xEE);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), 0x88B5);
        return frame;
    }

    private static byte[] Broadcast(int size)
    {
        var frame = new byte[size];
        EthernetHeader.WriteMac(frame, 0xFFFF_FFFF_FFFFUL);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), 0x88B5);
        return frame;
    }

    private sealed class Stream(Runtime.Virtualization.HostNic nic, byte[][] frames, double interval)
    {
        private int _next;

        public Runtime.Virtualization.HostNic Nic { get; } = nic;

        public double Interval { get; } = interval;

        public byte[] Next()
        {
            var frame = frames[_next];
            _next = (_next + 1) % frames.Length;
            return frame;
        }
    }
}
