namespace NicBypass.Linux.Tests;

/// <summary>
/// What these tests need: Linux, root, /dev/net/tun and iproute2's ip and tc. A machine without
/// them fails the tests with what is missing — they never skip quietly (.ci/run installs iproute2).
/// </summary>
internal static class Requirements
{
    public static void Check()
    {
        Assert.True(OperatingSystem.IsLinux(), "the Linux interop tests need Linux");
        Assert.True(Environment.UserName == "root" || Environment.GetEnvironmentVariable("USER") == "root" || GetUid() == 0,
            "the Linux interop tests need root (network namespaces and TAP devices)");
        Assert.True(File.Exists("/dev/net/tun"), "the Linux interop tests need /dev/net/tun");
        Assert.True(OnPath("ip") && OnPath("tc"), "the Linux interop tests need iproute2 (ip, tc): apt-get install iproute2");
    }

    private static bool OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin").Split(':').Append("/usr/sbin").Append("/sbin")
            .Any(dir => File.Exists(Path.Combine(dir, tool)));

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "geteuid")]
    private static extern uint GetUid();
}
