using NicBypass.Dsl;
using NicBypass.Dsl.Diagnostics;

namespace NicBypass.Dsl.Tests;

/// <summary>Shared inputs and helpers for the language tests.</summary>
internal static class TestSources
{
    /// <summary>The full example of docs/dsl.md: every construct of the language.</summary>
    public const string FullExample = """
        # a comment; // also starts a comment
        host web01 {
            cpus 8

            nic nge0 {
                model simnic-10g          # NIC model = simulated hardware + its driver
                rx-rings 4                # hardware receive rings (HRRs) to use
                tx-rings 2                # transmit rings (TRRs)
                ring-size 1024            # descriptors per ring
                speed 10G                 // optional
                msi 4
                soft-ring-width 64
                mtu 1500
            }

            vm guest1 on nge0 {
                mac 02:08:20:ac:00:01
                ip 192.168.10.11/24
                ip fd00::11
                bandwidth 2G
                cpu 2
                ring hardware
                transform reverse-bits
            }

            vm guest2 on nge0 { mac 02:08:20:ac:00:02; ip dhcp }

            container web on nge0 {
                mac 02:08:20:ac:00:10
                ip 192.168.10.20
                vlan 10
                protocols tcp udp
                ports 80 443
                bandwidth 500M
                outbound-bandwidth 200M
                mode polling
                cpu 3
            }

            service db on nge0 { mac 02:08:20:ac:00:11; ip 192.168.10.30; protocols tcp; ports 5432 }
        }
        """;

    public static DslCompilation Compile(string text, string path = "test.nicdsl") => DslCompiler.Compile(path, text);

    public static IReadOnlyList<Diagnostic> Errors(this DslCompilation compilation) =>
        compilation.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();

    /// <summary>A host with one NIC of <paramref name="model"/> and <paramref name="rings"/> rings, plus <paramref name="body"/>.</summary>
    public static string Host(string body, string model = "simnic-10g", int rings = 4, string nicExtra = "") => $$"""
        host h {
            cpus 4
            nic n0 {
                model {{model}}
                rx-rings {{rings}}
                {{nicExtra}}
            }
        {{body}}
        }
        """;

    public static string Vm(string name, int mac, string extra = "") =>
        $"    vm {name} on n0 {{ mac 02:00:00:00:{mac / 256:x2}:{mac % 256:x2}; {extra} }}\n";
}
