namespace NicBypass.Generators.Models;

/// <summary>One row of the generated <c>Placement</c> table, as C# string literals.</summary>
internal sealed class PlacementTemplateModel
{
    public string Nic { get; set; } = "";
    public string Ring { get; set; } = "";
    public string Vnic { get; set; } = "";
}
