using System.Text.Json;

namespace NicBypass.Cli.Tests;

/// <summary>The report's two equations, checked on its JSON (README.md § A short tour).</summary>
internal static class ReportJson
{
    /// <summary>Per VNIC (and per flow) received = delivered + Σ dropped + queued; per NIC Σ vnics.received = received − Σ dropped + replicated.</summary>
    public static void AssertAddsUp(JsonElement report)
    {
        foreach (var nic in report.GetProperty("nics").EnumerateArray())
        {
            var vnics = nic.GetProperty("vnics").EnumerateArray().ToList();
            foreach (var vnic in vnics)
            {
                Assert.Equal(vnic.GetProperty("received").GetInt64(),
                    vnic.GetProperty("delivered").GetInt64() + Sum(vnic.GetProperty("dropped")) + vnic.GetProperty("queued").GetInt64());
                if (vnic.TryGetProperty("guestStack", out var guest))
                {
                    Assert.Equal(vnic.GetProperty("delivered").GetInt64(),
                        guest.GetProperty("received").GetInt64() + (guest.TryGetProperty("waiting", out var waiting) ? waiting.GetInt64() : 0));
                }
                if (!vnic.TryGetProperty("flows", out var flows)) continue;
                foreach (var flow in flows.EnumerateArray())
                {
                    Assert.Equal(flow.GetProperty("received").GetInt64(),
                        flow.GetProperty("delivered").GetInt64() + Sum(flow.GetProperty("dropped")) + (flow.TryGetProperty("queued", out var q) ? q.GetInt64() : 0));
                }
            }
            var replicated = nic.TryGetProperty("replicated", out var r) ? r.GetInt64() : 0;
            Assert.Equal(vnics.Sum(v => v.GetProperty("received").GetInt64()), nic.GetProperty("received").GetInt64() - Sum(nic.GetProperty("dropped")) + replicated);
        }
    }

    private static long Sum(JsonElement dropped) => dropped.EnumerateObject().Sum(d => d.Value.GetInt64());
}
