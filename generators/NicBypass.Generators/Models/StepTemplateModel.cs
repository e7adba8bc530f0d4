namespace NicBypass.Generators.Models;

/// <summary>One build step in the generated constructor: a comment naming what it does, then one statement (over one or more lines).</summary>
internal sealed class StepTemplateModel
{
    public string Comment { get; set; } = "";
    public List<string> Lines { get; } = new();
}
