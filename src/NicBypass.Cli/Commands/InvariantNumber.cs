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
        if (TryParse(text, out var value)) return value;
        var name = result.Parent is OptionResult option ? option.Option.Name : "the value";
        result.AddError($"{name}: '{text}' is not a number" + CommaHint(text));
        return null;
    }

    /// <summary>A whole number (an option's default when it is not given); said in words, not as a .NET type name, when it is not one.</summary>
    public static int Int32(ArgumentResult result) => NullableInt32(result) ?? 0;

    /// <summary><see cref="Int32"/> for an option that may be left out.</summary>
    public static int? NullableInt32(ArgumentResult result)
    {
        if (result.Tokens.Count == 0) return null;
        var text = result.Tokens[^1].Value;
        if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)) return value;
        var name = result.Parent is OptionResult option ? option.Option.Name : "the value";
        // Digits alone (with a sign) are a whole number out of range, however many there are.
        var digits = text.Length > 1 && text[0] is '-' or '+' ? text.Substring(1) : text;
        var whole = digits.Length > 0 && digits.All(char.IsAsciiDigit);
        result.AddError($"{name}: '{text}' is not a whole number" + (text.Contains(',') ? $" (no thousands separators: write {text.Replace(",", "")})" : "") + (whole ? text[0] == '-' ? " in range (at least -2147483648)" : " in range (at most 2147483647)" : ""));
        return null;
    }

    /// <summary>A number as the command line writes it: invariant, a decimal point, no thousands separators.</summary>
    public static bool TryParse(string text, out double value) => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value);

    /// <summary>What to say after "not a number" when the text has a comma.</summary>
    public static string CommaHint(string text) => text.Contains(',') ? " (write a decimal point, not a comma: no thousands separators)" : "";
}
