using NicBypass.Runtime.Classification;

namespace NicBypass.Runtime.Devices;

/// <summary>What a driver advertises for the hardware classifier: the fields it matches, its entries, and the API (host only) that programs it.</summary>
public sealed class ClassifierInfo
{
    internal ClassifierInfo(ClassifierMatch fields, int entries, IClassifierProgramming program)
    {
        Fields = fields;
        Entries = entries;
        Program = program;
    }

    public ClassifierMatch Fields { get; }

    /// <summary>Most rules it holds.</summary>
    public int Entries { get; }

    /// <summary>The programming API.</summary>
    internal IClassifierProgramming Program { get; }
}
