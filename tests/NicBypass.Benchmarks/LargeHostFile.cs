using System.Text;

namespace NicBypass.Benchmarks;

/// <summary>Generates a realistic large .nicdsl file: one 100G NIC per 250 VNICs, a mix of VMs,
/// containers and services with addresses, bandwidths and policies.</summary>
public static class LargeHostFile
{
    public static string Create(int vnics)
    {
        var text = new StringBuilder();
        var nics = (vnics + 249) / 250;
        text.AppendLine("# generated: " + vnics + " VNICs");
        text.AppendLine("host big {");
        text.AppendLine("    cpus 64");
        for (var n = 0; n < nics; n++)
        {
            text.AppendLine($"    nic e{n} {{");
            text.AppendLine("        model simnic-100g");
            text.AppendLine("        rx-rings 64");
            text.AppendLine("        tx-rings 16");
            text.AppendLine("        ring-size 4096");
            text.AppendLine("    }");
        }
        for (var i = 0; i < vnics; i++)
        {
            var kind = (i % 3) switch { 0 => "vm", 1 => "container", _ => "service" };
            text.AppendLine($"    {kind} t{i} on e{i / 250} {{");
            text.AppendLine($"        mac 02:00:{i >> 16 & 0xff:x2}:{i >> 8 & 0xff:x2}:{i & 0xff:x2}:01");
            text.AppendLine($"        ip 10.{i >> 16 & 0xff}.{i >> 8 & 0xff}.{i & 0xff}/8");
            if (i % 7 == 0) text.AppendLine("        ring hardware");
            if (i % 2 == 0) text.AppendLine($"        bandwidth {10 + i % 90}M");
            if (kind != "vm") text.AppendLine("        protocols tcp udp\n        ports 80 443");
            text.AppendLine($"        cpu {i % 64}");
            text.AppendLine("    }");
        }
        text.AppendLine("}");
        return text.ToString();
    }
}
