using System.Globalization;
using NicBypass.Runtime.Devices;

namespace NicBypass.Cli.Commands;

/// <summary>
/// One of <c>run</c>'s impairments of a TAP wire, <c>--delay|--jitter|--loss|--reorder NIC=VALUE</c>:
/// netem's vocabulary, applied between Linux and the NIC by <see cref="TapWire"/> (seeded, counted).
/// </summary>
internal sealed record Impairment(string Kind, string Nic, TimeSpan Time, double Share)
{
    /// <summary>The impairment <paramref name="item"/> (NIC=VALUE) names, or null and why not.</summary>
    public static Impairment? Parse(string kind, string item, IEnumerable<string> tappedNics, out string message)
    {
        message = "";
        var equals = item.IndexOf('=');
        if (equals <= 0 || equals == item.Length - 1)
        {
            message = kind is "delay" or "jitter" ? "write NIC=TIME, e.g. e0=20ms" : "write NIC=SHARE, e.g. e0=1%";
            return null;
        }
        var nic = item.Substring(0, equals);
        var value = item.Substring(equals + 1).Trim();
        if (!tappedNics.Contains(nic, StringComparer.Ordinal))
        {
            message = $"NIC '{nic}' has no --tap; impairments apply to a TAP wire";
            return null;
        }
        if (kind is "delay" or "jitter")
        {
            if (!TryTime(value, out var time))
            {
                // A bare number: which unit was meant is not said (`0` alone is taken, as --loss's).
                message = double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var bare) && bare > 0 && bare <= 10_000_000
                    ? $"'{value}' needs a unit: write {value}ms{(bare <= 10 ? ", " : " or ")}{value}us{(bare <= 10 ? $" or {value}s" : "")} (a time from 0 to 10 s)"
                    : $"'{value}' is not a time from 0 to 10 s; write a number with ms, us or s (20ms, 500us, 0.1s)";
                return null;
            }
            return new Impairment(kind, nic, time, 0);
        }
        // A percentage from 0 to 100, as netem's (0 alone needs no %).
        var percent = value.EndsWith('%');
        if (!double.TryParse(percent ? value[..^1] : value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) || number is not (>= 0 and <= 100))
        {
            message = $"'{value}' is not a share from 0 to 100%; write a percentage, e.g. 1% or 0.5%";
            return null;
        }
        if (!percent && number > 0)
        {
            // A bare number: netem reads 'loss 0.5' as 0.5%, and 0.5 as a fraction is half of
            // every frame — a hundredfold apart (found by a new user's drive: 0.5 lost half). Said,
            // not guessed.
            var fraction = number <= 1 ? $", and as a fraction it is {Percent(number)}" : "";
            message = $"'{value}' is ambiguous: netem reads a bare number as a percentage ({Percent(number / 100)}){fraction}; write the percentage with %";
            return null;
        }
        return new Impairment(kind, nic, TimeSpan.Zero, number / 100);
    }

    public void Apply(TapWire wire)
    {
        switch (Kind)
        {
            case "delay": wire.Delay = Time; break;
            case "jitter": wire.Jitter = Time; break;
            case "loss": wire.LossRate = Share; break;
            default:
                wire.ReorderRate = Share;
                wire.OutboundReorderRate = Share;
                break;
        }
    }

    private static bool TryTime(string text, out TimeSpan time)
    {
        time = default;
        if (text == "0") return true; // no time in any unit
        text = text.ToLowerInvariant(); // 20MS as 20ms
        var (number, scale) = text.EndsWith("ms", StringComparison.Ordinal) ? (text[..^2], 1e-3)
            : text.EndsWith("us", StringComparison.Ordinal) || text.EndsWith("µs", StringComparison.Ordinal) ? (text[..^2], 1e-6)
            : text.EndsWith('s') ? (text[..^1], 1.0)
            : (null, 0);
        if (number is null || !double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !(value >= 0) || value * scale > 10) return false;
        time = TimeSpan.FromTicks((long)Math.Round(value * scale * TimeSpan.TicksPerSecond));
        return true;
    }

    // A share as a percentage the option takes back: 0.005 → "0.5%".
    private static string Percent(double share) => (share * 100).ToString("0.##########", CultureInfo.InvariantCulture) + "%";
}
