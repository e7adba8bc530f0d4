using System.Runtime.InteropServices;

namespace NicBypass.Runtime.Devices;

/// <summary>
/// The few Linux calls a TAP device needs (tun(4), netdevice(7)): open, the TUNSETIFF, TUNSETOFFLOAD and
/// interface-flag ioctls, poll, read, write, close. Blittable signatures only, so nothing is
/// marshalled per frame.
/// </summary>
internal static class LinuxTap
{
    public const int ENOENT = 2;
    public const int EINTR = 4;
    public const int EAGAIN = 11;
    public const int EACCES = 13;
    public const int EBUSY = 16;
    public const int ENODEV = 19;
    public const int EINVAL = 22;
    public const int EPERM = 1;

    public const ulong TUNSETIFF = 0x400454CA;
    public const ulong SIOCGIFFLAGS = 0x8913;
    public const ulong SIOCSIFFLAGS = 0x8914;
    public const short IFF_UP = 0x1;
    public const short IFF_TAP = 0x0002;
    public const short IFF_NO_PI = 0x1000;
    public const short IFF_VNET_HDR = 0x4000;
    public const ulong TUNSETOFFLOAD = 0x400454D0;
    public const uint TUN_F_CSUM = 0x01;
    public const uint TUN_F_TSO4 = 0x02;
    public const uint TUN_F_TSO6 = 0x04;
    public const int O_RDWR = 2;
    public const int O_CLOEXEC = 0x80000;
    public const int O_NONBLOCK = 0x800;
    public const int AF_INET = 2;
    public const int SOCK_DGRAM = 2;
    public const short POLLIN = 0x1;

    /// <summary>struct ifreq: a 16-byte name, then a union whose first member here is the flags (short).</summary>
    public const int IfReqSize = 40;
    public const int IfNameSize = 16;

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    public static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    public static extern int Ioctl(int fd, ulong request, byte[] ifreq);

    [DllImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    public static extern int IoctlValue(int fd, ulong request, nuint value);

    [DllImport("libc", EntryPoint = "socket", SetLastError = true)]
    public static extern int Socket(int domain, int type, int protocol);

    [DllImport("libc", EntryPoint = "poll", SetLastError = true)]
    public static extern int Poll(ref PollFd fds, ulong count, int timeoutMilliseconds);

    [DllImport("libc", EntryPoint = "read", SetLastError = true)]
    public static extern nint Read(int fd, ref byte buffer, nint count);

    [DllImport("libc", EntryPoint = "write", SetLastError = true)]
    public static extern nint Write(int fd, ref byte buffer, nint count);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    public static extern int Close(int fd);

    // The interface's index in the calling thread's network namespace; 0 when there is none by that name.
    [DllImport("libc", EntryPoint = "if_nametoindex", SetLastError = true)]
    public static extern uint IfNameToIndex([MarshalAs(UnmanagedType.LPUTF8Str)] string name);

    [DllImport("libc", EntryPoint = "strerror")]
    private static extern nint StrError(int errno);

    public static string Describe(int errno) => Marshal.PtrToStringUTF8(StrError(errno)) ?? $"errno {errno}";
}
