using NicBypass.Dsl.Diagnostics;
using NicBypass.Dsl.Hardware;
using NicBypass.Dsl.Model;
using NicBypass.Dsl.Syntax;
using NicBypass.Dsl.Values;

namespace NicBypass.Dsl.Binding;

/// <summary>
/// Binds a <c>nic</c> block. Each property of the language's table (<see cref="PropertyRules"/>)
/// that a NIC has is bound by its entry in <see cref="Binders"/>; then the values that depend on
/// the model are checked against it (NB0012, NB0015, NB0028) and defaults filled in.
/// </summary>
internal sealed class NicBinder(BindingContext context, ValueReader values, PropertyChecks properties)
{
    private ValueReader Values => values;

    /// <summary>How each NIC property is bound, keyed by the property's rule name.</summary>
    internal static readonly IReadOnlyDictionary<string, Action<NicBinder, Draft, SyntaxToken>> Binders =
        new Dictionary<string, Action<NicBinder, Draft, SyntaxToken>>(StringComparer.Ordinal)
        {
            ["model"] = (b, d, v) => b.BindModel(d, v),
            ["rx-rings"] = (b, d, v) => (d.RxRings, d.RxToken) = (b.Values.Count(v, "rx-rings"), v),
            ["tx-rings"] = (b, d, v) => (d.TxRings, d.TxToken) = (b.Values.Count(v, "tx-rings"), v),
            ["msi"] = (b, d, v) => (d.Msi, d.MsiToken) = (b.Values.Count(v, "msi"), v),
            ["mtu"] = (b, d, v) => (d.Mtu, d.MtuToken) = (b.Values.Count(v, "mtu"), v),
            ["speed"] = (b, d, v) => (d.Speed, d.SpeedToken) = (b.Values.Rate(v, "speed"), v),
            ["ring-size"] = (b, d, v) => b.BindRingSize(d, v),
            ["soft-ring-width"] = (b, d, v) => b.BindSoftRingWidth(d, v),
            ["interrupt-moderation"] = (b, d, v) => b.BindModeration(d, v),
        };

    public NicDefinition? Bind(BlockSyntax block, SyntaxToken name)
    {
        var owner = $"nic '{name.Text}'";
        var seen = new Dictionary<string, PropertySyntax>(StringComparer.Ordinal);
        var draft = new Draft();
        foreach (var property in block.Properties)
        {
            if (properties.Check(property, BlockKind.Nic, owner, seen) is not { } rule) continue;
            Binders[rule.Name](this, draft, values.Single(property));
        }

        properties.Require(block, BlockKind.Nic, seen, name, owner, "model", "model simnic-10g");
        properties.Require(block, BlockKind.Nic, seen, name, owner, "rx-rings", "rx-rings 4");
        if (draft.Model is not { } model) return null;

        var rxRings = InModelRange(draft.RxRings, draft.RxToken, "rx-rings", model.MaxRxRings, model);
        var txRings = InModelRange(draft.TxRings, draft.TxToken, "tx-rings", model.MaxTxRings, model);
        var msi = InModelRange(draft.Msi, draft.MsiToken, "msi", model.MsiVectors, model);
        var mtu = draft.Mtu;
        if (mtu is { } m && draft.MtuToken is not null && (m < 576 || m > model.MaxMtu))
        {
            context.Report(DiagnosticDescriptors.MtuOutOfRange, draft.MtuToken.Span, null, m, model.MaxMtu, model.Name);
            mtu = null;
        }
        var speed = draft.Speed;
        if (speed is { } s && draft.SpeedToken is not null && s > model.LinkSpeed)
        {
            context.Report(DiagnosticDescriptors.AllocationExceedsLink, draft.SpeedToken.Span, null,
                $"speed {s} (model {model.Name} links at {model.LinkSpeed})", model.LinkSpeed, name.Text);
            speed = null;
        }
        // Refused as past the model's most (NB0012): the NIC is still checked as if it had that
        // most, so what is wrong with its VNICs (a MAC or IP used twice, an allocation past the
        // link) is reported in the same build, not only after the ring count is fixed.
        if (rxRings is null && draft.RxRings > model.MaxRxRings) rxRings = model.MaxRxRings;
        if (rxRings is null) return null;

        return new NicDefinition(name.Text, model, rxRings.Value, txRings ?? NicDefinition.DefaultTxRings,
            draft.RingSize ?? NicDefinition.DefaultRingSize, speed ?? model.LinkSpeed, msi ?? model.MsiVectors,
            draft.SoftRingWidth ?? NicDefinition.DefaultSoftRingWidth, mtu ?? NicDefinition.DefaultMtu, context.Location(name.Span))
        {
            InterruptModerationMicroseconds = draft.Moderation ?? 0,
        };
    }

    // `interrupt-moderation 8us` (or `1ms`, or `0`: off): how long a hardware ring's first frame
    // waits for its interrupt so the frames behind it share one (ethtool's rx-usecs).
    private void BindModeration(Draft draft, SyntaxToken value)
    {
        var text = value.Text;
        if (text == "adaptive")
        {
            draft.Moderation = NicDefinition.AdaptiveInterruptModeration;
            return;
        }
        var (digits, scale) = text.EndsWith("us", StringComparison.Ordinal) ? (text.Substring(0, text.Length - 2), 1)
            : text.EndsWith("ms", StringComparison.Ordinal) ? (text.Substring(0, text.Length - 2), 1000)
            : (text, text == "0" ? 1 : 0);
        if (scale == 0 || digits.Length is 0 or > 7 || !digits.All(c => c is >= '0' and <= '9') || int.Parse(digits, System.Globalization.CultureInfo.InvariantCulture) * (long)scale > NicDefinition.MaxInterruptModerationMicroseconds)
        {
            context.Report(DiagnosticDescriptors.MalformedNumber, value.Span, null, text, "interrupt-moderation", ModerationHint(text, digits, scale));
            return;
        }
        draft.Moderation = int.Parse(digits, System.Globalization.CultureInfo.InvariantCulture) * scale;
    }

    // What to write instead, said as the likely slip is: the keyword's case, or a fraction where
    // whole units go (1.5ms is 1500us), else the forms it takes.
    private static string ModerationHint(string text, string digits, int scale)
    {
        if (string.Equals(text, "adaptive", StringComparison.OrdinalIgnoreCase)) return "did you mean 'adaptive'? (lower case)";
        if (digits.Contains('.') && scale != 0)
        {
            return scale == 1000 && decimal.TryParse(digits, System.Globalization.NumberStyles.AllowDecimalPoint, System.Globalization.CultureInfo.InvariantCulture, out var ms) && ms * 1000 == decimal.Truncate(ms * 1000)
                ? $"the file takes whole units: write {ms * 1000:0}us"
                : "the file takes a whole number of microseconds or milliseconds, e.g. 8us or 1ms";
        }
        return $"write a delay in microseconds or milliseconds up to {NicDefinition.MaxInterruptModerationMicroseconds / 1000} ms, e.g. 8us or 1ms (0: off), or 'adaptive'";
    }

    private void BindModel(Draft draft, SyntaxToken value)
    {
        draft.Model = NicModelCatalogue.Find(value.Text);
        if (draft.Model is not null) return;
        var known = NicModelCatalogue.Models.Select(m => m.Name).ToList();
        context.Report(DiagnosticDescriptors.UnknownModel, value.Span, null, value.Text, NameSuggestions.Hint(value.Text, known), string.Join(", ", known));
    }

    private void BindRingSize(Draft draft, SyntaxToken value)
    {
        draft.RingSize = values.Count(value, "ring-size");
        if (draft.RingSize is { } size && (size < 16 || size > 65536 || (size & (size - 1)) != 0))
        {
            context.Report(DiagnosticDescriptors.RingSizeInvalid, value.Span, null, size, NearestRingSize(size));
            draft.RingSize = null;
        }
    }

    private void BindSoftRingWidth(Draft draft, SyntaxToken value)
    {
        draft.SoftRingWidth = values.Count(value, "soft-ring-width");
        if (draft.SoftRingWidth is 1)
        {
            context.Report(DiagnosticDescriptors.MalformedNumber, value.Span, null, value.Text, "soft-ring-width",
                "it must be at least 2: a software ring needs one SRR for a VNIC and one to carry the next software ring");
            draft.SoftRingWidth = null;
        }
    }

    private int? InModelRange(int? value, SyntaxToken? token, string property, int max, NicModel model)
    {
        if (value is { } v && token is not null && v > max)
        {
            context.Report(DiagnosticDescriptors.RingCountOutOfRange, token.Span, null, property, v, max, model.Name);
            return null;
        }
        return value;
    }

    private static int NearestRingSize(int size)
    {
        var best = 16;
        for (var candidate = 16; candidate <= 65536; candidate <<= 1)
        {
            if (Math.Abs((long)candidate - size) < Math.Abs((long)best - size)) best = candidate;
        }
        return best;
    }

    /// <summary>A NIC while it is being bound.</summary>
    internal sealed class Draft
    {
        public NicModel? Model;
        public int? RxRings, TxRings, RingSize, Msi, SoftRingWidth, Mtu, Moderation;
        public SyntaxToken? RxToken, TxToken, MsiToken, MtuToken, SpeedToken;
        public BitRate? Speed;
    }
}
