using System.Diagnostics;

namespace NicBypass.EndToEnd.Tests;

/// <summary>
/// As a user would: pack the NicBypass package, add it with one PackageReference to a fresh
/// project in a temporary folder (fed from a local folder feed), add a .nicdsl file, build and
/// run; then break the file and see the build fail with the diagnostic at the right line.
/// </summary>
public class PackageConsumerTests
{
#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    [Fact]
    [Trait("Category", "Package")]
    public void A_fresh_project_consumes_the_package_builds_runs_and_gets_located_errors()
    {
        var (work, project) = Consumer("nicbypass-consumer-", "NicBypass", Path.Combine("src", "NicBypass", "NicBypass.csproj"));
        // One hardware ring for two VNICs: the build prints the placement summary (NB0027).
        const string topology = """
            host demo {
                nic eth0 { model simnic-1g; rx-rings 1 }
                vm guest on eth0 { mac 02:00:00:00:00:01; ip 10.0.0.1 }
                container web on eth0 { mac 02:00:00:00:00:02; ip 10.0.0.2; protocols tcp udp; ports 53 80 }
            }
            """;
        File.WriteAllText(Path.Combine(project, "demo.nicdsl"), topology);
        // Only the public API and the package's global usings: ping, UDP and TCP, and a capture.
        File.WriteAllText(Path.Combine(project, "Program.cs"), """
            var demo = new App.Demo(new VirtualClock());
            SimulatedCable.Hairpin(demo.Eth0.Device);
            long captured;
            using (var capture = demo.Host.Capture("web", args[0]))
            {
                demo.Eth0.Device.Receive(Frames.EchoRequest("02:aa:00:00:00:09", "02:00:00:00:00:01", "10.0.0.9", "10.0.0.1"));
                demo.Host.Pump();

                var dns = demo.Web.Stack.BindUdp(53);
                var resolver = demo.Guest.Stack.BindUdp(5353);
                resolver.TrySendTo(NetworkEndpoint.Parse("10.0.0.2", 53), "hello"u8);
                demo.Host.RunUntil(() => dns.Pending > 0, TimeSpan.FromSeconds(1));
                var buffer = new byte[100];
                dns.TryReceive(buffer, out var asker, out var length);

                var listener = demo.Web.Stack.ListenTcp(80);
                var connection = demo.Guest.Stack.ConnectTcp(NetworkEndpoint.Parse("10.0.0.2", 80));
                TcpConnection? server = null;
                demo.Host.RunUntil(() => listener.TryAccept(out server), TimeSpan.FromSeconds(1));
                connection.Send("GET /"u8);
                var stream = new byte[100];
                var read = 0;
                demo.Host.RunUntil(() => (read += server!.Read(stream.AsSpan(read))) == 5, TimeSpan.FromSeconds(1));
                Console.WriteLine($"echo replies {demo.Guest.Counters.EchoRepliesSent}; udp '{System.Text.Encoding.ASCII.GetString(buffer, 0, length)}' from {asker}; tcp '{System.Text.Encoding.ASCII.GetString(stream, 0, read)}'");
                captured = demo.Web.Vnic.Counters.Delivered;
            }
            Console.WriteLine($"captured {captured}");
            """);

        var build = Run("dotnet", "build", project);
        Assert.Contains("demo.nicdsl(2,9): info NB0027: NIC 'eth0': 2 VNICs outnumber its 1 hardware receive ring,", build);
        var pcap = Path.Combine(work, "web.pcap");
        var output = Run("dotnet", $"run --no-build -- \"{pcap}\"", project);
        Assert.Contains("echo replies 1; udp 'hello' from 10.0.0.1:5353; tcp 'GET /'", output);
        var captured = long.Parse(output.Split("captured ")[1].Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(captured >= 4, output); // the datagram, the SYN, the handshake's ACK and the data at least

        // tcpdump, an independent reader, sees the same frames in the capture.
        var (tcpdump, read) = TryRun("tcpdump", $"-n -r \"{pcap}\"", work);
        Assert.True(tcpdump == 0, "tcpdump (the CI installs it) could not read the capture: " + read);
        // One line per packet, each starting with its time (tcpdump's own notes go to standard error).
        var lines = read.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^\d\d:\d\d:\d\d\.")).ToList();
        Assert.True(captured == lines.Count, read);
        Assert.Contains(lines, l => l.Contains(" IP 10.0.0.1.5353 > 10.0.0.2.53: ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("> 10.0.0.2.80: Flags [S]", StringComparison.Ordinal));

        // A second file with an error: the build fails where the error is, and only there — the
        // valid host is still generated, so Program.cs compiles (no CS errors follow).
        File.WriteAllText(Path.Combine(project, "broken.nicdsl"), "host other {\n    nic e0 { model simnic-1g; rx-ring 2 }\n}\n");
        var (exit, failed) = TryRun("dotnet", "build", project);
        Assert.NotEqual(0, exit);
        Assert.Contains("broken.nicdsl(2,31): error NB0002: 'rx-ring' is not a property of nic 'e0' (did you mean 'rx-rings'?)", failed);
        Assert.DoesNotContain("error CS", failed);

        // An error in the host itself fails the build at its line.
        File.Delete(Path.Combine(project, "broken.nicdsl"));
        File.WriteAllText(Path.Combine(project, "demo.nicdsl"), topology.Replace("rx-rings 1", "rx-ring 1"));
        (exit, failed) = TryRun("dotnet", "build", project);
        Assert.NotEqual(0, exit);
        Assert.Contains("demo.nicdsl(2,33): error NB0002: 'rx-ring' is not a property of nic 'eth0' (did you mean 'rx-rings'?)", failed);

        // The placement summary is the compiled topology's: a build with it off, then one with it
        // on whose compile was up to date, printed an older topology's (found by a new user's
        // drive). And it names a file as the file system does, not as a URI ("more%20hosts").
        File.WriteAllText(Path.Combine(project, "demo.nicdsl"), topology.Replace("    container web", "    vm third on eth0 { mac 02:00:00:00:00:03 }\n    container web"));
        Directory.CreateDirectory(Path.Combine(project, "more hosts"));
        File.WriteAllText(Path.Combine(project, "more hosts", "edge.nicdsl"), """
            host edge {
                nic e0 { model simnic-1g; rx-rings 1 }
                vm a on e0 { mac 02:00:00:00:01:01 }
                vm b on e0 { mac 02:00:00:00:01:02 }
            }
            """);
        Assert.DoesNotContain("NB0027", Run("dotnet", "build -p:NicBypassPlacementSummary=false", project));
        var summary = Run("dotnet", "build", project);
        Assert.Contains("demo.nicdsl(2,9): info NB0027: NIC 'eth0': 3 VNICs outnumber its 1 hardware receive ring,", summary);
        Assert.Contains(Path.Combine(project, "more hosts", "edge.nicdsl") + "(2,9): info NB0027: NIC 'e0': 2 VNICs outnumber", summary);

        // A .nicdsl file deleted or moved is noticed by the next, incremental build: its host's
        // class left the build only when something else changed (found by a new user's drive).
        File.WriteAllText(Path.Combine(project, "extra.nicdsl"), "host extra {\n    nic e0 { model simnic-1g; rx-rings 1 }\n    vm x on e0 { mac 02:00:00:00:02:01 }\n}\n");
        File.AppendAllText(Path.Combine(project, "Program.cs"), "\n_ = typeof(App.Extra);\n");
        Run("dotnet", "build", project);
        Directory.CreateDirectory(Path.Combine(project, "moved"));
        File.Move(Path.Combine(project, "extra.nicdsl"), Path.Combine(project, "moved", "extra.nicdsl")); // now App.Moved.Extra
        (exit, failed) = TryRun("dotnet", "build", project);
        Assert.NotEqual(0, exit);
        Assert.Contains("error CS0234: The type or namespace name 'Extra' does not exist in the namespace 'App'", failed);

        Directory.Delete(work, recursive: true);
    }

    [Fact]
    [Trait("Category", "Package")]
    public void A_fresh_project_loads_a_nicdsl_file_at_run_time_through_the_hosting_package()
    {
        // Only the hosting package is referenced: the runtime comes with it (its dependency).
        var (work, project) = Consumer("nicbypass-hosting-consumer-", "NicBypass.Hosting",
            Path.Combine("src", "NicBypass", "NicBypass.csproj"), Path.Combine("src", "NicBypass.Hosting", "NicBypass.Hosting.csproj"));
        File.WriteAllText(Path.Combine(project, "Program.cs"), """
            using NicBypass.Dsl.Text;
            using NicBypass.Hosting;

            var text = args[0] == "bad" ? "host demo { nic eth0 { model simnic-1g; rx-ring 2 } }"
                                        : "host demo { nic eth0 { model simnic-1g; rx-rings 2 } vm guest on eth0 { mac 02:00:00:00:00:01; ip 10.0.0.1 } }";
            var (compilation, host) = HostLoader.Load(new[] { new SourceFile("demo.nicdsl", text) });
            if (host is null)
            {
                foreach (var diagnostic in compilation.Diagnostics) Console.WriteLine(diagnostic);
                return 1;
            }
            host.Nic("eth0").Device.Receive(Frames.EchoRequest("02:aa:00:00:00:09", "02:00:00:00:00:01", "10.0.0.9", "10.0.0.1"));
            host.Pump();
            Console.WriteLine($"echo replies {host.VirtualMachine("guest").Counters.EchoRepliesSent}");
            return 0;
            """);

        Run("dotnet", "build", project);
        Assert.Contains("echo replies 1", Run("dotnet", "run --no-build -- good", project));
        var (exit, output) = TryRun("dotnet", "run --no-build -- bad", project);
        Assert.Equal(1, exit);
        Assert.Contains("demo.nicdsl(1,41): error NB0002: 'rx-ring' is not a property of nic 'eth0'", output);

        Directory.Delete(work, recursive: true);
    }

    [Fact]
    [Trait("Category", "Package")]
    public void The_cli_packs_as_a_dotnet_tool_that_installs_and_runs_at_the_librarys_version()
    {
        var repository = RepositoryRoot();
        var work = Directory.CreateTempSubdirectory("nicbypass-tool-").FullName;
        var feed = Path.Combine(work, "feed");
        var version = "0.1.0-e2e." + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff");
        Run("dotnet", $"pack \"{Path.Combine(repository, "src", "NicBypass.Cli", "NicBypass.Cli.csproj")}\" --no-build -c {Configuration} -o \"{feed}\" -p:Version={version}", repository);

        Run("dotnet", $"tool install NicBypass.Cli --tool-path \"{Path.Combine(work, "tools")}\" --add-source \"{feed}\" --version {version}", work);
        var tool = Path.Combine(work, "tools", OperatingSystem.IsWindows() ? "nicbypass.exe" : "nicbypass");

        // The same version as the library (NicBypassVersion), plus the commit.
        var library = typeof(NicBypass.Runtime.Virtualization.NetworkHost).Assembly
            .GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .Cast<System.Reflection.AssemblyInformationalVersionAttribute>().Single().InformationalVersion.Split('+')[0];
        Assert.StartsWith(library + "+", Run(tool, "--version", work).Trim());
        Assert.Contains("HOST web01", Run(tool, $"plan \"{Path.Combine(repository, "samples", "QuickStart", "web01.nicdsl")}\"", work));

        Directory.Delete(work, recursive: true);
    }

    [Fact]
    [Trait("Category", "Package")]
    public void The_global_usings_can_be_turned_off()
    {
        var (work, project) = Consumer("nicbypass-usings-", "NicBypass", Path.Combine("src", "NicBypass", "NicBypass.csproj"));
        File.WriteAllText(Path.Combine(project, "demo.nicdsl"), "host demo {\n    nic eth0 { model simnic-1g; rx-rings 1 }\n    vm guest on eth0 { mac 02:00:00:00:00:01 }\n}\n");
        File.WriteAllText(Path.Combine(project, "Program.cs"), "var frame = Frames.Mac(\"02:00:00:00:00:01\");\nConsole.WriteLine(frame);\n");

        var (exit, output) = TryRun("dotnet", "build -p:NicBypassImplicitUsings=false", project);

        Assert.NotEqual(0, exit);
        Assert.Contains("error CS0103: The name 'Frames' does not exist in the current context", output);
        Assert.Contains("1", Run("dotnet", "run", project)); // with them on (the default) it builds and runs

        Directory.Delete(work, recursive: true);
    }

    // A fresh console project in a temporary folder that references `reference` from a local
    // folder feed holding `packed` (packed here, from the solution's build), at a version of its
    // own so the global package cache never serves an older pack.
    private static (string Work, string Project) Consumer(string prefix, string reference, params string[] packed)
    {
        var repository = RepositoryRoot();
        var work = Directory.CreateTempSubdirectory(prefix).FullName;
        var feed = Path.Combine(work, "feed");
        var project = Path.Combine(work, "app");
        Directory.CreateDirectory(project);
        var version = "0.1.0-e2e." + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff");
        foreach (var file in packed)
        {
            Run("dotnet", $"pack \"{Path.Combine(repository, file)}\" --no-build -c {Configuration} -o \"{feed}\" -p:Version={version}", repository);
        }
        File.WriteAllText(Path.Combine(project, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="nicbypass-local" value="{feed}" />
              </packageSources>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(project, "App.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="{reference}" Version="{version}" />
              </ItemGroup>
            </Project>
            """);
        return (work, project);
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "NicBypass.sln"))) return directory.FullName;
        }
        throw new InvalidOperationException("NicBypass.sln not found above " + AppContext.BaseDirectory);
    }

    private static string Run(string file, string arguments, string directory)
    {
        var (exit, output) = TryRun(file, arguments, directory);
        Assert.True(exit == 0, $"{file} {arguments} failed ({exit}):\n{output}");
        return output;
    }

    private static (int Exit, string Output) TryRun(string file, string arguments, string directory)
    {
        var start = new ProcessStartInfo(file, arguments)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        // The test host's MSBuild settings must not leak into the child builds.
        start.Environment.Remove("MSBuildExtensionsPath");
        start.Environment.Remove("MSBUILD_EXE_PATH");
        start.Environment.Remove("MSBuildSDKsPath");
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            return (-1, "timed out");
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}
