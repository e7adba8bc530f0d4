using System.Net;
using System.Buffers.Binary;
using NicBypass.Runtime;
using NicBypass.Runtime.Packets;
using NicBypass.Runtime.Stacks;
using NicBypass.Runtime.Virtualization;

namespace NicBypass.Hosting;

/// <summary>
/// Drives a host with synthetic traffic on virtual time: each VNIC's frames are offered to its
/// NIC's link at its offered rate — frame k at a point drawn (seeded) in the k-th interval of the
/// stream's spacing, so the rate is exact and no phase locks to the link — all streams merged in
/// time order; the link
/// carries what fits its rate and drops the rest; before each frame is offered, everything that
/// falls due by then runs at its own time (event-driven: frames landing, processors finishing
/// their steps, timers).
///
/// A VM gets frames of an EtherType its guest ignores. A container or service gets UDP datagrams
/// to its address from a simulated peer: where it serves UDP on a declared port, the simulation
/// plays its application — a socket bound to the first such port, read as datagrams arrive — so
/// its VNS delivers them; otherwise its VNS answers them as a stack would (port unreachable).
/// </summary>
public static class TrafficSimulation
{
    /// <summary>The most frames one run may offer (about a minute of wall time on a small machine): past it, shorten <c>--seconds</c> or lower the rates.</summary>
    public const long MaxFrames = 100_000_000;

    /// <summary>How many frames a run of <paramref name="options"/> on <paramref name="host"/> will offer (the same rates the run uses), noise included.</summary>
    public static double EstimateFrames(NetworkHost host, SimulationOptions options) =>
        OfferedFrames(host, options).Sum(v => v.Frames) * (options.Mix ? 1.01 : 1);

    /// <summary>How many frames each VNIC is offered in a run of <paramref name="options"/> (on average: a fraction of one means perhaps none), and the time between them in seconds.</summary>
    public static IReadOnlyList<(Vnic Vnic, double Frames, double Spacing)> OfferedFrames(NetworkHost host, SimulationOptions options)
    {
        var offered = new List<(Vnic, double, double)>();
        foreach (var nic in host.Nics)
        {
            var vnics = host.Vnics.Where(v => v.Nic == nic).ToList();
            foreach (var vnic in vnics)
            {
                var spacing = 8.0 * FrameSizeOf(nic, options) / RateOf(vnic, vnics.Count, options, FrameSizeOf(nic, options));
                offered.Add((vnic, options.Seconds / spacing, spacing));
            }
        }
        return offered;
    }

    // The bits per second offered to a VNIC: its --offer, else --rate, else twice its allocation,
    // else its share of what the link carries — in frame bits, as rates are counted: each frame
    // also takes 24 bytes of the link (preamble, gap, FCS) and a VLAN's tag 4, and with --mix all
    // the noise takes 1% more frames. The link's speed split evenly overfilled it by itself: at
    // 64 bytes a lone VM lost 27% of its frames to the wire (found by a new user's drive).
    private static double RateOf(Vnic vnic, int vnicsOnNic, SimulationOptions options, int frameSize) =>
        options.Offers is { } offers && offers.TryGetValue(vnic.Name, out var offered) ? offered
        : options.RateBitsPerSecond
          ?? (vnic.Settings.Bandwidth is { } allocation ? 2 * allocation
              : (double)vnic.Nic.Device.LinkSpeedBitsPerSecond * frameSize / (frameSize + (vnic.Vlan == 0 ? 0 : 4) + Runtime.Devices.SimulatedNic.WireOverhead) / vnicsOnNic / (options.Mix ? 1.01 : 1));

    private static int FrameSizeOf(HostNic nic, SimulationOptions options) => Math.Min(options.FrameSize, nic.Device.MaxFrameLength - 4);

    /// <summary>Runs the simulation; <paramref name="progress"/> gets the fraction of virtual time done.</summary>
    public static TrafficReport Run(NetworkHost host, VirtualClock clock, SimulationOptions options, Action<double>? progress = null)
    {
        if (options.Seconds <= 0) throw new ArgumentOutOfRangeException(nameof(options), "seconds must be positive");
        if (options.FrameSize < 60) throw new ArgumentOutOfRangeException(nameof(options), "frames are at least 60 bytes");
        var end = (long)(options.Seconds * 1e9);
        foreach (var (name, offered) in options.Offers ?? new Dictionary<string, long>())
        {
            if (!host.Vnics.Any(v => v.Name == name))
            {
                throw new ArgumentException($"no VNIC named '{name}' to offer traffic to; the host has {string.Join(", ", host.Vnics.Select(v => v.Name))}", nameof(options));
            }
            if (offered <= 0) throw new ArgumentException($"the rate offered to '{name}' must be positive", nameof(options));
        }
        host.DynamicPolling = !options.InterruptsOnly;
        if (options.AdaptiveInterruptModeration && options.InterruptModeration is not null)
        {
            throw new ArgumentException("interrupt moderation is either a fixed delay or adaptive, not both", nameof(options));
        }
        if (options.InterruptModeration is { } moderation)
        {
            foreach (var nic in host.Nics)
            {
                nic.Device.AdaptiveInterruptModeration = false;
                nic.Device.InterruptModeration = moderation;
            }
        }
        if (options.AdaptiveInterruptModeration)
        {
            foreach (var nic in host.Nics)
            {
                nic.Device.InterruptModeration = TimeSpan.Zero;
                nic.Device.AdaptiveInterruptModeration = true;
            }
        }
        var streams = new List<Stream>();
        var random = new Random(options.Seed);
        foreach (var nic in host.Nics)
        {
            var vnics = host.Vnics.Where(v => v.Nic == nic).ToList();
            if (vnics.Count == 0) continue;
            var size = FrameSizeOf(nic, options);
            double total = 0;
            foreach (var vnic in vnics)
            {
                var interval = 8e9 * size / RateOf(vnic, vnics.Count, options, size);
                total += 1e9 / interval;
                streams.Add(new Stream(nic, host.NetworkStackOf(vnic) is { } vns ? Datagram(vns, size) : Frame(vnic, size), interval));
            }
            if (options.Mix)
            {
                // Noise: 1% of the NIC's frames, cycling unknown unicast, broadcast and a runt.
                var noise = new[] { Unknown(size, random), Broadcast(size), new byte[10] };
                streams.Add(new Stream(nic, noise, 1e9 / (total * 0.01)));
            }
        }

        // Frame k of a stream is offered at a point drawn anew in its own interval, [k, k + 1)
        // intervals from the start (seeded: runs repeat): the rate is exact and the frames stay in
        // order, but no stream's phase locks to the link's departures. Evenly spaced, the stream
        // whose frames came just after a departure took every free place of a full link — two
        // equal streams split 1G as 600M and 400M, a 100M stream beside a 2G one got 6 frames in
        // 12,500 (found by a new user).
        var spacing = new Random(unchecked(options.Seed * 7919 + 0x5EED)); // (not HashCode.Combine: it is seeded afresh in every process)
        var queue = new PriorityQueue<int, double>();
        for (var i = 0; i < streams.Count; i++) queue.Enqueue(i, streams[i].Interval * spacing.NextDouble());
        var sinceProgress = 0L;
        host.RunTo(clock.Nanoseconds); // the whole host looks once; from here on only offers happen between runs
        var due = host.NextDueAwake();
        while (queue.TryPeek(out var index, out var at))
        {
            if (at >= end)
            {
                queue.Dequeue();
                continue;
            }
            // Whatever falls due before this frame is offered (a frame landing off the wire, a
            // processor finishing a step, a timer) runs first, each at its time; otherwise the
            // clock just moves. Only what has work runs (the host's scheduler).
            if (due <= (long)at)
            {
                host.RunEventsTo((long)at);
                due = host.NextDueAwake();
            }
            else if (clock.Nanoseconds < (long)at)
            {
                clock.AdvanceTo((long)at);
            }
            var stream = streams[index];
            stream.Nic.Device.Offer(stream.Next());
            due = Math.Min(due, stream.Nic.Device.NextLanding);
            queue.DequeueEnqueue(index, stream.Interval * (stream.Offered + spacing.NextDouble())); // one sift for both
            if (progress is not null && (long)at - sinceProgress > end / 100)
            {
                sinceProgress = (long)at;
                progress(at / end);
            }
        }
        host.RunAwakeTo(Math.Max(clock.Nanoseconds, end));
        // What the link carried before the end lands after it: let it land (it was carried).
        host.LandWhatTheWiresCarry();
        progress?.Invoke(1);
        return host.Report(options.Seconds, clock.Nanoseconds); // busy shares over all the host ran, the landing included
    }

    private static byte[][] Frame(Vnic vnic, int size)
    {
        var frame = new byte[size];
        EthernetHeader.WriteMac(frame, vnic.Macs[0]);
        EthernetHeader.WriteMac(frame.AsSpan(6), 0x02AA_0000_0001UL);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), 0x88B5); // local experimental EtherType
        return new[] { Tag(frame, vnic.Vlan) };
    }

    // What NetworkHost.Offer sends (OfferedFrame: a UDP datagram to the first declared UDP port,
    // else port 9, or to a TCP-only stack a TCP segment its stack answers with a RST), from
    // 198.18.0.1:40000 (or 2001:db8::1) to the stack's first address; the first UDP port is bound
    // here as its application, which reads each datagram as it arrives.
    private static byte[][] Datagram(VirtualNetworkStack vns, int size)
    {
        var stack = vns.Stack;
        if (WhyNotDatagrams(stack, size) is not null) return Frame(vns.Vnic, size);
        var destination = stack.Addresses[0];
        if (stack.Settings.FirstUdpPort is { } application)
        {
            try
            {
                // The application reads each datagram as it arrives (in place, on the stack's processor).
                stack.BindUdp(application).Handler = static (_, _) => { };
            }
            catch (InvalidOperationException)
            {
                // The port is bound already (by whoever built the host): its owner reads it.
            }
        }
        var from = new IPEndPoint(IPAddress.Parse(destination.IsV6 ? "2001:db8::1" : "198.18.0.1"), 40000);
        return new[] { NetworkHost.OfferedFrame(vns.Vnic, from, destination.ToIPAddress(), stack.Settings, size) };
    }

    /// <summary>
    /// Why a container or service is offered frames of an EtherType its stack does not serve
    /// (dropped there as unsupported) rather than datagrams to its address, or null when it is
    /// offered datagrams or is a VM: the CLI says so (found by a new user's drive, who saw a
    /// DHCP container drop all it got, unexplained).
    /// </summary>
    public static string? WhyNotDatagrams(NetworkHost host, Vnic vnic, SimulationOptions options) =>
        host.NetworkStackOf(vnic) is { } vns ? WhyNotDatagrams(vns.Stack, FrameSizeOf(vnic.Nic, options)) : null;

    private static string? WhyNotDatagrams(NetworkStack stack, int size)
    {
        if (stack.Addresses.Count == 0) return "it has no address yet ('ip dhcp', and no DHCP server answers in a simulation)";
        var destination = stack.Addresses[0];
        var headers = EthernetHeader.Length + (destination.IsV6 ? 40 : 20) + (stack.Settings.TcpOnly ? 20 : 8);
        return size < headers ? $"{size}-byte frames cannot hold its {(destination.IsV6 ? "IPv6" : "IPv4")} and {(stack.Settings.TcpOnly ? "TCP" : "UDP")} headers ({headers} bytes)" : null;
    }

    private static byte[] Tag(byte[] frame, int vlan)
    {
        if (vlan == 0) return frame;
        var tagged = new byte[frame.Length + 4];
        frame.AsSpan(0, 12).CopyTo(tagged);
        BinaryPrimitives.WriteUInt16BigEndian(tagged.AsSpan(12), EthernetHeader.Vlan8021Q);
        BinaryPrimitives.WriteUInt16BigEndian(tagged.AsSpan(14), (ushort)vlan);
        frame.AsSpan(12).CopyTo(tagged.AsSpan(16));
        return tagged;
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

        /// <summary>Frames offered so far (<see cref="Next"/>): the next goes in interval number <see cref="Offered"/>.</summary>
        public long Offered { get; private set; }

        public byte[] Next()
        {
            Offered++;
            var frame = frames[_next];
            _next = (_next + 1) % frames.Length;
            return frame;
        }
    }
}
