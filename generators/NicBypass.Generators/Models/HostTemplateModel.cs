namespace NicBypass.Generators.Models;

/// <summary>What Host.scriban prints for one host: every value already formatted as C#.</summary>
internal sealed class HostTemplateModel
{
    /// <summary>The .nicdsl file's path on one line (for the header comment).</summary>
    public string SourcePath { get; set; } = "";

    /// <summary>The path escaped for the XML documentation comment (a file may be called R&amp;D.nicdsl).</summary>
    public string SourcePathXml { get; set; } = "";
    public string HostName { get; set; } = "";
    public string Namespace { get; set; } = "";
    public string ClassName { get; set; } = "";
    public string Summary { get; set; } = "";
    public int Cpus { get; set; }
    public string GeneratorVersion { get; set; } = "";
    public bool LargeHost { get; set; }

    // The parts that grow with the host are markers the emitter replaces with lines it writes
    // itself (a host may have thousands, and a template loop per line is what made emitting slow).

    /// <summary>The placement table's rows: ("nic", "ring", "vnic"),</summary>
    public string PlacementRows { get; set; } = "";

    /// <summary>A typed property per NIC, VM, container and service, each with its summary.</summary>
    public string MemberDeclarations { get; set; } = "";

    /// <summary>The build steps laid out as the constructor's statements.</summary>
    public string ConstructorBody { get; set; } = "";
    public List<LookupTemplateModel> Lookups { get; } = new();
}
