using System.Runtime.InteropServices;

namespace NicBypass.Runtime.Packets;

/// <summary>
/// Asks Linux to back a large pinned buffer with 2 MiB pages where it can (madvise(2)
/// MADV_HUGEPAGE; the kernel's transparent huge pages in their "madvise" mode, the common
/// default): a NIC's buffer pool is hundreds of megabytes whose slots are touched for the first
/// time as rings fill, one 4 KiB page fault every few frames, and whose frames, scattered over it,
/// each miss the TLB. Only the whole 2 MiB pages inside the buffer are advised. Nothing changes
/// but how the memory is backed; elsewhere, or where the call is refused, it does nothing.
/// </summary>
internal static class HugePages
{
    private const int MadvHugePage = 14;
    private const long HugePage = 2L << 20;

    /// <summary>Advises the whole 2 MiB pages of <paramref name="pinned"/> (a pinned array, not yet touched); true if the kernel took the advice.</summary>
    public static bool Advise(byte[] pinned)
    {
        if (!OperatingSystem.IsLinux() || pinned.Length < 2 * HugePage) return false;
        var start = (long)Marshal.UnsafeAddrOfPinnedArrayElement(pinned, 0);
        var first = (start + HugePage - 1) & ~(HugePage - 1);
        var end = (start + pinned.Length) & ~(HugePage - 1);
        if (end <= first) return false;
        try
        {
            return Madvise((nint)first, (nuint)(end - first), MadvHugePage) == 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    [DllImport("libc", EntryPoint = "madvise", SetLastError = true)]
    private static extern int Madvise(nint address, nuint length, int advice);
}
