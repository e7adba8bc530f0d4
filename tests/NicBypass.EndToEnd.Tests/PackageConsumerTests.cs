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
        const string topology = "host demo {\n    nic eth0 { model simnic-1g; rx-rings 2 }\n    vm guest on eth0 { mac 02:00:00:00:00:01; ip 10.0.0.1 }\n}\n";
        File.WriteAllText(Path.Combine(project, "demo.nicdsl"), topology);
        File.WriteAllText(Path.Combine(project, "Program.cs"), """
            // No usings: the package's props make its namespaces global usings (Frames, VirtualClock, …).
            var demo = new App.Demo(new VirtualClock());
            demo.Eth0.Device.Receive(Frames.EchoRequest("02:aa:00:00:00:09", "02:00:00:00:00:01", "10.0.0.9", "10.0.0.1"));
            demo.Host.Pump();
            Console.WriteLine($"delivered {demo.Guest.Vnic.Counters.Delivered} via {demo.Guest.Vnic.Ring!.Name}, echo replies {demo.Guest.Counters.EchoRepliesSent}");
            """);

        Run("dotnet", "build", project);
        var output = Run("dotnet", "run --no-build", project);
        Assert.Contains("delivered 1 via hrr0, echo replies 1", output);

        File.WriteAllText(Path.Combine(project, "demo.nicdsl"), topology.Replace("rx-rings 2", "rx-ring 2"));
        var (exit, failed) = TryRun("dotnet", "build", project);
        Assert.NotEqual(0, exit);
        Assert.Contains("demo.nicdsl(2,33): error NB0002: 'rx-ring' is not a property of nic 'eth0' (did you mean 'rx-rings'?)", failed);

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
