using System.Globalization;
using NicBypass.Dsl.Diagnostics;
using NicBypass.Dsl.Syntax;
using NicBypass.Dsl.Values;

namespace NicBypass.Dsl.Binding;

/// <summary>
/// Reads property values — one value, whole numbers, counts, rates, keywords — reporting what
/// is wrong with a value (NB0014, NB0029) on the value itself and returning null for it.
/// </summary>
internal sealed class ValueReader(BindingContext context)
{
    // The value of a one-value property; extra words are reported and ignored.
    public SyntaxToken Single(PropertySyntax property)
    {
        if (property.Values.Count == 2 && property.Name.Text is "speed" or "bandwidth" or "outbound-bandwidth"
            && property.Values[0].Text.Length > 0 && property.Values[0].Text.All(c => c is >= '0' and <= '9' or '.')
            && BitRate.TryParse(property.Values[0].Text + property.Values[1].Text, out _, out _))
        {
            // "bandwidth 10 G": one error, the rate as meant (no "needs a unit" and "one value" both).
            var joined = property.Values[0].Span.Union(property.Values[1].Span);
            var text = property.Values[0].Text + property.Values[1].Text;
            context.Report(DiagnosticDescriptors.MalformedNumber, joined, null, property.Values[0].Text + " " + property.Values[1].Text, property.Name.Text,
                $"a rate is written without a space: {text}");
            return new SyntaxToken(text, joined);
        }
        if (property.Values.Count > 1)
        {
            var extra = property.Values[1].Span.Union(property.Values[property.Values.Count - 1].Span);
            context.Report(DiagnosticDescriptors.InvalidValue, extra, null, property.Values[1].Text, property.Name.Text, $"'{property.Name.Text}' takes one value; remove it");
        }
        return property.Values[0];
    }

    public int? Integer(SyntaxToken token, string what)
    {
        if (int.TryParse(token.Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)) return value;
        // Digits that do not fit are a number all the same: too large (or too small), not malformed.
        var text = token.Text;
        var signed = text.Length > 1 && (text[0] == '-' || text[0] == '+');
        var digits = signed ? text.Substring(1) : text;
        var hint = digits.Length > 0 && digits.All(c => c >= '0' && c <= '9')
            ? (text[0] == '-' ? "far too small" : "far too large")
            : "write a whole number such as 4";
        context.Report(DiagnosticDescriptors.MalformedNumber, token.Span, null, token.Text, what, hint);
        return null;
    }

    /// <summary>
    /// A <c>cpu</c> value: one processor (<c>2</c>), or for a container or service a range its VSQ
    /// worker spreads over (<c>2-3</c>, low to high). Returns the first processor and how many.
    /// </summary>
    public (int? First, int Count) CpuRange(SyntaxToken token, string keyword)
    {
        var text = token.Text;
        var dash = text.IndexOf('-', 1);
        if (dash < 0) return (Integer(token, "cpu"), 1);
        if (!int.TryParse(text.Substring(0, dash), NumberStyles.None, CultureInfo.InvariantCulture, out var first)
            || !int.TryParse(text.Substring(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var last))
        {
            context.Report(DiagnosticDescriptors.MalformedNumber, token.Span, null, text, "cpu", "write a processor such as 2, or a range such as 2-3");
            return (null, 1);
        }
        if (keyword == "vm")
        {
            context.Report(DiagnosticDescriptors.InvalidValue, token.Span, null, text, "cpu",
                "a VM's interrupts go to one processor (its guest runs on a vCPU of its own); a range is for a container's or service's VSQ workers");
            return (first, 1);
        }
        if (last < first)
        {
            context.Report(DiagnosticDescriptors.InvalidValue, token.Span, null, text, "cpu", $"a range runs from low to high: write {last}-{first}");
            return (last, first - last + 1);
        }
        return (first, last - first + 1);
    }

    public int? Count(SyntaxToken token, string what)
    {
        if (Integer(token, what) is not { } value) return null;
        if (value > 0) return value;
        context.Report(DiagnosticDescriptors.MalformedNumber, token.Span, null, token.Text, what, "it must be positive");
        return null;
    }

    public BitRate? Rate(SyntaxToken token, string what)
    {
        if (BitRate.TryParse(token.Text, out var rate, out var error)) return rate;
        context.Report(DiagnosticDescriptors.MalformedNumber, token.Span, null, token.Text, what, error);
        return null;
    }

    public string? Keyword(SyntaxToken token, string property, string what, string[] allowed)
    {
        if (Array.IndexOf(allowed, token.Text) >= 0) return token.Text;
        context.Report(DiagnosticDescriptors.InvalidValue, token.Span, null, token.Text, property,
            $"'{property}' takes {what}: {string.Join(" or ", allowed.Select(a => "'" + a + "'"))}{NameSuggestions.Hint(token.Text, allowed)}");
        return null;
    }
}
