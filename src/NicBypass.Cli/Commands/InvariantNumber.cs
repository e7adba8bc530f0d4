using System.CommandLine.Parsing;
using System.Globalization;

namespace NicBypass.Cli.Commands;

/// <summary>
/// Parses an option's number the same way on every machine: digits with an optional decimal
/// point and exponent, no thousands separators — "0,001" is refused, not read as 1 (as the
/// default parser, which allows them, would).
/// </summary>
internal static class InvariantNumber
{
    public static double Double(ArgumentResult result) => Nullable(result) ?? 0;

    public static double? Nullable(ArgumentResult result)
    {
        if (result.Tokens.Count == 0) return null;
        var text = result.Tokens[^1].Value;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)) return value;
        var name = result.Parent is OptionResult option ? option.Option.Name : "the value";
        result.AddError($"{name}: '{text}' is not a number" + (text.Contains(',') ? " (write a decimal point, not a comma: no thousands separators)" : ""));
        return null;
    }
}
