using NicBypass.Cli.Diff;

namespace NicBypass.Cli.Output;

/// <summary>
/// <c>plan --diff</c> and <c>plan --baseline</c>: the changes a reviewer reads (text, grouped by
/// host) or a script checks (JSON: <c>{ "changes": [ { host, nic, kind, subject, from, to } ] }</c>,
/// absent fields omitted).
/// </summary>
public static class PlanDiffWriter
{
    public static void WriteText(IReadOnlyList<PlacementChange> changes, TextWriter output)
    {
        if (changes.Count == 0)
        {
            output.WriteLine("no placement changes");
            return;
        }
        foreach (var host in changes.GroupBy(c => c.Host))
        {
            output.WriteLine($"HOST {host.Key}");
            foreach (var change in host) output.WriteLine("  " + change);
        }
        output.WriteLine(changes.Count == 1 ? "1 placement change" : $"{changes.Count} placement changes");
    }

    public static void WriteJson(IReadOnlyList<PlacementChange> changes, TextWriter output)
    {
        JsonText.Write(output, json =>
        {
            json.WriteStartObject();
            json.WriteStartArray("changes");
            foreach (var change in changes)
            {
                json.WriteStartObject();
                json.WriteString("host", change.Host);
                if (change.Nic is { } nic) json.WriteString("nic", nic);
                json.WriteString("kind", change.Kind);
                if (change.Subject is { } subject) json.WriteString("subject", subject);
                if (change.From is { } from) json.WriteString("from", from);
                if (change.To is { } to) json.WriteString("to", to);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        });
    }
}
