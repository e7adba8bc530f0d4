namespace NicBypass.Runtime.Classification;

/// <summary>
/// The API a driver advertises for programming a classifier (the seed's "control function to
/// program the hardware classifier"): the host adds and removes rules through it and nothing else.
/// </summary>
internal interface IClassifierProgramming
{
    ClassifierMatch Fields { get; }

    /// <summary>Most rules the classifier can hold.</summary>
    int Capacity { get; }

    IReadOnlyList<ClassifierRule> Rules { get; }

    /// <summary>Adds a rule. Throws <see cref="ClassifierFullException"/> when full, ArgumentException for a MAC already programmed.</summary>
    void Add(ClassifierRule rule);

    /// <summary>Removes the rule for <paramref name="mac"/>; false if there was none.</summary>
    bool Remove(ulong mac);

    /// <summary>Replaces the generic lookup with one specialised to the current rules (checked against them).</summary>
    void LoadLookup(IMacLookup lookup);
}
