namespace NicBypass.Generators.Models;

/// <summary>A typed property of the generated host: a NIC, VM, container or service.</summary>
internal sealed class MemberTemplateModel
{
    public string Type { get; set; } = "";
    public string Name { get; set; } = "";
    public string Summary { get; set; } = "";
}
