namespace NicBypass.Runtime.Classification;

/// <summary>What a <see cref="FieldCheck"/> decided for one frame.</summary>
public enum FieldVerdict
{
    /// <summary>The frame fails a field: it is not the rule's.</summary>
    NoMatch,

    /// <summary>The frame passes every field the classifier matches.</summary>
    Match,

    /// <summary>
    /// The check cannot tell from an option-less IPv4 header (IPv6, IPv4 with options, ARP, a
    /// short header, a rule that declares more than the check holds): the classifier's full
    /// filter decides.
    /// </summary>
    CheckFields,
}
