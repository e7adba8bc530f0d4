namespace NicBypass.Runtime.Tests;

/// <summary>
/// The calling thread's minor page faults so far (Linux: /proc/thread-self/stat, field 10): how
/// many fresh pages of memory it has touched. Counted per thread, so tests running in parallel do
/// not add to it; a count, not a time, so a shared machine's noise does not move it.
/// </summary>
internal static class PageFaults
{
    public static long OfThisThread()
    {
        if (!OperatingSystem.IsLinux()) throw new PlatformNotSupportedException("counting a thread's page faults reads Linux's /proc/thread-self/stat");
        var stat = File.ReadAllText("/proc/thread-self/stat");
        // The command name (field 2) is in parentheses and may hold spaces: count from after it.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[7]); // field 10 of the line is the 8th after the name
    }

    /// <summary>
    /// Fresh pages <paramref name="action"/> touched on this thread, the fewest of three runs: a
    /// collection that one of its allocations sets off runs on this thread too, and copies what
    /// tests running beside it keep alive (their pages would count here); three in a row do not.
    /// </summary>
    public static long During(Action action)
    {
        var fewest = long.MaxValue;
        for (var run = 0; run < 3; run++)
        {
            var before = OfThisThread();
            action();
            fewest = Math.Min(fewest, OfThisThread() - before);
        }
        return fewest;
    }
}
