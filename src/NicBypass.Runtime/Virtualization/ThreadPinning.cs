using System.Runtime.InteropServices;

namespace NicBypass.Runtime.Virtualization;

/// <summary>
/// Pins the calling thread to one CPU of the machine (Linux sched_setaffinity(2) on the thread
/// itself), so a simulated processor's thread stays on one core as a real interrupt handler would;
/// elsewhere, or where the call is refused (a container's cpuset), it leaves the thread alone.
/// </summary>
internal static class ThreadPinning
{
    /// <summary>Pins the calling thread to <paramref name="cpu"/>; the CPU it is pinned to, or null when it could not be.</summary>
    public static int? PinCurrentThread(int cpu)
    {
        if (!OperatingSystem.IsLinux() || cpu < 0 || cpu >= 1024) return null;
        Span<ulong> mask = stackalloc ulong[16]; // 1,024 CPUs
        mask.Clear();
        mask[cpu / 64] = 1UL << (cpu % 64);
        try
        {
            return SetAffinity(0, (nuint)(mask.Length * sizeof(ulong)), ref MemoryMarshal.GetReference(mask)) == 0 ? cpu : null;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    /// <summary>The CPUs the process may run on (its affinity), in order: where processors are pinned, round robin.</summary>
    public static int[] AllowedCpus()
    {
        if (!OperatingSystem.IsLinux()) return Enumerable.Range(0, Environment.ProcessorCount).ToArray();
        Span<ulong> mask = stackalloc ulong[16];
        mask.Clear();
        try
        {
            if (GetAffinity(0, (nuint)(mask.Length * sizeof(ulong)), ref MemoryMarshal.GetReference(mask)) != 0) return Enumerable.Range(0, Environment.ProcessorCount).ToArray();
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return Enumerable.Range(0, Environment.ProcessorCount).ToArray();
        }
        var cpus = new List<int>();
        for (var cpu = 0; cpu < mask.Length * 64; cpu++)
        {
            if ((mask[cpu / 64] & (1UL << (cpu % 64))) != 0) cpus.Add(cpu);
        }
        return cpus.ToArray();
    }

    [DllImport("libc", EntryPoint = "sched_setaffinity", SetLastError = true)]
    private static extern int SetAffinity(int pid, nuint size, ref ulong mask);

    [DllImport("libc", EntryPoint = "sched_getaffinity", SetLastError = true)]
    private static extern int GetAffinity(int pid, nuint size, ref ulong mask);
}
