namespace NicBypass.Generators.Models;

/// <summary>What Host.scriban prints for one host: every value already formatted as C#.</summary>
internal sealed class HostTemplateModel
{
    public string SourcePath { get; set; } = "";
    public string HostName { get; set; } = "";
    public string Namespace { get; set; } = "";
    public string ClassName { get; set; } = "";
    public string Summary { get; set; } = "";
    public int Cpus { get; set; }
    public string GeneratorVersion { get; set; } = "";
    public bool LargeHost { get; set; }
    public List<PlacementTemplateModel> Placement { get; } = new();
    public List<MemberTemplateModel> Members { get; } = new();

    /// <summary>The steps laid out as the constructor's statements (assembled in C#: a host may have thousands, and a template loop per line is what made emitting slow).</summary>
    public string ConstructorBody { get; set; } = "";
    public List<LookupTemplateModel> Lookups { get; } = new();
}
