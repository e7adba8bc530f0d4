namespace NicBypass.Generators.Models;

/// <summary>One compare of a straight-line lookup: <see cref="Mac"/> (a C# constant) → rule <see cref="Index"/>.</summary>
internal sealed class LookupEntryTemplateModel
{
    public string Mac { get; set; } = "";
    public int Index { get; set; }
}
