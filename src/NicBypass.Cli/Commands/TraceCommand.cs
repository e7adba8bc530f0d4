using System.CommandLine;
using NicBypass.Hosting;
using NicBypass.Runtime;

namespace NicBypass.Cli.Commands;

/// <summary>
/// <c>nicbypass trace TOPOLOGY --frame HEX [--nic NAME]</c>: one frame's path through the host,
/// with the decision taken at every stage (see <see cref="FrameTrace"/>).
/// </summary>
internal static class TraceCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var topology = new Argument<string>("topology") { Description = "the .nicdsl file" };
        var frameOption = new Option<string>("--frame") { Description = "the Ethernet frame in hexadecimal (spaces and colons allowed)", Required = true };
        var nicOption = new Option<string?>("--nic") { Description = "the NIC whose wire the frame enters (default: the first)" };
        var hostOption = HostOption.Create();
        var command = new Command("trace", "Follow one frame through the host, with every decision on the way.") { topology, frameOption, nicOption, hostOption };
        command.SetAction(parse =>
        {
            var path = parse.GetValue(topology)!;
            if (!FrameTrace.TryParseHex(parse.GetValue(frameOption) ?? "", out var frame, out var problem))
            {
                error.WriteLine($"error: --frame: {problem}");
                return NicBypassCli.ErrorExitCode;
            }
            var host = TopologyLoader.Load(path, error, new VirtualClock(), parse.GetValue(hostOption));
            if (host is null) return NicBypassCli.ErrorExitCode;
            var nicName = parse.GetValue(nicOption);
            var nic = nicName is null ? host.Nics.FirstOrDefault() : host.Nics.FirstOrDefault(n => n.Name == nicName);
            if (nic is null)
            {
                error.WriteLine($"{path}: error: host '{host.Name}' has no NIC{(nicName is null ? "" : $" named '{nicName}'; it has {string.Join(", ", host.Nics.Select(n => n.Name))}")}");
                return NicBypassCli.ErrorExitCode;
            }
            output.WriteLine($"trace of one frame into {nic.Name} of host {host.Name}");
            foreach (var step in FrameTrace.Run(host, nic.Name, frame)) output.WriteLine("  " + step);
            return 0;
        });
        return command;
    }
}
