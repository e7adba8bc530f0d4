using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace NicBypass.Linux.Tests;

/// <summary>
/// A Linux network namespace of the test's own (unique name), removed on dispose even when the
/// test failed. Code that must run inside it — opening a TAP device there, or sockets for the
/// Linux side of a test — runs on a thread that entered it with setns(2) (<see cref="Run{T}"/>);
/// sockets made there stay in the namespace wherever they are used afterwards.
/// </summary>
internal sealed class NetNamespace : IDisposable
{
    private const int CloneNewNet = 0x40000000;
    private static int _counter;

    private NetNamespace(string name) => Name = name;

    public string Name { get; }

    /// <summary>Creates a namespace named nbt-PID-N with its loopback up.</summary>
    public static NetNamespace Create()
    {
        Requirements.Check();
        var name = $"nbt-{Environment.ProcessId}-{Interlocked.Increment(ref _counter)}";
        Tool("ip", $"netns add {name}");
        var ns = new NetNamespace(name);
        try
        {
            ns.Ip("link set lo up");
        }
        catch
        {
            ns.Dispose();
            throw;
        }
        return ns;
    }

    /// <summary>Runs `ip -n NAME ARGS` (fails the test with ip's own message when it fails).</summary>
    public void Ip(string arguments) => Tool("ip", $"-n {Name} {arguments}");

    /// <summary>Runs `tc -n NAME ARGS`.</summary>
    public void Tc(string arguments) => Tool("tc", $"-n {Name} {arguments}");

    /// <summary>Runs <paramref name="body"/> on a thread inside the namespace and returns its result.</summary>
    public T Run<T>(Func<T> body)
    {
        T result = default!;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                Enter();
                result = body();
            }
            catch (Exception e)
            {
                failure = e;
            }
        }) { IsBackground = true, Name = "in " + Name };
        thread.Start();
        thread.Join();
        if (failure is not null) throw new InvalidOperationException($"inside namespace {Name}: {failure.Message}", failure);
        return result;
    }

    /// <summary>A TCP socket listening on <paramref name="at"/> inside the namespace (Linux's side of a test).</summary>
    public Socket ListenTcp(IPEndPoint at) => Run(() =>
    {
        var listener = new Socket(at.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(at);
        listener.Listen();
        return listener;
    });

    /// <summary>A TCP socket made inside the namespace, connected to <paramref name="to"/> within <paramref name="timeout"/>.</summary>
    public Socket ConnectTcp(IPEndPoint to, TimeSpan timeout) => Run(() =>
    {
        var socket = new Socket(to.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (!socket.ConnectAsync(to).Wait(timeout)) throw new TimeoutException($"connect to {to} took over {timeout.TotalSeconds} s");
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    });

    /// <summary>Linux as an echo server: accepts one connection on <paramref name="listener"/>, sends back every byte, then its FIN after the peer's.</summary>
    public static async Task EchoOnce(Socket listener)
    {
        using var accepted = await listener.AcceptAsync();
        using var stream = new NetworkStream(accepted);
        await stream.CopyToAsync(stream);
        accepted.Shutdown(SocketShutdown.Send);
    }

    private void Enter()
    {
        var fd = Native.Open($"/var/run/netns/{Name}", 0);
        if (fd < 0) throw new InvalidOperationException($"cannot open /var/run/netns/{Name}: errno {Marshal.GetLastPInvokeError()}");
        try
        {
            if (Native.SetNs(fd, CloneNewNet) != 0) throw new InvalidOperationException($"setns into {Name} failed: errno {Marshal.GetLastPInvokeError()}");
        }
        finally
        {
            Native.Close(fd);
        }
    }

    public void Dispose()
    {
        try
        {
            Tool("ip", $"netns del {Name}");
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
    }

    public static string Tool(string tool, string arguments)
    {
        var start = new ProcessStartInfo(tool, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {tool}");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        if (!process.WaitForExit(30_000))
        {
            process.Kill();
            throw new InvalidOperationException($"{tool} {arguments}: did not finish in 30 s");
        }
        if (process.ExitCode != 0) throw new InvalidOperationException($"{tool} {arguments}: exit {process.ExitCode}: {error.Trim()}");
        return output.Result;
    }

    private static class Native
    {
        [DllImport("libc", EntryPoint = "open", SetLastError = true)]
        public static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

        [DllImport("libc", EntryPoint = "setns", SetLastError = true)]
        public static extern int SetNs(int fd, int nstype);

        [DllImport("libc", EntryPoint = "close", SetLastError = true)]
        public static extern int Close(int fd);
    }
}
