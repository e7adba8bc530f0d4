using NicBypass.Cli;
using NicBypass.Cli.Commands;
using NicBypass.Hosting;
using NicBypass.Runtime;
using NicBypass.Runtime.Devices;
using NicBypass.Runtime.Packets;

namespace NicBypass.Cli.Tests;

/// <summary><c>run</c>'s live status line (the TAP side is tested against Linux in NicBypass.Linux.Tests).</summary>
public class RunStatusTests
{
    [Fact]
    public async Task The_status_lines_drops_count_the_nics_own_as_the_report_does()
    {
        var path = CliRunner.TempFile("""
            host s {
                nic e0 { model simnic-10g; rx-rings 2 }
                vm v on e0 { mac 02:00:00:00:00:01; ip 10.0.0.1 }
            }
            """);
        var host = TopologyLoader.Load(path, TextWriter.Null, new VirtualClock())!;
        var stranger = new byte[60]; // to a MAC no VNIC has: the NIC drops it as no-match
        EthernetHeader.WriteMac(stranger, 0x0299_0000_0001UL);
        EthernetHeader.WriteMac(stranger.AsSpan(6), 0x02AA_0000_0001UL);
        stranger[12] = 0x88;
        stranger[13] = 0xB5;
        host.Nic("e0").Device.Receive(stranger);
        host.Pump();
        await using var echo = EchoServices.Start(host);

        var line = RunCommand.Status(host, new List<TapWire>(), echo, TimeSpan.FromSeconds(3));

        Assert.Equal(1, host.Report().Nics[0].Dropped.Sum(d => d.Value)); // the report's no-match
        Assert.Contains("delivered 0 · dropped 1 ·", line);
    }
}
