using System.Runtime.InteropServices;
using System.Text;

namespace NicBypass.Runtime.Devices;

/// <summary>
/// A Linux TAP device (tun(4) with IFF_TAP | IFF_NO_PI): whole Ethernet frames in and out, no
/// packet-information header. <see cref="Open"/> attaches to the device of that name, creating
/// it if there is none (a created device lives as long as it is open; one made beforehand with
/// <c>ip tuntap add dev NAME mode tap</c> persists), and brings its link up. Frames are read and
/// written straight from and to the caller's buffers: nothing is allocated per frame.
/// Linux only; root (or CAP_NET_ADMIN).
/// </summary>
public sealed class TapDevice : IDisposable
{
    // The descriptor, reference-counted: a read or write in flight keeps it open, so closing the
    // device from another thread never lets a call reach a closed (or reused) descriptor number.
    private readonly Descriptor _fd;

    private TapDevice(int fd, string name)
    {
        _fd = new Descriptor(fd);
        Name = name;
    }

    private sealed class Descriptor : Microsoft.Win32.SafeHandles.SafeHandleZeroOrMinusOneIsInvalid
    {
        public Descriptor(int fd) : base(ownsHandle: true) => SetHandle(fd);

        public int Fd => (int)handle;

        protected override bool ReleaseHandle() => LinuxTap.Close((int)handle) == 0;
    }

    /// <summary>The interface's name (as Linux knows it: ip link show NAME).</summary>
    public string Name { get; }

    /// <summary>Largest frame a read can return here (the device's MTU can be raised up to this).</summary>
    public const int MaxFrameLength = 65_535;

    /// <summary>Opens (or creates) TAP device <paramref name="name"/> and, unless told otherwise, sets its link up.</summary>
    /// <exception cref="TapDeviceException">The device cannot be opened: the message names the cause (not root, no /dev/net/tun, a name in use).</exception>
    public static TapDevice Open(string name, bool bringUp = true)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!OperatingSystem.IsLinux()) throw new TapDeviceException($"TAP device '{name}': TAP devices are a Linux feature; this is {RuntimeInformation.OSDescription}");
        var nameBytes = Encoding.ASCII.GetByteCount(name);
        if (name.Length == 0 || nameBytes >= LinuxTap.IfNameSize || name.Any(c => c is '/' or ':' or ' ' or > '~' or < '!'))
        {
            throw new TapDeviceException($"TAP device '{name}': an interface name is 1 to {LinuxTap.IfNameSize - 1} printable ASCII characters without '/', ':' or spaces");
        }
        var fd = LinuxTap.Open("/dev/net/tun", LinuxTap.O_RDWR | LinuxTap.O_CLOEXEC);
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
        var request = new byte[LinuxTap.IfReqSize];
        Encoding.ASCII.GetBytes(name, request);
        BitConverter.TryWriteBytes(request.AsSpan(LinuxTap.IfNameSize), (short)(LinuxTap.IFF_TAP | LinuxTap.IFF_NO_PI));
        if (LinuxTap.Ioctl(fd, LinuxTap.TUNSETIFF, request) < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            LinuxTap.Close(fd);
            throw new TapDeviceException(errno switch
            {
                LinuxTap.EBUSY => $"TAP device '{name}': the name is taken: another process has the device open",
                LinuxTap.EINVAL => $"TAP device '{name}': the name is taken by an interface that is not a TAP device (a TUN device, another kind of link, or a multi-queue TAP; ip tuntap add dev {name} mode tap makes the right kind)",
                LinuxTap.EPERM or LinuxTap.EACCES => $"TAP device '{name}': no permission to create or attach it (run as root, or with CAP_NET_ADMIN; a persistent device may belong to another user)",
                _ => $"TAP device '{name}': TUNSETIFF failed: {LinuxTap.Describe(errno)}",
            }, errno);
        }
        var device = new TapDevice(fd, name);
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
    /// when none came in time.
    /// </summary>
    public int Read(Span<byte> buffer, TimeSpan timeout)
    {
        var added = false;
        _fd.DangerousAddRef(ref added); // ObjectDisposedException once closed
        try
        {
            return Read(_fd.Fd, buffer, timeout);
        }
        finally
        {
            if (added) _fd.DangerousRelease();
        }
    }

    private int Read(int fd, Span<byte> buffer, TimeSpan timeout)
    {
        var poll = new LinuxTap.PollFd { Fd = fd, Events = LinuxTap.POLLIN };
        var ready = LinuxTap.Poll(ref poll, 1, (int)Math.Clamp(timeout.TotalMilliseconds, 0, int.MaxValue));
        if (ready < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno == LinuxTap.EINTR) return 0;
            throw new TapDeviceException($"TAP device '{Name}': poll failed: {LinuxTap.Describe(errno)}", errno);
        }
        if (ready == 0 || buffer.IsEmpty) return 0;
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
        var added = false;
        _fd.DangerousAddRef(ref added); // ObjectDisposedException once closed
        try
        {
            var written = LinuxTap.Write(_fd.Fd, ref MemoryMarshal.GetReference(frame), frame.Length);
            if (written == frame.Length) return true;
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
