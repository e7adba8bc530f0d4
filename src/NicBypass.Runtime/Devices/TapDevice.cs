using System.Runtime.InteropServices;
using System.Text;

namespace NicBypass.Runtime.Devices;

/// <summary>
/// A Linux TAP device (tun(4) with IFF_TAP | IFF_NO_PI, and IFF_VNET_HDR for offloads): whole
/// Ethernet frames in and out, no packet-information header. By default Linux may hand it TCP
/// super-frames and partial checksums (<see cref="Offloads"/>), which it cuts and completes, so a
/// reader still sees one ordinary frame per read. <see cref="Open"/> attaches to the device of that name, creating
/// it if there is none (a created device lives as long as it is open; one made beforehand with
/// <c>ip tuntap add dev NAME mode tap</c> persists), and brings its link up. Frames are read and
/// written from and to the caller's buffers (through one buffer of the device's behind virtio
/// headers): nothing is allocated per frame.
/// Linux only; root (or CAP_NET_ADMIN).
/// </summary>
public sealed class TapDevice : IDisposable
{
    // The descriptor, reference-counted: a read or write in flight keeps it open, so closing the
    // device from another thread never lets a call reach a closed (or reused) descriptor number.
    private readonly Descriptor _fd;

    private TapDevice(int fd, string name, bool virtioHeaders)
    {
        _fd = new Descriptor(fd);
        Name = name;
        if (virtioHeaders) _packet = new byte[VirtioNetHeader.Length + MaxFrameLength + 64];
    }

    // With virtio headers (IFF_VNET_HDR): what one read returns, and the super-frame being cut.
    private readonly byte[]? _packet;
    private TcpFrameLayout _superLayout;
    private int _superLength;
    private int _segmentSize;
    private int _segmentsLeft;
    private int _nextSegment;
    private long _superFramesRead;
    private long _offloadErrors;
    [ThreadStatic] private static byte[]? t_write;

    /// <summary>
    /// True when Linux hands this device TCP super-frames of up to 64 KB and leaves checksums to
    /// it (TCP segmentation and checksum offload, as to a virtio-net NIC): a read still returns one
    /// frame, cut here; and runs of TCP segments can go to Linux the same way
    /// (<see cref="TryWritePacket"/>). Far fewer system calls, and far less work for Linux's stack.
    /// </summary>
    public bool Offloads { get; private set; }

    /// <summary>True when every frame crosses the device behind a <c>virtio_net_hdr</c> (IFF_VNET_HDR).</summary>
    internal bool VirtioHeaders => _packet is not null;

    /// <summary>TCP super-frames Linux handed over and this device cut into segments.</summary>
    public long SuperFramesRead => Interlocked.Read(ref _superFramesRead);

    /// <summary>Packets from Linux dropped because their offload request could not be carried out (an unknown segmentation type, a checksum place outside the frame): counted, never silent.</summary>
    public long OffloadErrors => Interlocked.Read(ref _offloadErrors);

    private sealed class Descriptor : Microsoft.Win32.SafeHandles.SafeHandleZeroOrMinusOneIsInvalid
    {
        public Descriptor(int fd) : base(ownsHandle: true) => SetHandle(fd);

        public int Fd => (int)handle;

        protected override bool ReleaseHandle() => LinuxTap.Close((int)handle) == 0;
    }

    /// <summary>The interface's name (as Linux knows it: ip link show NAME).</summary>
    public string Name { get; }

    /// <summary>
    /// Whether opening it made the device (no interface had the name): such a device has no
    /// address on the Linux side and goes when it is closed; one made beforehand (<c>ip tuntap
    /// add</c>) keeps its addresses and stays.
    /// </summary>
    public bool Created { get; private init; }

    /// <summary>Largest frame a read can return here (the device's MTU can be raised up to this).</summary>
    public const int MaxFrameLength = 65_535;

    /// <summary>
    /// Opens (or creates) TAP device <paramref name="name"/> and, unless told otherwise, sets its
    /// link up. With <paramref name="offload"/> (the default) it asks Linux for TCP segmentation and
    /// checksum offload (<see cref="Offloads"/>); a kernel that refuses leaves plain frames.
    /// </summary>
    /// <exception cref="TapDeviceException">The device cannot be opened: the message names the cause (not root, no /dev/net/tun, a name in use).</exception>
    public static TapDevice Open(string name, bool bringUp = true, bool offload = true)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!OperatingSystem.IsLinux()) throw new TapDeviceException($"TAP device '{name}': TAP devices are a Linux feature; this is {RuntimeInformation.OSDescription}");
        var nameBytes = Encoding.ASCII.GetByteCount(name);
        if (name.Length == 0 || nameBytes >= LinuxTap.IfNameSize || name.Any(c => c is '/' or ':' or ' ' or > '~' or < '!'))
        {
            throw new TapDeviceException($"TAP device '{name}': an interface name is 1 to {LinuxTap.IfNameSize - 1} printable ASCII characters without '/', ':' or spaces");
        }
        var fd = LinuxTap.Open("/dev/net/tun", LinuxTap.O_RDWR | LinuxTap.O_CLOEXEC | LinuxTap.O_NONBLOCK);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new TapDeviceException(errno switch
            {
                LinuxTap.ENOENT or LinuxTap.ENODEV => $"TAP device '{name}': /dev/net/tun does not exist (no tun driver: modprobe tun; in a container, pass the device in, e.g. --device /dev/net/tun)",
                LinuxTap.EACCES or LinuxTap.EPERM => $"TAP device '{name}': no permission to open /dev/net/tun (run as root, or with CAP_NET_ADMIN)",
                _ => $"TAP device '{name}': cannot open /dev/net/tun: {LinuxTap.Describe(errno)}",
            }, errno);
        }
        var existed = LinuxTap.IfNameToIndex(name) != 0; // in this thread's namespace, as TUNSETIFF looks
        var request = new byte[LinuxTap.IfReqSize];
        Encoding.ASCII.GetBytes(name, request);
        BitConverter.TryWriteBytes(request.AsSpan(LinuxTap.IfNameSize), (short)(LinuxTap.IFF_TAP | LinuxTap.IFF_NO_PI | (offload ? LinuxTap.IFF_VNET_HDR : 0)));
        if (LinuxTap.Ioctl(fd, LinuxTap.TUNSETIFF, request) < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            LinuxTap.Close(fd);
            throw new TapDeviceException(errno switch
            {
                LinuxTap.EBUSY => $"TAP device '{name}': the name is taken: another process has the device open",
                LinuxTap.EINVAL => $"TAP device '{name}': the name is taken by an interface that is not a TAP device (a TUN device, a multi-queue TAP, or another kind of link: see ip -d link show {name}); use another name — a name no interface has makes a TAP device",
                LinuxTap.EPERM or LinuxTap.EACCES => $"TAP device '{name}': no permission to create or attach it (run as root, or with CAP_NET_ADMIN; a persistent device may belong to another user)",
                _ => $"TAP device '{name}': TUNSETIFF failed: {LinuxTap.Describe(errno)}",
            }, errno);
        }
        var device = new TapDevice(fd, name, offload) { Created = !existed };
        // Without virtio headers the offloads must be off: a persistent device keeps what an earlier
        // open set, and Linux would hand over super-frames with nothing to say so.
        var offloads = offload ? LinuxTap.TUN_F_CSUM | LinuxTap.TUN_F_TSO4 | LinuxTap.TUN_F_TSO6 : 0;
        device.Offloads = LinuxTap.IoctlValue(fd, LinuxTap.TUNSETOFFLOAD, offloads) == 0 && offload;
        if (bringUp)
        {
            try
            {
                device.SetUp();
            }
            catch
            {
                device.Dispose();
                throw;
            }
        }
        return device;
    }

    // SIOCGIFFLAGS / SIOCSIFFLAGS through any socket: ip link set NAME up.
    private void SetUp()
    {
        var socket = LinuxTap.Socket(LinuxTap.AF_INET, LinuxTap.SOCK_DGRAM, 0);
        if (socket < 0) throw new TapDeviceException($"TAP device '{Name}': cannot open a socket to set the link up: {LinuxTap.Describe(Marshal.GetLastPInvokeError())}");
        try
        {
            var request = new byte[LinuxTap.IfReqSize];
            Encoding.ASCII.GetBytes(Name, request);
            if (LinuxTap.Ioctl(socket, LinuxTap.SIOCGIFFLAGS, request) < 0)
            {
                throw new TapDeviceException($"TAP device '{Name}': cannot read its flags: {LinuxTap.Describe(Marshal.GetLastPInvokeError())}");
            }
            var flags = BitConverter.ToInt16(request, LinuxTap.IfNameSize);
            if ((flags & LinuxTap.IFF_UP) != 0) return;
            BitConverter.TryWriteBytes(request.AsSpan(LinuxTap.IfNameSize), (short)(flags | LinuxTap.IFF_UP));
            if (LinuxTap.Ioctl(socket, LinuxTap.SIOCSIFFLAGS, request) < 0)
            {
                throw new TapDeviceException($"TAP device '{Name}': cannot set the link up: {LinuxTap.Describe(Marshal.GetLastPInvokeError())}");
            }
        }
        finally
        {
            LinuxTap.Close(socket);
        }
    }

    /// <summary>
    /// Waits up to <paramref name="timeout"/> for a frame and reads it into <paramref name="buffer"/>
    /// (at least <see cref="MaxFrameLength"/> bytes keeps every frame whole): its length, or 0
    /// when none came in time (a zero <paramref name="timeout"/> does not wait: only a frame
    /// already there is read).
    /// </summary>
    public int Read(Span<byte> buffer, TimeSpan timeout)
    {
        var added = false;
        _fd.DangerousAddRef(ref added); // ObjectDisposedException once closed
        try
        {
            return _packet is null ? Read(_fd.Fd, buffer, timeout) : ReadUnpacked(_fd.Fd, buffer, timeout);
        }
        finally
        {
            if (added) _fd.DangerousRelease();
        }
    }

    // The descriptor is non-blocking: a frame already waiting costs one read; only an empty
    // queue costs a poll (and the read after it). Under load that halves the system calls.
    private int Read(int fd, Span<byte> buffer, TimeSpan timeout)
    {
        if (buffer.IsEmpty) return 0;
        var read = TryRead(fd, buffer);
        if (read != 0 || timeout <= TimeSpan.Zero) return read; // no wait: what was there, or nothing
        var poll = new LinuxTap.PollFd { Fd = fd, Events = LinuxTap.POLLIN };
        var ready = LinuxTap.Poll(ref poll, 1, (int)Math.Clamp(timeout.TotalMilliseconds, 0, int.MaxValue));
        if (ready < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno == LinuxTap.EINTR) return 0;
            throw new TapDeviceException($"TAP device '{Name}': poll failed: {LinuxTap.Describe(errno)}", errno);
        }
        return ready == 0 ? 0 : TryRead(fd, buffer);
    }

    // Behind virtio headers: the next segment of a super-frame being cut, or the next packet read:
    // a plain frame (its checksum completed if Linux left it partial) or a super-frame's first
    // segment. A packet whose offload cannot be carried out is counted and reads as nothing.
    private int ReadUnpacked(int fd, Span<byte> buffer, TimeSpan timeout)
    {
        if (_segmentsLeft > 0) return NextSegment(buffer);
        while (true)
        {
            var length = Unpack(Read(fd, _packet!, timeout), buffer);
            if (length >= 0) return length;
            Interlocked.Increment(ref _offloadErrors);
            timeout = TimeSpan.Zero; // the next packet, if one is already waiting
        }
    }

    // The frame (or first segment) a packet of `read` bytes gives, or -1 when its offload cannot be carried out.
    private int Unpack(int read, Span<byte> buffer)
    {
        var packet = _packet!;
        if (read == 0) return 0;
        if (read < VirtioNetHeader.Length) return -1;
        var header = VirtioNetHeader.Read(packet);
        var frame = packet.AsSpan(VirtioNetHeader.Length, read - VirtioNetHeader.Length);
        var type = header.GsoType & ~VirtioNetHeader.GsoEcn;
        if (type == VirtioNetHeader.GsoNone)
        {
            if ((header.Flags & VirtioNetHeader.NeedsChecksum) != 0 && !SegmentationOffload.TryCompleteChecksum(frame, header.ChecksumStart, header.ChecksumOffset)) return -1;
            var length = Math.Min(frame.Length, buffer.Length);
            frame.Slice(0, length).CopyTo(buffer);
            return length;
        }
        if (type is not (VirtioNetHeader.GsoTcpV4 or VirtioNetHeader.GsoTcpV6) || header.SegmentSize == 0
            || !TcpFrameLayout.TryRead(frame, out var layout) || layout.IsV6 != (type == VirtioNetHeader.GsoTcpV6)
            || layout.HeaderLength + header.SegmentSize > buffer.Length)
        {
            return -1;
        }
        Interlocked.Increment(ref _superFramesRead);
        _superLayout = layout;
        _superLength = frame.Length;
        _segmentSize = header.SegmentSize;
        _segmentsLeft = SegmentationOffload.SegmentCount(layout, header.SegmentSize);
        _nextSegment = 0;
        return NextSegment(buffer);
    }

    private int NextSegment(Span<byte> buffer)
    {
        _segmentsLeft--;
        return SegmentationOffload.WriteSegment(_packet.AsSpan(VirtioNetHeader.Length, _superLength), _superLayout, _segmentSize, _nextSegment++, buffer);
    }

    // One frame, or 0 when none is waiting.
    private int TryRead(int fd, Span<byte> buffer)
    {
        var read = LinuxTap.Read(fd, ref MemoryMarshal.GetReference(buffer), buffer.Length);
        if (read < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno is LinuxTap.EINTR or LinuxTap.EAGAIN) return 0;
            throw new TapDeviceException($"TAP device '{Name}': read failed: {LinuxTap.Describe(errno)}", errno);
        }
        return (int)read;
    }

    /// <summary>Writes one frame to Linux; false (with <paramref name="errno"/>) when Linux refused it (link down, queue full).</summary>
    public bool TryWrite(ReadOnlySpan<byte> frame, out int errno)
    {
        errno = 0;
        if (frame.IsEmpty) return true;
        if (_packet is null) return Write(frame, out errno);
        // Behind an empty virtio header: nothing to complete, nothing to cut.
        if (frame.Length > MaxFrameLength) throw new ArgumentException($"a frame of at most {MaxFrameLength} bytes", nameof(frame));
        var packet = t_write ??= new byte[VirtioNetHeader.Length + MaxFrameLength];
        VirtioNetHeader.None.Write(packet);
        frame.CopyTo(packet.AsSpan(VirtioNetHeader.Length));
        return Write(packet.AsSpan(0, VirtioNetHeader.Length + frame.Length), out errno);
    }

    /// <summary>Writes a packet that starts with its own virtio header (a device with <see cref="VirtioHeaders"/> only): a run a <see cref="SegmentCoalescer"/> joined.</summary>
    internal bool TryWritePacket(ReadOnlySpan<byte> packet, out int errno)
    {
        if (_packet is null) throw new InvalidOperationException($"TAP device '{Name}' was opened without virtio headers");
        return Write(packet, out errno);
    }

    // One write(2) of exactly these bytes, the descriptor held open for it.
    private bool Write(ReadOnlySpan<byte> bytes, out int errno)
    {
        errno = 0;
        var added = false;
        _fd.DangerousAddRef(ref added); // ObjectDisposedException once closed
        try
        {
            var written = LinuxTap.Write(_fd.Fd, ref MemoryMarshal.GetReference(bytes), bytes.Length);
            if (written == bytes.Length) return true;
            errno = written < 0 ? Marshal.GetLastPInvokeError() : LinuxTap.EAGAIN;
            return false;
        }
        finally
        {
            if (added) _fd.DangerousRelease();
        }
    }

    /// <summary>Closes the device (one this opened by creating it disappears) once no read or write is using it.</summary>
    public void Dispose() => _fd.Dispose();

    public override string ToString() => Name;
}
